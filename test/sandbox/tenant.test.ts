import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:net'
import { connect } from 'node:net'
import {
  SignJWT,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
} from 'jose'
import type { JSONWebKeySet } from 'jose'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_AUDIENCE,
  DEFAULT_CLIENT_IDS,
  defaultSandboxConfig,
} from '../../src/sandbox/config.js'
import { driveAuthorization, type DriveOptions } from '../../src/sandbox/scripted-agent.js'
import { startSandbox, subjectFor, type Sandbox } from '../../src/sandbox/tenant.js'
import {
  CALLBACK_BODY,
  authorizationUrl,
  codeFlowParams,
  codeFrom,
  createDpopKey,
  createPkce,
  dpopProof,
  getJson,
  postForm,
  requestLines,
  startCallbackListener,
  tokenEndpoint,
  type CallbackListener,
} from './helpers.js'

const USER_SUB = 'auth0|6d02167bbb656aab8218abfb'
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

let callback: CallbackListener
const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
  vi.spyOn(console, method),
)

beforeAll(async () => {
  callback = await startCallbackListener()
})

afterAll(async () => {
  await callback.close()
})

/** Runs the front channel with the scripted agent and returns the authorization code. */
async function authorize(
  sandbox: Sandbox,
  clientId: string,
  extra: Record<string, string> = {},
): Promise<{ code: string; verifier: string; callbackUrl: URL }> {
  const pkce = createPkce()
  const result = await driveAuthorization(
    authorizationUrl(sandbox, codeFlowParams(clientId, callback.redirectUri, pkce, extra)),
  )
  expect(result.status).toBe(200)
  expect(result.body).toBe(CALLBACK_BODY)
  return {
    code: codeFrom(result.callbackUrl),
    verifier: pkce.verifier,
    callbackUrl: new URL(result.callbackUrl),
  }
}

/** Runs the front channel and returns the query of the callback it ended on. */
async function callbackQuery(
  sandbox: Sandbox,
  params: Record<string, string>,
  options: DriveOptions = {},
): Promise<Record<string, string>> {
  const result = await driveAuthorization(authorizationUrl(sandbox, params), options)
  expect(result.status).toBe(200)
  return Object.fromEntries(new URL(result.callbackUrl).searchParams)
}

const codeFlow = (clientId: string, extra: Record<string, string> = {}) =>
  codeFlowParams(clientId, callback.redirectUri, createPkce(), extra)

function codeGrant(clientId: string, code: string, verifier: string): Record<string, string> {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: callback.redirectUri,
    client_id: clientId,
    code_verifier: verifier,
  }
}

async function jwks(sandbox: Sandbox) {
  const { body } = await getJson(`${sandbox.url}/.well-known/jwks.json`)
  return createLocalJWKSet(body as unknown as JSONWebKeySet)
}

