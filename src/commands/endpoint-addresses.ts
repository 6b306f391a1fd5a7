import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { ENDPOINTS } from '../oauth/discovery.js'
import type { AuthorizationServer } from '../oauth/discovery.js'
import { bareHost, internalAddressKind } from '../oauth/endpoint.js'
import { excerpt } from '../sanitize.js'

/** Every address a host name resolves to; an IP literal is its own. */
export type ResolveHost = (hostname: string) => Promise<string[]>

const systemResolve: ResolveHost = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address)

async function addressesOf(hostname: string, resolve: ResolveHost): Promise<string[]> {
  const host = bareHost(hostname)
  if (isIP(host) !== 0) return [host]
  // A host that does not resolve is for the request itself to report, with its own error code.
  return resolve(host).catch(() => [])
}

/**
 * security.md MD-6: an endpoint on another host than the issuer that resolves to a private,
 * link-local or loopback address is how a hostile metadata document turns `pkce` on a CI runner
 * against the cloud's metadata service or an internal network (SSRF). Each gets a warning before
 * any request reaches it, unless the issuer's own host is in the same kind of range: a company's
 * IdP on its private network, or the sandbox on loopback.
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.10
 */
export async function internalEndpointWarnings(
  as: AuthorizationServer,
  resolve: ResolveHost = systemResolve,
): Promise<string[]> {
  const issuerHost = new URL(as.issuer).hostname
  const elsewhere = ENDPOINTS.flatMap((name) => {
    const value = as[name]
    if (value === undefined) return []
    const url = new URL(value)
    return url.hostname === issuerHost ? [] : [{ name, url }]
  })
  if (elsewhere.length === 0) return []
  // Endpoints often share a host: each name is looked up once.
  const lookups = new Map<string, Promise<string[]>>()
  const addresses = (hostname: string): Promise<string[]> => {
    let found = lookups.get(hostname)
    if (found === undefined) lookups.set(hostname, (found = addressesOf(hostname, resolve)))
    return found
  }
  const issuerKinds = new Set(
    (await addresses(issuerHost)).map((address) => internalAddressKind(address)),
  )
  const warnings: string[] = []
  for (const { name, url } of elsewhere) {
    for (const address of await addresses(url.hostname)) {
      const kind = internalAddressKind(address)
      if (kind === undefined || issuerKinds.has(kind)) continue
      warnings.push(
        `${name} ${excerpt(url.href, 120)} is on ${address}, a ${kind} address, unlike the issuer: check that the metadata is the server's own`,
      )
      break
    }
  }
  return warnings
}
