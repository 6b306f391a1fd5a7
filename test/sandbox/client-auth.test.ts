import { randomBytes } from 'node:crypto'
import { SignJWT, importJWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { postForm, spyOnConsole, tokenEndpoint, withCodeFlow, withSandbox } from './helpers.js'

// Client authentication at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2).
const consoleSpies = spyOnConsole()
const { authorize, codeGrant } = withCodeFlow()

describe('the default tenant', () => {
  const sandbox = withSandbox()

  it('authenticates the confidential client with client_secret_post', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    expect(client.token_endpoint_auth_method).toBe('client_secret_post')
    expect(client.auth_methods).toEqual(['client_secret_post', 'client_secret_basic'])
    expect(client.client_secret).toMatch(/^[\w-]{64}$/)

    const { code, verifier } = await authorize(sandbox, client.client_id)
    const token = await postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, code, verifier),
      client_secret: client.client_secret!,
    })
    expect(token.status).toBe(200)
    expect(token.body.token_type).toBe('Bearer')
  })

  it('authenticates the confidential client with client_secret_basic', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    const { code, verifier } = await authorize(sandbox, client.client_id)
    const grant = codeGrant(client.client_id, code, verifier)
    delete grant.client_id
    // RFC 6749 §2.3.1: form-encode both parts before base64.
    const credentials = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret!)}`
    const token = await postForm(tokenEndpoint(sandbox), grant, {
      authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
    })
    expect(token.status).toBe(200)
    expect(token.body.token_type).toBe('Bearer')
  })

  it('refuses the confidential client with a wrong secret', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    const { code, verifier } = await authorize(sandbox, client.client_id)
    const token = await postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, code, verifier),
      client_secret: 'wrong',
    })
    expect(token.status).toBe(401)
    expect(token.body).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
    })
  })

  it('authenticates the private_key_jwt client with its generated key', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.privateKeyJwt)
    expect(client.auth_methods).toEqual(['private_key_jwt'])
    expect(client.client_secret).toBeUndefined()
    expect(client.private_jwk).toMatchObject({ kty: 'RSA', alg: 'RS256' })
    expect(typeof client.private_jwk!.d).toBe('string')

    const { code, verifier } = await authorize(sandbox, client.client_id)
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: client.private_jwk!.kid! })
      .setIssuer(client.client_id)
      .setSubject(client.client_id)
      .setAudience(sandbox.issuer)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomBytes(16).toString('base64url'))
      .sign(await importJWK(client.private_jwk!, 'RS256'))
    const token = await postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, code, verifier),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    })
    expect(token.status).toBe(200)
    expect(token.body.token_type).toBe('Bearer')
  })
})

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
