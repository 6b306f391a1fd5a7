import { createServer, type Server } from 'node:net'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import { startSandbox } from '../../src/sandbox/tenant.js'
import {
  authorizationUrl,
  callbackQuery,
  codeFlowParams,
  createPkce,
  getJson,
  postForm,
  requestLines,
  spyOnConsole,
  tokenEndpoint,
  withCodeFlow,
  withSandbox,
} from './helpers.js'

// The tenant itself: its addresses, discovery, keys, request log and shutdown.
const consoleSpies = spyOnConsole()
const { callback, authorize, codeFlow, codeGrant } = withCodeFlow()

describe('the default tenant', () => {
  const logLines: string[] = []
  const sandbox = withSandbox({}, (line) => logLines.push(line))

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
        'client_secret_jwt',
        'private_key_jwt',
        'self_signed_tls_client_auth',
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
  const logLines: string[] = []
  const sandbox = withSandbox({}, (line) => logLines.push(line))

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

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