describe('the default tenant', () => {
  let sandbox: Sandbox
  const logLines: string[] = []

  beforeAll(async () => {
    sandbox = await startSandbox({ log: (line) => logLines.push(line) })
  })

  afterAll(async () => {
    await sandbox.close()
  })

  it('exposes an Auth0-shaped issuer, domain and url', () => {
    expect(sandbox.issuer).toBe(`http://127.0.0.1:${sandbox.port}/`)
    expect(sandbox.domain).toBe(`127.0.0.1:${sandbox.port}`)
    expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}`)
    expect(sandbox.port).toBeGreaterThan(0)
  })

  it('serves discovery with the trailing-slash issuer and Auth0 endpoint paths', async () => {
    const { status, body } = await getJson(`${sandbox.url}/.well-known/openid-configuration`)
    expect(status).toBe(200)
    const url = sandbox.url
    expect(body).toMatchObject({
      issuer: sandbox.issuer,
      authorization_endpoint: `${url}/authorize`,
      token_endpoint: `${url}/oauth/token`,
      pushed_authorization_request_endpoint: `${url}/oauth/par`,
      jwks_uri: `${url}/.well-known/jwks.json`,
      userinfo_endpoint: `${url}/userinfo`,
      revocation_endpoint: `${url}/oauth/revoke`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      token_endpoint_auth_methods_supported: [
        'none',
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
      id_token_signing_alg_values_supported: ['RS256'],
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      authorization_details_types_supported: ['payment_initiation'],
      authorization_response_iss_parameter_supported: true,
    })
    expect(body).not.toHaveProperty('require_pushed_authorization_requests')
    expect(body).not.toHaveProperty('end_session_endpoint')
  })

  it('publishes one public RS256 signing key', async () => {
    const { status, body } = await getJson(`${sandbox.url}/.well-known/jwks.json`)
    expect(status).toBe(200)
    const keys = body.keys as Record<string, unknown>[]
    expect(keys).toHaveLength(1)
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use'])
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' })
    // 2048-bit modulus: 256 octets, 342 base64url characters
    expect((keys[0]!.n as string).length).toBe(342)
  })

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

  it('pushes authorization requests for the confidential client with Auth0 lifetime', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    const pkce = createPkce()
    const par = await postForm(`${sandbox.url}/oauth/par`, {
      ...codeFlowParams(client.client_id, callback.redirectUri, pkce, {
        scope: 'openid offline_access read:messages',
        audience: DEFAULT_AUDIENCE,
        organization: 'acme',
      }),
      client_secret: client.client_secret!,
    })
    expect(par.status).toBe(201)
    expect(Object.keys(par.body).sort()).toEqual(['expires_in', 'request_uri'])
    expect(par.body.expires_in).toBe(30)
    expect(par.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:[\w-]+$/)

    const result = await driveAuthorization(
      authorizationUrl(sandbox, {
        client_id: client.client_id,
        request_uri: par.body.request_uri as string,
      }),
    )
    const token = await postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, codeFrom(result.callbackUrl), pkce.verifier),
      client_secret: client.client_secret!,
    })
    expect(token.status).toBe(200)
    expect(typeof token.body.refresh_token).toBe('string')
    expect(decodeJwt(token.body.access_token as string)).toMatchObject({
      aud: DEFAULT_AUDIENCE,
      org_id: 'org_sandbox123',
      permissions: ['read:messages'],
    })
  })

  it('keeps a request_uri for 30 seconds', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    const push = async () => {
      const par = await postForm(`${sandbox.url}/oauth/par`, {
        ...codeFlow(client.client_id),
        client_secret: client.client_secret!,
      })
      return authorizationUrl(sandbox, {
        client_id: client.client_id,
        request_uri: par.body.request_uri as string,
      })
    }
    const follow = async (url: string) => {
      const response = await request(url)
      await response.body.dump()
      return `${response.statusCode} ${String(response.headers.location).replace(/[\w-]+$/, ':uid')}`
    }
    const [young, old] = [await push(), await push()]
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 29_000)
      expect(await follow(young)).toBe('303 /u/login/:uid')
      vi.setSystemTime(Date.now() + 2_000)
      await expect(driveAuthorization(old)).rejects.toThrow(
        new Error(
          `the authorization server showed an error page (HTTP 400) at ${sandbox.url}/authorize: invalid_request_uri: request_uri is invalid, expired, or was already used`,
        ),
      )
    } finally {
      vi.useRealTimers()
    }
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

  it('refuses PAR from the public client, as Auth0 does', async () => {
    const before = sandbox.requests.length
    const par = await postForm(`${sandbox.url}/oauth/par`, codeFlow(DEFAULT_CLIENT_IDS.public))
    expect(par.status).toBe(401)
    expect(par.body).toEqual({
      error: 'invalid_client',
      error_description:
        'public clients cannot use pushed authorization requests; authenticate the client',
    })
    expect(sandbox.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /oauth/par',
    ])
  })

  it('passes authorization_details (RFC 9396) through PAR to the token response', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    const details = [
      { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '123.50' } },
    ]
    const pkce = createPkce()
    const par = await postForm(`${sandbox.url}/oauth/par`, {
      ...codeFlowParams(client.client_id, callback.redirectUri, pkce, {
        audience: DEFAULT_AUDIENCE,
        authorization_details: JSON.stringify(details),
      }),
      client_secret: client.client_secret!,
    })
    expect(par.status).toBe(201)
    expect(sandbox.lastAuthorizationDetails).toEqual(details)

    const result = await driveAuthorization(
      authorizationUrl(sandbox, {
        client_id: client.client_id,
        request_uri: par.body.request_uri as string,
      }),
    )
    const token = await postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, codeFrom(result.callbackUrl), pkce.verifier),
      client_secret: client.client_secret!,
    })
    expect(token.status).toBe(200)
    expect(token.body.authorization_details).toEqual(details)
    expect(decodeJwt(token.body.access_token as string).authorization_details).toEqual(details)
  })

  it('rejects an authorization_details type it does not know', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    const par = await postForm(`${sandbox.url}/oauth/par`, {
      ...codeFlow(client.client_id, {
        audience: DEFAULT_AUDIENCE,
        authorization_details: JSON.stringify([{ type: 'tax_data' }]),
      }),
      client_secret: client.client_secret!,
    })
    expect(par.status).toBe(400)
    expect(par.body).toEqual({
      error: 'invalid_authorization_details',
      error_description:
        'unsupported authorization details type value (authorization details index 0)',
    })
  })

  it('logs method, path and status only, never a secret', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    const { code, verifier } = await authorize(sandbox, client.client_id)
    logLines.length = 0
    await postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, code, verifier),
      client_secret: client.client_secret!,
    })
    expect(logLines).toEqual(['POST /oauth/token 200'])
  })
})

describe('a fresh tenant', () => {
  let sandbox: Sandbox
  const logLines: string[] = []

  beforeAll(async () => {
    sandbox = await startSandbox({ log: (line) => logLines.push(line) })
  })

  afterAll(async () => {
    await sandbox.close()
  })

  it('sends access_denied when the user denies consent, and records every request', async () => {
    const query = await callbackQuery(sandbox, codeFlow(DEFAULT_CLIENT_IDS.public), {
      consent: 'deny',
    })
    expect(query).toEqual({
      error: 'access_denied',
      error_description: 'User did not authorize the request',
      state: 'state-123',
      iss: sandbox.issuer,
    })
    const flow = [
      'GET /authorize',
      'GET /u/login/:uid',
      'POST /u/login/:uid',
      'GET /authorize/:uid',
      'GET /u/consent/:uid',
      'POST /u/consent/:uid',
      'GET /authorize/:uid',
    ]
    expect(requestLines(sandbox)).toEqual(flow)
    expect(
      logLines.map((line) => line.replace(/\/(u\/\w+|authorize)\/[\w-]+ /, '/$1/:uid ')),
    ).toEqual([
      'GET /authorize 303',
      'GET /u/login/:uid 200',
      'POST /u/login/:uid 303',
      'GET /authorize/:uid 303',
      'GET /u/consent/:uid 200',
      'POST /u/consent/:uid 303',
      'GET /authorize/:uid 303',
    ])
    expect(sandbox.requests.every((r) => r.at instanceof Date)).toBe(true)
  })

  it('answers prompt=none without a session with login_required', async () => {
    const before = sandbox.requests.length
    const query = await callbackQuery(
      sandbox,
      codeFlow(DEFAULT_CLIENT_IDS.public, { prompt: 'none' }),
    )
    expect(query).toEqual({
      error: 'login_required',
      error_description: 'End-User authentication is required',
      state: 'state-123',
      iss: sandbox.issuer,
    })
    expect(sandbox.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /authorize',
    ])
  })

  it('shows an error page for an unknown client', async () => {
    await expect(
      driveAuthorization(
        authorizationUrl(sandbox, codeFlowParams('nobody', callback.redirectUri, createPkce())),
      ),
    ).rejects.toThrow(
      `the authorization server showed an error page (HTTP 400) at ${sandbox.url}/authorize: invalid_client: client is invalid`,
    )
  })

  it('closes the server and its keep-alive connections, freeing the port', async () => {
    const other = await startSandbox()
    const { port } = other
    // A request stuck half-way keeps a plain server.close() waiting forever.
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    socket.write('GET /authorize HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.on('error', () => {})
    await other.close()
    await closed
    await other.close()

    const probe: Server = createServer()
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen(port, '127.0.0.1', resolve)
    })
    await new Promise<void>((resolve) => probe.close(() => resolve()))
  })
})

describe('a tenant that requires PAR', () => {
  let sandbox: Sandbox

  beforeAll(async () => {
    sandbox = await startSandbox({ requirePar: true })
  })

  afterAll(async () => {
    await sandbox.close()
  })

  it('says so in discovery', async () => {
    const { body } = await getJson(`${sandbox.url}/.well-known/openid-configuration`)
    expect(body.require_pushed_authorization_requests).toBe(true)
  })

  it('rejects an authorization request that was not pushed', async () => {
    const before = sandbox.requests.length
    const query = await callbackQuery(sandbox, codeFlow(DEFAULT_CLIENT_IDS.confidential))
    expect(query).toEqual({
      error: 'invalid_request',
      error_description: 'Pushed Authorization Request must be used',
      state: 'state-123',
      iss: sandbox.issuer,
    })
    expect(requestLines(sandbox).slice(before)).toEqual(['GET /authorize'])
  })

  it('runs the flow through PAR', async () => {
    const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
    const pkce = createPkce()
    const par = await postForm(`${sandbox.url}/oauth/par`, {
      ...codeFlowParams(client.client_id, callback.redirectUri, pkce),
      client_secret: client.client_secret!,
    })
    expect(par.status).toBe(201)
    const result = await driveAuthorization(
      authorizationUrl(sandbox, {
        client_id: client.client_id,
        request_uri: par.body.request_uri as string,
      }),
    )
    const token = await postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, codeFrom(result.callbackUrl), pkce.verifier),
      client_secret: client.client_secret!,
    })
    expect(token.status).toBe(200)
  })
})

describe('a tenant that requires DPoP', () => {
  let sandbox: Sandbox

  beforeAll(async () => {
    sandbox = await startSandbox({ requireDpop: true })
  })

  afterAll(async () => {
    await sandbox.close()
  })

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
  let sandbox: Sandbox

  beforeAll(async () => {
    sandbox = await startSandbox({ dpopNonce: true })
  })

  afterAll(async () => {
    await sandbox.close()
  })

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

describe('a tenant that skips consent, with short lifetimes and a config', () => {
  let sandbox: Sandbox
  let ownKey: Awaited<ReturnType<typeof createDpopKey>>

  beforeAll(async () => {
    ownKey = await createDpopKey()
    const config = defaultSandboxConfig()
    config.users = [{ username: 'bob@example.com', name: 'Bob Example', email_verified: false }]
    config.clients = [
      {
        client_id: 'my-app',
        token_endpoint_auth_method: 'client_secret_basic',
        client_secret: 's3cr:t+%',
      },
      {
        client_id: 'my-keyed-app',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...ownKey.publicJwk, kty: 'EC', kid: 'k1' }] },
      },
    ]
    config.organizations = [{ id: 'org_abc', name: 'initech' }]
    sandbox = await startSandbox({
      skipConsent: true,
      lifetimes: { accessToken: 120, idToken: 60 },
      config,
    })
  })

  afterAll(async () => {
    await sandbox.close()
  })

  it('grants without showing the consent page', async () => {
    const pkce = createPkce()
    const result = await driveAuthorization(
      authorizationUrl(
        sandbox,
        codeFlowParams('my-app', callback.redirectUri, pkce, { organization: 'initech' }),
      ),
      { username: 'bob@example.com' },
    )
    expect(requestLines(sandbox)).toEqual([
      'GET /authorize',
      'GET /u/login/:uid',
      'POST /u/login/:uid',
      'GET /authorize/:uid',
      'GET /u/consent/:uid',
      'GET /authorize/:uid',
    ])

    const credentials = `${encodeURIComponent('my-app')}:${encodeURIComponent('s3cr:t+%')}`
    const token = await postForm(
      tokenEndpoint(sandbox),
      {
        grant_type: 'authorization_code',
        code: codeFrom(result.callbackUrl),
        redirect_uri: callback.redirectUri,
        code_verifier: pkce.verifier,
      },
      { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
    )
    expect(token.status).toBe(200)
    expect(token.body.expires_in).toBe(120)
    const idToken = decodeJwt(token.body.id_token as string)
    expect(idToken.exp! - idToken.iat!).toBe(60)
    expect(idToken).toMatchObject({
      sub: subjectFor('bob@example.com'),
      name: 'Bob Example',
      email: 'bob@example.com',
      email_verified: false,
      org_id: 'org_abc',
      org_name: 'initech',
    })
    expect(sandbox.client('my-app').client_secret).toBe('s3cr:t+%')
    expect(() => sandbox.client(DEFAULT_CLIENT_IDS.public)).toThrow(
      'the sandbox has no client "sandbox-public"',
    )
  })

  it('verifies private_key_jwt with the public keys the config gave', async () => {
    const client = sandbox.client('my-keyed-app')
    expect(client.private_jwk).toBeUndefined()
    expect(client.jwks).toEqual({ keys: [{ ...ownKey.publicJwk, kid: 'k1' }] })
    const { code, verifier } = await authorize(sandbox, client.client_id)
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(client.client_id)
      .setSubject(client.client_id)
      .setAudience(`${sandbox.url}/oauth/token`)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomBytes(16).toString('base64url'))
      .sign(ownKey.privateKey)
    const token = await postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, code, verifier),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    })
    expect(token.status).toBe(200)
  })
})

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
