import { isIP } from 'node:net'

/** 127.0.0.0/8, ::1 and `localhost`: the hosts plain `http` may reach (security.md HC-4, TL-3). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/gu, '').toLowerCase()
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

/**
 * Whether a server-supplied endpoint may be used: `https:`, or `http:` to a loopback host when the
 * issuer itself is loopback `http` (security.md HC-4, AR-2).
 */
export function endpointProblem(value: string, issuer: URL): string | undefined {
  if (value.startsWith('-')) return 'it starts with "-"'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'it is not an absolute URL'
  }
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:' && issuer.protocol === 'http:') {
    return isLoopbackHost(url.hostname)
      ? undefined
      : `plain http is only allowed to a loopback host, not ${url.host}`
  }
  return `its scheme "${url.protocol}" is not https`
}
