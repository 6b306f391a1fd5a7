import { access } from 'node:fs/promises'
import { beforeAll, describe, expect, it } from 'vitest'
import { NO_ASSERTIONS } from '../../src/commands/assertions.js'
import { runExchange } from '../../src/commands/exchange.js'
import type { ExchangeOptions } from '../../src/commands/exchange.js'
import { DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import { writeStateFile } from '../../src/commands/state-file.js'
import type { FlowState } from '../../src/commands/state-file.js'
import { rejection } from '../helpers/cli-error.js'
import { REDIRECT, SEEDED, TARGET } from '../helpers/flow-options.js'
import { createSigner, ISSUER, JWKS_URI, ORIGIN, withMockTenant } from '../helpers/mock-tenant.js'
import type { Capture, Signer } from '../helpers/mock-tenant.js'
import { withTempFiles } from '../helpers/temp-files.js'
import { testCtx } from '../helpers/test-ctx.js'
import type { TestCtx } from '../helpers/test-ctx.js'

const tenant = withMockTenant()
const files = withTempFiles('pkce-exchange-')
let signer: Signer

beforeAll(async () => {
  signer = await createSigner('RS256')
})

// testCtx's clock: 2026-11-24T12:00:00Z. authorize ran a minute before.
const NOW_S = Date.parse('2026-11-24T12:00:00Z') / 1000
const STARTED_AT = new Date('2026-11-24T11:59:00Z')
const AUTHORIZATION_URL = `${ORIGIN}/authorize?response_type=code&client_id=abc`
const EXCHANGING = `step Exchanging the code at ${ORIGIN}/oauth/token`
const OPAQUE_NOTE =
  'The access token is opaque (19 characters): only the authorization server can read it. To get a JWT, send --audience <your API identifier>.'

function discovery(): void {
  tenant.discovery({
    jwks_uri: JWKS_URI,
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['RS256'],
  })
}

function idTokenClaims(nonce: string | undefined): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: 'auth0|1',
    aud: 'abc',
    iat: NOW_S - 10,
    exp: NOW_S + 60,
    ...(nonce === undefined ? {} : { nonce }),
  }
}

/** The tenant's keys, and a token endpoint answering with an ID token carrying `nonce`. */
async function tokenEndpoint(nonce: string | undefined): Promise<Capture> {
  tenant.jwks(signer.jwks)
  const idToken = await signer.sign(idTokenClaims(nonce))
  return tenant.tokenEndpoint({
    access_token: 'opaque-access-token',
    token_type: 'Bearer',
    expires_in: 60,
    id_token: idToken,
  })
}

function callback(query: Record<string, string>): URL {
  return new URL(`${REDIRECT}?${new URLSearchParams(query).toString()}`)
}

function flowState(): FlowState {
  return {
    version: 1,
    issuer: ISSUER,
    client_id: 'abc',
    client_auth: { method: 'none' },
    redirect_uri: REDIRECT,
    code_verifier: SEEDED.codeVerifier,
    code_challenge: SEEDED.codeChallenge,
    state: SEEDED.state,
    nonce: SEEDED.nonce,
    scope: 'openid profile',
    audience: null,
    max_age: null,
    parameters: [],
    authorization_url: AUTHORIZATION_URL,
    par: null,
    dpop: null,
    store_key: { issuer: 'https://tenant.test/', clientId: 'abc', scope: 'openid', dpop: false },
    created_at: STARTED_AT.toISOString(),
  }
}

function options(extra: Partial<ExchangeOptions> = {}): ExchangeOptions {
  return {
    target: TARGET,
    redirectUri: REDIRECT,
    codeVerifier: SEEDED.codeVerifier,
    source: { kind: 'code', code: 'the-code' },
    nonce: SEEDED.nonce,
    scope: 'openid profile',
    audience: undefined,
    maxAgeSeconds: undefined,
    dpop: undefined,
    http: DEFAULT_HTTP_SETTINGS,
    clockToleranceSeconds: 60,
    assertions: NO_ASSERTIONS,
    save: undefined,
    stateFile: undefined,
    authorization: null,
    ...extra,
  }
}

