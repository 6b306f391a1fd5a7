import { decodeJwt, jwtVerify } from 'jose'
import { request } from 'undici'
import { describe, expect, it } from 'vitest'
import { DEFAULT_AUDIENCE, DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import { subjectFor } from '../../src/sandbox/users.js'
import {
  USER_SUB,
  authorizationUrl,
  callbackQuery,
  codeFlowParams,
  codeFrom,
  createPkce,
  jwks,
  postForm,
  spyOnConsole,
  tokenEndpoint,
  withCodeFlow,
  withSandbox,
} from './helpers.js'

// The authorization code flow with PKCE: the front channel, the code exchange, the ID token and
// /userinfo, refresh tokens and the loopback redirect URIs.
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

const consoleSpies = spyOnConsole()
const { callback, authorize, codeFlow, codeGrant } = withCodeFlow()

describe('the default tenant', () => {
  const sandbox = withSandbox()

  it('runs the code flow for the public client, with the profile in the ID token', async () => {
    const { code, verifier, callbackUrl } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public)
    expect(callbackUrl.origin + callbackUrl.pathname).toBe(callback.redirectUri)
    expect(callbackUrl.searchParams.get('state')).toBe('state-123')
    expect(callbackUrl.searchParams.get('iss')).toBe(sandbox.issuer)

    const token = await postForm(
      tokenEndpoint(sandbox),
      codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier),
    )
    expect(token.status).toBe(200)
    expect(token.headers.get('cache-control')).toBe('no-store')
    expect(Object.keys(token.body).sort()).toEqual([
      'access_token',
      'expires_in',
      'id_token',
      'scope',
      'token_type',
    ])
    expect(token.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 86400,
      scope: 'openid profile email',
    })
    // Without an audience the access token is opaque, as Auth0's /userinfo tokens are.
    expect((token.body.access_token as string).split('.')).toHaveLength(1)

    const { payload, protectedHeader } = await jwtVerify(
      token.body.id_token as string,
      await jwks(sandbox),
      {
        issuer: sandbox.issuer,
        audience: DEFAULT_CLIENT_IDS.public,
      },
    )
    expect(protectedHeader.alg).toBe('RS256')
    const { iat, exp, at_hash: atHash, updated_at: updatedAt, ...claims } = payload
    expect(claims).toEqual({
      iss: sandbox.issuer,
      aud: DEFAULT_CLIENT_IDS.public,
      sub: USER_SUB,
      email: 'user@sandbox.test',
      email_verified: true,
      name: 'Sandbox User',
      nickname: 'user',
    })
    expect(exp! - iat!).toBe(36000)
    expect(typeof atHash).toBe('string')
    expect(updatedAt).toMatch(ISO_TIME)

    const userinfo = await request(`${sandbox.url}/userinfo`, {
      headers: { authorization: `Bearer ${token.body.access_token as string}` },
    })
    expect(userinfo.statusCode).toBe(200)
    expect(await userinfo.body.json()).toEqual({
      sub: USER_SUB,
      email: 'user@sandbox.test',
      email_verified: true,
      name: 'Sandbox User',
      nickname: 'user',
      updated_at: updatedAt,
    })
  })

  it('derives sub from the username, auth0| and 24 hex digits', () => {
    expect(subjectFor('user@sandbox.test')).toBe(USER_SUB)
    expect(sandbox.users).toEqual([
      {
        username: 'user@sandbox.test',
        sub: USER_SUB,
        email: 'user@sandbox.test',
        name: 'Sandbox User',
      },
    ])
  })

  it('makes up an email for a username without @', async () => {
    const pkce = createPkce()
    const result = await driveAuthorization(
      authorizationUrl(
        sandbox,
        codeFlowParams(DEFAULT_CLIENT_IDS.public, callback.redirectUri, pkce),
      ),
      { username: 'alice', password: 'x' },
    )
    const token = await postForm(
      tokenEndpoint(sandbox),
      codeGrant(DEFAULT_CLIENT_IDS.public, codeFrom(result.callbackUrl), pkce.verifier),
    )
    expect(decodeJwt(token.body.id_token as string)).toMatchObject({
      sub: subjectFor('alice'),
      email: 'alice@sandbox.test',
      email_verified: true,
      name: 'alice',
      nickname: 'alice',
    })
  })

  it('requires PKCE with S256', async () => {
    const params = codeFlow(DEFAULT_CLIENT_IDS.public)
    const withoutPkce: Record<string, string> = Object.fromEntries(
      Object.entries(params).filter(([name]) => !name.startsWith('code_challenge')),
    )
    expect(await callbackQuery(sandbox, withoutPkce)).toEqual({
      error: 'invalid_request',
      error_description: 'Authorization Server policy requires PKCE to be used for this request',
      state: 'state-123',
      iss: sandbox.issuer,
    })
    expect(await callbackQuery(sandbox, { ...params, code_challenge_method: 'plain' })).toEqual({
      error: 'invalid_request',
      error_description: 'not supported value of code_challenge_method',
      state: 'state-123',
      iss: sandbox.issuer,
    })
  })

  it('rejects a wrong code_verifier', async () => {
    const { code } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public)
    const token = await postForm(
      tokenEndpoint(sandbox),
      codeGrant(DEFAULT_CLIENT_IDS.public, code, createPkce().verifier),
    )
    expect(token.status).toBe(400)
    expect(token.body).toEqual({
      error: 'invalid_grant',
      error_description: 'grant request is invalid',
    })
  })

  it('issues a refresh token for offline_access without prompt=consent, and honours it', async () => {
    const { code, verifier } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public, {
      scope: 'openid offline_access read:messages',
      audience: DEFAULT_AUDIENCE,
    })
    const token = await postForm(
      tokenEndpoint(sandbox),
      codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier),
    )
    expect(token.status).toBe(200)
    expect(typeof token.body.refresh_token).toBe('string')

    const refreshed = await postForm(tokenEndpoint(sandbox), {
      grant_type: 'refresh_token',
      refresh_token: token.body.refresh_token as string,
      client_id: DEFAULT_CLIENT_IDS.public,
    })
    expect(refreshed.status).toBe(200)
    expect(refreshed.body.scope).toBe('read:messages')
    expect(decodeJwt(refreshed.body.access_token as string)).toMatchObject({
      aud: DEFAULT_AUDIENCE,
      permissions: ['read:messages'],
    })
  })

  it('issues no refresh token without offline_access', async () => {
    const { code, verifier } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public)
    const token = await postForm(
      tokenEndpoint(sandbox),
      codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier),
    )
    expect(token.body).not.toHaveProperty('refresh_token')
  })

  it('accepts any loopback port on the registered callback paths (RFC 8252 §7.3)', async () => {
    const attempt = async (redirectUri: string) => {
      const response = await request(
        authorizationUrl(
          sandbox,
          codeFlowParams(DEFAULT_CLIENT_IDS.public, redirectUri, createPkce()),
        ),
        { headers: { accept: 'text/html' } },
      )
      await response.body.dump()
      const location = response.headers.location
      return `${response.statusCode} ${typeof location === 'string' ? location.replace(/[\w-]+$/, ':uid') : ''}`
    }
    expect(await attempt('http://127.0.0.1:8484/callback')).toBe('303 /u/login/:uid')
    expect(await attempt('http://localhost:3000/callback')).toBe('303 /u/login/:uid')
    expect(await attempt('http://[::1]:50123/callback')).toBe('303 /u/login/:uid')
    expect(await attempt('http://localhost:8484')).toBe('303 /u/login/:uid')
    expect(await attempt('http://127.0.0.1:8484/elsewhere')).toBe('400 ')
    expect(await attempt('https://127.0.0.1:8484/callback')).toBe('400 ')
  })

  it('revokes the tokens of a code used twice', async () => {
    const { code, verifier } = await authorize(sandbox, DEFAULT_CLIENT_IDS.public)
    const grant = codeGrant(DEFAULT_CLIENT_IDS.public, code, verifier)
    const first = await postForm(tokenEndpoint(sandbox), grant)
    expect(first.status).toBe(200)
    const userinfo = () =>
      request(`${sandbox.url}/userinfo`, {
        headers: { authorization: `Bearer ${first.body.access_token as string}` },
      }).then(async (response) => {
        await response.body.dump()
        return response.statusCode
      })
    expect(await userinfo()).toBe(200)

    const second = await postForm(tokenEndpoint(sandbox), grant)
    expect(second.status).toBe(400)
    expect(second.body).toEqual({
      error: 'invalid_grant',
      error_description: 'grant request is invalid',
    })
    expect(await userinfo()).toBe(401)
  })
})

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
