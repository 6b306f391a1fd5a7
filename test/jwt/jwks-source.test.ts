import { generateKeyPairSync } from 'node:crypto'
import type { JSONWebKeySet } from 'jose'
import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { cachedJwks, fetchIssuerJwks, issuerKeys } from '../../src/jwt/jwks-source.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'
import type { Http, HttpRequest } from '../../src/oauth/http.js'

const NO_JWKS_URI: AuthorizationServer = {
  issuer: 'https://as.example/',
  authorization_endpoint: 'https://as.example/authorize',
  token_endpoint: 'https://as.example/oauth/token',
}
const AS: AuthorizationServer = {
  ...NO_JWKS_URI,
  jwks_uri: 'https://as.example/.well-known/jwks.json',
}

const PUBLIC_KEY = {
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  kid: 'k1',
}

/** An Http that answers every request with the JWKS (plus a private key it must drop) and logs it. */
function jwksServer(log: string[]): Http {
  return (request: HttpRequest) => {
    log.push(`${request.method} ${request.url.href} (${request.stage})`)
    const body = { keys: [PUBLIC_KEY, { ...PUBLIC_KEY, kid: 'k2', d: 'secret' }] }
    return Promise.resolve(
      new Response(JSON.stringify(body), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      }),
    )
  }
}

describe('cachedJwks()', () => {
  it('security.md HC-5: one load however many ask, and at most one reload in the run', async () => {
    let loads = 0
    const source = cachedJwks(() => {
      loads++
      return Promise.resolve<JSONWebKeySet>({ keys: [{ kty: 'EC', kid: `load ${loads}` }] })
    })
    const [first, second] = await Promise.all([source(false), source(false)])
    expect([loads, first, second === first]).toEqual([
      1,
      { keys: [{ kty: 'EC', kid: 'load 1' }] },
      true,
    ])
    expect((await source(true)).keys[0]?.kid).toBe('load 2')
    expect((await source(true)).keys[0]?.kid).toBe('load 2')
    expect((await source(false)).keys[0]?.kid).toBe('load 2')
    expect(loads).toBe(2)
  })
})

describe('fetchIssuerJwks()', () => {
  it('https://www.rfc-editor.org/rfc/rfc8414#section-2 GETs jwks_uri, tells onFetch first, drops private keys', async () => {
    const log: string[] = []
    const jwks = await fetchIssuerJwks(AS, jwksServer(log), (uri) => log.push(`onFetch ${uri}`))
    expect(log).toEqual([
      'onFetch https://as.example/.well-known/jwks.json',
      'GET https://as.example/.well-known/jwks.json (validate)',
    ])
    expect(jwks).toEqual({ keys: [PUBLIC_KEY] })
  })

  it('metadata without jwks_uri: metadata_invalid, and no request', async () => {
    const log: string[] = []
    const error = (await fetchIssuerJwks(NO_JWKS_URI, jwksServer(log), (uri) =>
      log.push(uri),
    ).catch((caught: unknown) => caught)) as CliError
    expect([error.code, error.message, error.stage, error.exitCode]).toEqual([
      'metadata_invalid',
      'the metadata has no jwks_uri, so tokens cannot be verified',
      'validate',
      4,
    ])
    expect(log).toEqual([])
  })
})

describe('issuerKeys()', () => {
  it('fetches on first use, not before; one refetch at most', async () => {
    const log: string[] = []
    const keys = issuerKeys(AS, jwksServer(log))
    expect(log).toEqual([])
    await keys(false)
    await keys(false)
    await keys(true)
    await keys(true)
    expect(log).toEqual([
      'GET https://as.example/.well-known/jwks.json (validate)',
      'GET https://as.example/.well-known/jwks.json (validate)',
    ])
  })

  it('the missing jwks_uri surfaces when the keys are first needed', async () => {
    const keys = issuerKeys(NO_JWKS_URI, jwksServer([]))
    await expect(keys(false)).rejects.toMatchObject({ code: 'metadata_invalid' })
  })
})