/** Options as `toExchangeOptions` makes them from a state file (written here) and a callback URL. */
async function fromStateFile(
  name: string,
  url: URL,
  ctx: TestCtx,
): Promise<{ opts: ExchangeOptions; stateFile: string }> {
  const stateFile = await writeStateFile(files.path(name), flowState(), ctx)
  const opts = options({
    source: { kind: 'callback', url, state: SEEDED.state },
    stateFile,
    authorization: {
      authorization_url: AUTHORIZATION_URL,
      code_challenge: SEEDED.codeChallenge,
      par: null,
      started_at: STARTED_AT,
    },
  })
  return { opts, stateFile }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

const ID_TOKEN_CHECKS = [
  { name: 'id_token.format', ok: true, detail: 'a compact JWS' },
  { name: 'id_token.alg', ok: true, detail: 'RS256 is allowed' },
  { name: 'id_token.signature', ok: true, detail: "verified with the issuer's RS256 key (kid k1)" },
  { name: 'id_token.iss', ok: true, detail: `equals ${ISSUER}` },
  { name: 'id_token.aud', ok: true, detail: 'contains abc' },
  {
    name: 'id_token.exp',
    ok: true,
    detail: '2026-11-24T12:01:00Z is in the future (tolerance 60s)',
  },
  { name: 'id_token.iat', ok: true, detail: '2026-11-24T11:59:50Z' },
  { name: 'id_token.sub', ok: true, detail: 'present (auth0|1)' },
  { name: 'id_token.nonce', ok: true, detail: 'equals the nonce sent' },
]

describe('runExchange() from a callback URL (pkce exchange --state-file --callback-url)', () => {
  it('exchanges the code with the stored verifier, validates the tokens and deletes the state file', async () => {
    discovery()
    const token = await tokenEndpoint(SEEDED.nonce)
    const ctx = testCtx({ dispatcher: tenant.agent })
    const { opts, stateFile } = await fromStateFile(
      'success.json',
      callback({ code: 'the-code', state: SEEDED.state }),
      ctx,
    )
    const { timings_ms, tokens, ...result } = await runExchange(opts, ctx)

    const form = token.form()
    expect([...form]).toEqual([
      ['grant_type', 'authorization_code'],
      ['code', 'the-code'],
      ['redirect_uri', REDIRECT],
      ['code_verifier', SEEDED.codeVerifier],
      ['client_id', 'abc'],
    ])
    expect(form.has('client_secret')).toBe(false)
    expect(tokens).toEqual({
      token_type: 'Bearer',
      access_token: 'opaque-access-token',
      id_token: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/u) as string,
      refresh_token: null,
      expires_in: 60,
      scope: null,
    })
    expect(result).toEqual({
      issuer: ISSUER,
      client_id: 'abc',
      redirect_uri: REDIRECT,
      authorization_url: AUTHORIZATION_URL,
      state_file: stateFile,
      pkce: {
        code_verifier: SEEDED.codeVerifier,
        code_challenge: SEEDED.codeChallenge,
        code_challenge_method: 'S256',
      },
      state: SEEDED.state,
      nonce: SEEDED.nonce,
      par: null,
      dpop: null,
      id_token: {
        header: { alg: 'RS256', kid: 'k1' },
        payload: idTokenClaims(SEEDED.nonce),
      },
      access_token: {
        kind: 'opaque',
        header: null,
        payload: null,
        verified: false,
        note: OPAQUE_NOTE,
      },
      checks: [
        { name: 'callback.state', ok: true, detail: 'equals the state sent' },
        ...ID_TOKEN_CHECKS,
      ],
      warnings: [],
    })
    expect(Object.keys(timings_ms)).toEqual(['discovery', 'token', 'validate', 'total'])
    // docs/security.md FS-2: the verifier is spent; its file goes.
    expect(await exists(stateFile)).toBe(false)
    expect(ctx.stdout()).toBe('')
    expect(ctx.stderr()).toBe(
      [
        `• Discovering ${ISSUER}`,
        `• Exchanging the code at ${ORIGIN}/oauth/token`,
        '• Validating tokens',
        `• ${OPAQUE_NOTE}`,
        '',
      ].join('\n'),
    )
  })

  it('refuses a callback with another state before any token request, and keeps the state file (SN-2, LL-6)', async () => {
    discovery()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const { opts, stateFile } = await fromStateFile(
      'tampered.json',
      callback({ code: 'the-code', state: 'forged' }),
      ctx,
    )
    // No token endpoint is mocked and real connections are off: a token request would fail as
    // network_error, not state_mismatch; and afterEach asserts every interceptor was used.
    const error = await rejection(runExchange(opts, ctx))
    expect(error.code).toBe('state_mismatch')
    expect(error.exitCode).toBe(4)
    expect(error.stage).toBe('callback')
    expect(error.message).toBe('the callback state "forged" does not match')
    expect(error.message).not.toContain(SEEDED.state)
    expect(error.details.checks).toEqual([])
    expect(ctx.events).not.toContain(EXCHANGING)
    expect(ctx.events).toEqual([`step Discovering ${ISSUER}`])
    expect(await exists(stateFile)).toBe(true)
  })

  it('refuses a callback without state the same way (state_missing)', async () => {
    discovery()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const { opts, stateFile } = await fromStateFile(
      'no-state.json',
      callback({ code: 'the-code' }),
      ctx,
    )
    const error = await rejection(runExchange(opts, ctx))
    expect(error.code).toBe('state_missing')
    expect(error.message).toBe('the callback has no state')
    expect(ctx.events).not.toContain(EXCHANGING)
    expect(await exists(stateFile)).toBe(true)
  })

  it('checks state before error: an error redirect with another state is state_mismatch (RH-4)', async () => {
    discovery()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const { opts } = await fromStateFile(
      'error-forged.json',
      callback({ error: 'access_denied', state: 'forged' }),
      ctx,
    )
    const error = await rejection(runExchange(opts, ctx))
    expect(error.code).toBe('state_mismatch')
    expect(error.oauth).toBeUndefined()
  })

  it('reports error=access_denied as authorization_error (exit 3), with no token request, keeping the state file', async () => {
    discovery()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const { opts, stateFile } = await fromStateFile(
      'denied.json',
      callback({
        error: 'access_denied',
        error_description: 'User did not authorize the request',
        state: SEEDED.state,
      }),
      ctx,
    )
    const error = await rejection(runExchange(opts, ctx))
    expect(error.code).toBe('authorization_error')
    expect(error.exitCode).toBe(3)
    expect(error.stage).toBe('callback')
    expect(error.message).toBe(
      'authorization failed: access_denied: User did not authorize the request',
    )
    expect(error.hint).toBe('the user or a rule denied the request')
    expect(error.oauth).toEqual({
      error: 'access_denied',
      error_description: 'User did not authorize the request',
    })
    expect(ctx.events).not.toContain(EXCHANGING)
    expect(await exists(stateFile)).toBe(true)
  })

  it('keeps the state file when the token request is rejected (FS-2)', async () => {
    discovery()
    tenant.agent
      .get(ORIGIN)
      .intercept({ path: '/oauth/token', method: 'POST' })
      .reply(
        403,
        { error: 'invalid_grant', error_description: 'Invalid authorization code' },
        { headers: { 'content-type': 'application/json' } },
      )
    const ctx = testCtx({ dispatcher: tenant.agent })
    const { opts, stateFile } = await fromStateFile(
      'used-code.json',
      callback({ code: 'used-code', state: SEEDED.state }),
      ctx,
    )
    const error = await rejection(runExchange(opts, ctx))
    expect(error.code).toBe('token_error')
    expect(error.exitCode).toBe(3)
    expect(error.oauth).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    })
    expect(ctx.events).toContain(EXCHANGING)
    expect(await exists(stateFile)).toBe(true)
  })
})

