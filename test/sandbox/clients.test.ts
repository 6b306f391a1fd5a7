import { calculateJwkThumbprint } from 'jose'
import { describe, expect, it } from 'vitest'
import { clientMetadata, generateRsaKey, sandboxClient } from '../../src/sandbox/clients.js'
import { LOOPBACK_REDIRECT_URIS } from '../../src/sandbox/config.js'

describe('sandboxClient()', () => {
  it('registers a public client on the loopback callbacks, with no credential', async () => {
    expect(
      await sandboxClient({ client_id: 'app', token_endpoint_auth_method: 'none' }),
    ).toStrictEqual({
      client_id: 'app',
      name: 'app',
      token_endpoint_auth_method: 'none',
      auth_methods: ['none'],
      redirect_uris: [...LOOPBACK_REDIRECT_URIS],
    })
  })

  it('gives a secret client 48 random bytes as its secret, and both secret methods', async () => {
    const client = await sandboxClient({
      client_id: 'web',
      name: 'Web App',
      token_endpoint_auth_method: 'client_secret_basic',
    })
    expect(client.auth_methods).toStrictEqual(['client_secret_post', 'client_secret_basic'])
    expect(client.client_secret).toMatch(/^[\w-]{64}$/)
    expect(client.name).toBe('Web App')
    const other = await sandboxClient({
      client_id: 'web',
      token_endpoint_auth_method: 'client_secret_basic',
    })
    expect(other.client_secret).not.toBe(client.client_secret)
  })

  it('keeps a configured secret and redirect URIs', async () => {
    const client = await sandboxClient({
      client_id: 'web',
      token_endpoint_auth_method: 'client_secret_post',
      client_secret: 's3cr:t+%',
      redirect_uris: ['https://app.test/callback'],
    })
    expect(client.client_secret).toBe('s3cr:t+%')
    expect(client.redirect_uris).toStrictEqual(['https://app.test/callback'])
  })

  it('generates a private_key_jwt client’s key pair, or takes the public keys it was given', async () => {
    const generated = await sandboxClient({
      client_id: 'keyed',
      token_endpoint_auth_method: 'private_key_jwt',
    })
    expect(generated.client_secret).toBeUndefined()
    expect(generated.auth_methods).toStrictEqual(['private_key_jwt'])
    expect(typeof generated.private_jwk?.d).toBe('string')
    const { d, p, q, dp, dq, qi, ...publicMembers } = generated.private_jwk!
    expect([d, p, q, dp, dq, qi].every((member) => typeof member === 'string')).toBe(true)
    expect(generated.jwks).toStrictEqual({ keys: [publicMembers] })

    const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] }
    const given = await sandboxClient({
      client_id: 'keyed',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
    })
    expect(given.private_jwk).toBeUndefined()
    expect(given.jwks).toBe(jwks)
  })
})

describe('clientMetadata()', () => {
  it('registers a native code-flow client, DPoP-bound when the tenant requires DPoP', async () => {
    const client = await sandboxClient({
      client_id: 'web',
      name: 'Web App',
      token_endpoint_auth_method: 'client_secret_post',
      client_secret: 'secret',
    })
    expect(clientMetadata(client, true, ['payment_initiation'])).toStrictEqual({
      client_id: 'web',
      client_name: 'Web App',
      application_type: 'native',
      redirect_uris: [...LOOPBACK_REDIRECT_URIS],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      dpop_bound_access_tokens: true,
      authorization_details_types: ['payment_initiation'],
      client_secret: 'secret',
    })
  })

  it('carries the public keys of a private_key_jwt client, and no secret', async () => {
    const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }
    const client = await sandboxClient({
      client_id: 'keyed',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
    })
    const metadata = clientMetadata(client, false, [])
    expect(metadata.jwks).toBe(jwks)
    expect(metadata.dpop_bound_access_tokens).toBe(false)
    expect(metadata).not.toHaveProperty('client_secret')
  })
})

describe('generateRsaKey()', () => {
  it('makes a 2048-bit RS256 signing key whose kid is its RFC 7638 thumbprint', async () => {
    const { privateJwk, publicJwk } = await generateRsaKey()
    expect(Object.keys(publicJwk).sort()).toStrictEqual(['alg', 'e', 'kid', 'kty', 'n', 'use'])
    expect(publicJwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' })
    // 2048-bit modulus: 256 octets, 342 base64url characters
    expect(publicJwk.n).toHaveLength(342)
    expect(publicJwk.kid).toBe(await calculateJwkThumbprint(publicJwk))
    expect(privateJwk).toMatchObject({ ...publicJwk, d: expect.any(String) as unknown })
  })
})
