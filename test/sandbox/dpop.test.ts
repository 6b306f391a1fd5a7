import { decodeJwt, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { DEFAULT_AUDIENCE, DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import {
  authorizationUrl,
  codeFlowParams,
  codeFrom,
  createDpopKey,
  createPkce,
  dpopProof,
  postForm,
  spyOnConsole,
  tokenEndpoint,
  withCodeFlow,
  withSandbox,
} from './helpers.js'

// DPoP (RFC 9449): sender-constrained tokens, dpop_jkt and server nonces.
const consoleSpies = spyOnConsole()
const { callback, authorize, codeGrant } = withCodeFlow()

describe('a tenant that requires DPoP', () => {
  const sandbox = withSandbox({ requireDpop: true })

  it('refuses a token request without a DPoP proof', async () => {
    const { code, verifier } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public)
    const token = await postForm(
      tokenEndpoint(sandbox),
      codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier),
    )
    expect(token.status).toBe(400)
    expect(token.body).toEqual({
      error: 'invalid_grant',
      error_description: 'grant request is invalid',
    })
  })

  it('binds the access token to the proof key (cnf.jkt), with dpop_jkt at /authorize', async () => {
    const key = await createDpopKey()
    const { code, verifier } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public, {
      audience: DEFAULT_AUDIENCE,
      scope: 'openid read:messages',
      dpop_jkt: key.thumbprint,
    })
    const token = await postForm(
      tokenEndpoint(sandbox),
      codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier),
      {
        dpop: await dpopProof(key, 'POST', tokenEndpoint(sandbox)),
      },
    )
    expect(token.status).toBe(200)
    expect(token.body.token_type).toBe('DPoP')
    expect(decodeJwt(token.body.access_token as string).cnf).toEqual({ jkt: key.thumbprint })
    expect(decodeProtectedHeader(token.body.access_token as string).typ).toBe('at+jwt')
  })

  it('takes dpop_jkt in a pushed authorization request', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    const key = await createDpopKey()
    const pkce = createPkce()
    const par = await postForm(`${sandbox.url}/oauth/par`, {
      ...codeFlowParams(client.client_id, callback.redirectUri, pkce, { dpop_jkt: key.thumbprint }),
      client_secret: client.client_secret!,
    })
    expect(par.status).toBe(201)
    const result = await driveAuthorization(
      authorizationUrl(sandbox, {
        client_id: client.client_id,
        request_uri: par.body.request_uri as string,
      }),
    )
    const grant = {
      ...codeGrant(client.client_id, codeFrom(result.callbackUrl), pkce.verifier),
      client_secret: client.client_secret!,
    }
    const wrongKey = await postForm(tokenEndpoint(sandbox), grant, {
      dpop: await dpopProof(await createDpopKey(), 'POST', tokenEndpoint(sandbox)),
    })
    expect(wrongKey.status).toBe(400)
    expect(wrongKey.body.error).toBe('invalid_grant')
  })

  it('refuses a proof from another key than dpop_jkt named', async () => {
    const key = await createDpopKey()
    const { code, verifier } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public, {
      dpop_jkt: key.thumbprint,
    })
    const token = await postForm(
      tokenEndpoint(sandbox),
      codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier),
      {
        dpop: await dpopProof(await createDpopKey(), 'POST', tokenEndpoint(sandbox)),
      },
    )
    expect(token.status).toBe(400)
    expect(token.body.error).toBe('invalid_grant')
  })
})

describe('a tenant that requires DPoP nonces', () => {
  const sandbox = withSandbox({ dpopNonce: true })

  it('answers use_dpop_nonce with a DPoP-Nonce header, then accepts the retry', async () => {
    const key = await createDpopKey()
    const { code, verifier } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public)
    const grant = codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier)

    const first = await postForm(tokenEndpoint(sandbox), grant, {
      dpop: await dpopProof(key, 'POST', tokenEndpoint(sandbox)),
    })
    expect(first.status).toBe(400)
    expect(first.body).toEqual({
      error: 'use_dpop_nonce',
      error_description: 'nonce is required in the DPoP proof',
    })
    const nonce = first.headers.get('dpop-nonce')
    expect(nonce).toMatch(/^[\w-]{43}$/)

    const retry = await postForm(tokenEndpoint(sandbox), grant, {
      dpop: await dpopProof(key, 'POST', tokenEndpoint(sandbox), nonce!),
    })
    expect(retry.status).toBe(200)
    expect(retry.body.token_type).toBe('DPoP')
  })
})

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