describe('runExchange() from a bare code (pkce exchange --code --code-verifier-file)', () => {
  it('runs no callback check and sends the code as given', async () => {
    discovery()
    const token = await tokenEndpoint('nonce-given-with-the-code')
    const ctx = testCtx({ dispatcher: tenant.agent })
    const result = await runExchange(
      options({ source: { kind: 'code', code: 'bare-code' }, nonce: 'nonce-given-with-the-code' }),
      ctx,
    )
    expect(Object.fromEntries(token.form())).toEqual({
      grant_type: 'authorization_code',
      code: 'bare-code',
      redirect_uri: REDIRECT,
      code_verifier: SEEDED.codeVerifier,
      client_id: 'abc',
    })
    expect(result.checks).toEqual(ID_TOKEN_CHECKS)
    expect(result.state).toBeNull()
    expect(result.state_file).toBeNull()
    expect(result.authorization_url).toBeNull()
    expect(result.pkce).toEqual({
      code_verifier: SEEDED.codeVerifier,
      code_challenge: null,
      code_challenge_method: 'S256',
    })
    expect(result.nonce).toBe('nonce-given-with-the-code')
  })

  it('checks the ID token nonce against the one given: another is id_token_nonce_invalid', async () => {
    discovery()
    await tokenEndpoint('a-nonce-from-another-run')
    const ctx = testCtx({ dispatcher: tenant.agent })
    const error = await rejection(runExchange(options({ nonce: 'nonce-given-with-the-code' }), ctx))
    expect(error.code).toBe('id_token_nonce_invalid')
    expect(error.exitCode).toBe(4)
    expect(error.details.checks).toContainEqual({
      name: 'id_token.nonce',
      ok: false,
      detail: 'does not equal the nonce sent',
    })
  })

  it('refuses an ID token with a nonce when none was given (docs/security.md SN-4)', async () => {
    discovery()
    await tokenEndpoint('an-unexpected-nonce')
    const ctx = testCtx({ dispatcher: tenant.agent })
    const error = await rejection(runExchange(options({ nonce: undefined }), ctx))
    expect(error.code).toBe('id_token_nonce_invalid')
    expect(error.details.checks).toContainEqual({
      name: 'id_token.nonce',
      ok: false,
      detail: 'the ID token carries a nonce although none was sent',
    })
  })
})
