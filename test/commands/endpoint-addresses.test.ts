import { describe, expect, it } from 'vitest'
import { internalEndpointWarnings } from '../../src/commands/endpoint-addresses.js'
import type { ResolveHost } from '../../src/commands/endpoint-addresses.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'

const server = (
  issuer: string,
  endpoints: Partial<AuthorizationServer> = {},
): AuthorizationServer => ({
  issuer,
  authorization_endpoint: `${issuer}authorize`,
  token_endpoint: `${issuer}oauth/token`,
  jwks_uri: `${issuer}.well-known/jwks.json`,
  ...endpoints,
})

/** A resolver over a fixed table that records each name it was asked for. */
function resolver(table: Record<string, string[]>): ResolveHost & { asked: string[] } {
  const asked: string[] = []
  const resolve = (hostname: string): Promise<string[]> => {
    asked.push(hostname)
    const addresses = table[hostname]
    return addresses === undefined
      ? Promise.reject(new Error(`getaddrinfo ENOTFOUND ${hostname}`))
      : Promise.resolve(addresses)
  }
  return Object.assign(resolve, { asked })
}

describe('internalEndpointWarnings() (security.md MD-6)', () => {
  it('resolves nothing when every endpoint is on the issuer host', async () => {
    const resolve = resolver({})
    expect(await internalEndpointWarnings(server('https://acme.eu.auth0.com/'), resolve)).toEqual(
      [],
    )
    expect(resolve.asked).toEqual([])
  })

  it('warns for endpoints on another host that resolves to a private address, looking it up once', async () => {
    const resolve = resolver({
      'acme.eu.auth0.com': ['104.18.1.1'],
      'keys.internal.example': ['203.0.113.9', '10.1.2.3'],
    })
    const as = server('https://acme.eu.auth0.com/', {
      jwks_uri: 'https://keys.internal.example/jwks.json',
      userinfo_endpoint: 'https://keys.internal.example/userinfo',
    })
    expect(await internalEndpointWarnings(as, resolve)).toEqual([
      "jwks_uri https://keys.internal.example/jwks.json is on 10.1.2.3, a private address, unlike the issuer: check that the metadata is the server's own",
      "userinfo_endpoint https://keys.internal.example/userinfo is on 10.1.2.3, a private address, unlike the issuer: check that the metadata is the server's own",
    ])
    // Two endpoints on one host: one lookup.
    expect(resolve.asked).toEqual(['acme.eu.auth0.com', 'keys.internal.example'])
  })

  it('warns for a link-local or loopback IP literal without asking DNS for it', async () => {
    const resolve = resolver({ 'acme.eu.auth0.com': ['104.18.1.1'] })
    const as = server('https://acme.eu.auth0.com/', {
      token_endpoint: 'https://169.254.169.254/latest/meta-data/',
      userinfo_endpoint: 'https://[::1]:8443/userinfo',
    })
    expect(await internalEndpointWarnings(as, resolve)).toEqual([
      "token_endpoint https://169.254.169.254/latest/meta-data/ is on 169.254.169.254, a link-local address, unlike the issuer: check that the metadata is the server's own",
      "userinfo_endpoint https://[::1]:8443/userinfo is on ::1, a loopback address, unlike the issuer: check that the metadata is the server's own",
    ])
    expect(resolve.asked).toEqual(['acme.eu.auth0.com'])
  })

  it('leaves an issuer in the same kind of range alone: a private IdP, the loopback sandbox', async () => {
    const privateIdp = resolver({ 'sso.corp': ['10.0.0.5'], 'keys.corp': ['10.0.0.6'] })
    const corp = server('https://sso.corp/', { jwks_uri: 'https://keys.corp/jwks' })
    expect(await internalEndpointWarnings(corp, privateIdp)).toEqual([])
    const sandbox = server('https://127.0.0.1:4000/', {
      token_endpoint: 'https://localhost:4000/oauth/token',
    })
    expect(
      await internalEndpointWarnings(sandbox, resolver({ localhost: ['::1', '127.0.0.1'] })),
    ).toEqual([])
  })

  it('a loopback issuer still gets a warning for a link-local endpoint', async () => {
    const as = server('http://127.0.0.1:4000/', {
      revocation_endpoint: 'https://169.254.169.254/revoke',
    })
    expect(await internalEndpointWarnings(as, resolver({}))).toEqual([
      "revocation_endpoint https://169.254.169.254/revoke is on 169.254.169.254, a link-local address, unlike the issuer: check that the metadata is the server's own",
    ])
  })

  it('a host that does not resolve is left to the request to report', async () => {
    const resolve = resolver({ 'acme.eu.auth0.com': ['104.18.1.1'] })
    const as = server('https://acme.eu.auth0.com/', { jwks_uri: 'https://nowhere.invalid/jwks' })
    expect(await internalEndpointWarnings(as, resolve)).toEqual([])
    expect(resolve.asked).toEqual(['acme.eu.auth0.com', 'nowhere.invalid'])
  })
})
