import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { MockAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runLogin } from '../../src/commands/login.js'
import type { LoginOptions } from '../../src/commands/login.js'
import { NO_ASSERTIONS } from '../../src/commands/assertions.js'
import { authorizationRequestWith } from '../../src/commands/authorize-step.js'
import { DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import { testCtx } from '../helpers/test-ctx.js'

const ORIGIN = 'https://tenant.test'
const ISSUER = `${ORIGIN}/`

let agent: MockAgent

beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
})
afterEach(async () => {
  agent.assertNoPendingInterceptors()
  await agent.close()
})

function options(extra: Partial<LoginOptions> = {}): LoginOptions {
  return {
    target: { issuer: ISSUER, client: { client_id: 'abc', auth: { method: 'none' } } },
    request: authorizationRequestWith({ scope: 'openid profile' }),
    redirectUri: new URL('http://127.0.0.1:0/callback'),
    dpop: undefined,
    http: { ...DEFAULT_HTTP_SETTINGS, timeoutMs: 5000 },
    listener: { browser: { kind: 'command', argv: ['stub'] }, timeoutMs: 5000 },
    clockToleranceSeconds: 60,
    assertions: NO_ASSERTIONS,
    ...extra,
  }
}

describe('runLogin() with a MockAgent authorization server', () => {
  it('discovers, opens an S256 URL, exchanges the code as a public client and validates the ID token', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256')
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
    const tenant = agent.get(ORIGIN)
    tenant.intercept({ path: '/.well-known/openid-configuration', method: 'GET' }).reply(
      200,
      {
        issuer: ISSUER,
        authorization_endpoint: `${ORIGIN}/authorize`,
        token_endpoint: `${ORIGIN}/oauth/token`,
        jwks_uri: `${ORIGIN}/.well-known/jwks.json`,
        code_challenge_methods_supported: ['S256'],
        id_token_signing_alg_values_supported: ['RS256'],
      },
      { headers: { 'content-type': 'application/json' } },
    )
    tenant.intercept({ path: '/.well-known/jwks.json', method: 'GET' }).reply(
      200,
      { keys: [jwk] },
      {
        headers: { 'content-type': 'application/json' },
      },
    )
    let idToken = ''
    let form = new URLSearchParams()
    tenant
      .intercept({
        path: '/oauth/token',
        method: 'POST',
        body: (body: string) => {
          form = new URLSearchParams(body)
          return true
        },
      })
      .reply(() => ({
        statusCode: 200,
        data: JSON.stringify({
          access_token: 'opaque-access-token',
          token_type: 'Bearer',
          expires_in: 60,
          id_token: idToken,
        }),
        responseOptions: {
          headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        },
      }))

    const ctx = testCtx({
      dispatcher: agent,
      now: new Date(),
      // The browser: sign the ID token for the nonce in the URL, then call the loopback.
      openBrowser: async (url) => {
        const params = url.searchParams
        const now = Math.floor(Date.now() / 1000)
        idToken = await new SignJWT({ nonce: params.get('nonce') ?? '' })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(ISSUER)
          .setAudience('abc')
          .setSubject('auth0|1')
          .setIssuedAt(now)
          .setExpirationTime(now + 60)
          .sign(privateKey)
        const callback = new URL(params.get('redirect_uri') ?? '')
        callback.search = new URLSearchParams({
          code: 'the-code',
          state: params.get('state') ?? '',
        }).toString()
        void fetch(callback)
      },
    })
    const result = await runLogin(options(), ctx)

    const opened = new URL(result.authorization_url)
    expect(opened.origin + opened.pathname).toBe(`${ORIGIN}/authorize`)
    expect(opened.searchParams.get('code_challenge_method')).toBe('S256')
    expect(opened.searchParams.get('code_challenge')).toBe(result.pkce.code_challenge)
    expect(opened.searchParams.has('code_verifier')).toBe(false)
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: result.redirect_uri,
      code_verifier: result.pkce.code_verifier,
      client_id: 'abc',
    })
    expect(form.has('client_secret')).toBe(false)
    expect(result.checks.every((check) => check.ok)).toBe(true)
    expect(result.access_token.kind).toBe('opaque')
    // stderr is the conversation: the URL and progress; stdout stays empty (no renderer ran).
    expect(ctx.stdout()).toBe('')
    expect(ctx.stderr()).toContain(`Open this URL to sign in:\n  ${result.authorization_url}\n`)
  })
})
