import { describe, expect, it } from 'vitest'
import { runLogin } from '../../src/commands/login.js'
import { DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import { loginOptions } from '../helpers/flow-options.js'
import {
  callbackFrom,
  createSigner,
  JWKS_URI,
  ORIGIN,
  withMockTenant,
} from '../helpers/mock-tenant.js'
import { testCtx } from '../helpers/test-ctx.js'

const tenant = withMockTenant()

describe('runLogin() with a MockAgent authorization server', () => {
  it('discovers, opens an S256 URL, exchanges the code as a public client and validates the ID token', async () => {
    const signer = await createSigner('RS256')
    tenant.discovery({
      jwks_uri: JWKS_URI,
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256'],
    })
    tenant.jwks(signer.jwks)
    let idToken = ''
    const token = tenant.tokenEndpoint(() => ({
      access_token: 'opaque-access-token',
      token_type: 'Bearer',
      expires_in: 60,
      id_token: idToken,
    }))

    const ctx = testCtx({
      dispatcher: tenant.agent,
      now: new Date(),
      // The browser: sign the ID token for the nonce in the URL, then call the loopback.
      openBrowser: async (url) => {
        idToken = await signer.idToken({ nonce: url.searchParams.get('nonce') ?? '', aud: 'abc' })
        void fetch(callbackFrom(url.searchParams))
      },
    })
    const result = await runLogin(
      loginOptions({
        redirectUri: new URL('http://127.0.0.1:0/callback'),
        http: { ...DEFAULT_HTTP_SETTINGS, timeoutMs: 5000 },
        listener: {
          browser: { kind: 'command', argv: ['stub'] },
          timeoutMs: 5000,
          receipt: 'listener',
        },
      }),
      ctx,
    )
    const form = token.form()

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
