import { decodeJwt, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { DEFAULT_AUDIENCE, DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import {
  USER_SUB,
  callbackQuery,
  jwks,
  postForm,
  spyOnConsole,
  tokenEndpoint,
  withCodeFlow,
  withSandbox,
} from './helpers.js'

// Auth0's `audience` (RFC 8707 resource indicators) and `organization` parameters.
const consoleSpies = spyOnConsole()
const { authorize, codeFlow, codeGrant } = withCodeFlow()

describe('the default tenant', () => {
  const sandbox = withSandbox()

  it('issues a JWT access token for an audience, with Auth0 claims', async () => {
    const { code, verifier } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public, {
      audience: DEFAULT_AUDIENCE,
      scope: 'openid read:messages',
    })
    const token = await postForm(
      tokenEndpoint(sandbox),
      codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier),
    )
    expect(token.status).toBe(200)
    expect(token.body.scope).toBe('read:messages')

    const { payload, protectedHeader } = await jwtVerify(
      token.body.access_token as string,
      await jwks(sandbox),
      { issuer: sandbox.issuer, audience: DEFAULT_AUDIENCE, typ: 'at+jwt' },
    )
    expect(protectedHeader.alg).toBe('RS256')
    const { iat, exp, jti, ...claims } = payload
    expect(claims).toEqual({
      iss: sandbox.issuer,
      sub: USER_SUB,
      aud: DEFAULT_AUDIENCE,
      azp: DEFAULT_CLIENT_IDS.public,
      client_id: DEFAULT_CLIENT_IDS.public,
      scope: 'read:messages',
      permissions: ['read:messages'],
    })
    expect(exp! - iat!).toBe(86400)
    expect(typeof jti).toBe('string')
  })

  it('sends access_denied for an unknown audience, as Auth0 does', async () => {
    const query = await callbackQuery(
      sandbox,
      codeFlow(DEFAULT_CLIENT_IDS.public, { audience: 'https://unknown.test/' }),
    )
    expect(query).toEqual({
      error: 'access_denied',
      error_description: 'Service not found: https://unknown.test/',
      state: 'state-123',
      iss: sandbox.issuer,
    })
  })

  it.each(['acme', 'org_sandbox123'])(
    'puts org_id and org_name in both tokens for organization=%s',
    async (organization) => {
      const { code, verifier } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public, {
        audience: DEFAULT_AUDIENCE,
        scope: 'openid read:messages write:messages',
        organization,
      })
      const token = await postForm(
        tokenEndpoint(sandbox),
        codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier),
      )
      expect(token.status).toBe(200)
      const idToken = decodeJwt(token.body.id_token as string)
      expect([idToken.org_id, idToken.org_name]).toEqual(['org_sandbox123', 'acme'])
      const accessToken = decodeJwt(token.body.access_token as string)
      expect([accessToken.org_id, accessToken.org_name]).toEqual(['org_sandbox123', 'acme'])
      expect(accessToken.permissions).toEqual(['read:messages', 'write:messages'])
    },
  )

  it('rejects an unknown organization like Auth0', async () => {
    const query = await callbackQuery(
      sandbox,
      codeFlow(DEFAULT_CLIENT_IDS.public, { organization: 'org_unknown' }),
    )
    expect(query).toEqual({
      error: 'invalid_request',
      error_description: 'parameter organization is invalid',
      state: 'state-123',
      iss: sandbox.issuer,
    })
  })
})

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
