import { BlockList, isIP } from 'node:net'
import { CliError } from '../errors.js'

/** A URL's `hostname` without the brackets of an IPv6 literal (`[::1]` → `::1`). */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/gu, '')
}

/** 127.0.0.0/8, ::1 and `localhost`: the hosts plain `http` may reach (security.md HC-4, TL-3). */
export function isLoopbackHost(hostname: string): boolean {
  const host = bareHost(hostname).toLowerCase()
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

/**
 * A server URL the user gave in `flag`: `https:`, or `http:` to a loopback host only
 * (docs/security.md HC-4, TL-3).
 */
export function checkedServerUrl(value: string, flag: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new CliError('usage_error', `${flag} ${value} is not a URL`)
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new CliError(
      'insecure_not_loopback',
      `${flag}: plain http is only accepted for a loopback host, not ${url.host}`,
      { hint: 'use https' },
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CliError('usage_error', `${flag} must be an https URL, not ${url.protocol}`)
  }
  return url
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

/** Address ranges an Internet-facing authorization server has no business pointing at. */
const INTERNAL_RANGES: [string, number, 'ipv4' | 'ipv6', InternalAddressKind][] = [
  // RFC 1918 private networks, and RFC 6598 shared space (cloud metadata lives there too).
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'private'],
  // RFC 3927 link-local: 169.254.169.254 is the instance metadata service of most clouds.
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  // RFC 4193 unique local, RFC 4291 link-local and loopback.
  ['fc00::', 7, 'ipv6', 'private'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['::1', 128, 'ipv6', 'loopback'],
]

export type InternalAddressKind = 'private' | 'link-local' | 'loopback'

const RANGES = new Map<InternalAddressKind, BlockList>()
for (const [network, prefix, type, kind] of INTERNAL_RANGES) {
  let list = RANGES.get(kind)
  if (list === undefined) RANGES.set(kind, (list = new BlockList()))
  list.addSubnet(network, prefix, type)
}

/**
 * Which internal range an IP address is in, if any (security.md MD-6). BlockList matches an
 * IPv4-mapped IPv6 address (`::ffff:a9fe:a9fe`) against the IPv4 ranges itself.
 */
export function internalAddressKind(address: string): InternalAddressKind | undefined {
  const type = isIP(address) === 4 ? 'ipv4' : isIP(address) === 6 ? 'ipv6' : undefined
  if (type === undefined) return undefined
  for (const [kind, list] of RANGES) if (list.check(address, type)) return kind
  return undefined
}
