import { describe, expect, it } from 'vitest'
import { authorizationRequestWith } from '../../src/commands/authorize-step.js'
import type { LoginOptions } from '../../src/commands/login.js'
import { runPar, runParCommand } from '../../src/commands/par.js'
import type { ParOptions } from '../../src/commands/par.js'
import { CliError } from '../../src/errors.js'
import { rejection } from '../helpers/cli-error.js'
import { authorizeOptions, loginOptions, REDIRECT, SEEDED } from '../helpers/flow-options.js'
import { callbackFrom, ISSUER, ORIGIN, withMockTenant } from '../helpers/mock-tenant.js'
import { testCtx } from '../helpers/test-ctx.js'

const REQUEST_URI = 'urn:ietf:params:oauth:request_uri:6esc'

const tenant = withMockTenant()

function parOptions(extra: Partial<ParOptions> = {}): ParOptions {
  return { ...authorizeOptions(), responseType: 'code', ...extra }
}

function commandOptions(
  extra: Partial<LoginOptions & { responseType: string; open: boolean }>,
): LoginOptions & { responseType: string; open: boolean } {
  return { ...loginOptions(), responseType: 'code', open: false, ...extra }
}

function discovery(metadata: Record<string, unknown> = {}): void {
  tenant.discovery({
    pushed_authorization_request_endpoint: `${ORIGIN}/oauth/par`,
    code_challenge_methods_supported: ['S256'],
    ...metadata,
  })
}

function parEndpoint(status = 201, body: object = { request_uri: REQUEST_URI, expires_in: 90 }) {
  return tenant.parEndpoint(body, { status })
}

describe('runPar() https://www.rfc-editor.org/rfc/rfc9126#section-2', () => {
  it('discovers, pushes the request and returns what finishing the flow needs', async () => {
    discovery()
    const par = parEndpoint()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const { timings_ms, ...result } = await runPar(parOptions(), ctx)
    expect(result).toEqual({
      issuer: ISSUER,
      client_id: 'abc',
      redirect_uri: REDIRECT,
      request_uri: REQUEST_URI,
      expires_in: 90,
      expires_at: '2026-11-24T12:01:30.000Z',
      authorization_url: `${ORIGIN}/authorize?client_id=abc&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc`,
      code_verifier: SEEDED.codeVerifier,
      code_challenge: SEEDED.codeChallenge,
      code_challenge_method: 'S256',
      state: SEEDED.state,
      nonce: SEEDED.nonce,
      dpop: null,
      warnings: [],
    })
    expect(Object.keys(timings_ms)).toEqual(['discovery', 'par', 'total'])
    expect([...par.form()]).toEqual([
      ['response_type', 'code'],
      ['client_id', 'abc'],
      ['redirect_uri', REDIRECT],
      ['scope', 'openid profile'],
      ['state', SEEDED.state],
      ['nonce', SEEDED.nonce],
      ['code_challenge', SEEDED.codeChallenge],
      ['code_challenge_method', 'S256'],
    ])
    expect(ctx.stdout()).toBe('')
  })

  it('sends the response_type asked for, in place', async () => {
    discovery()
    const par = parEndpoint()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const result = await runPar(
      parOptions({
        responseType: 'code id_token',
        request: authorizationRequestWith({ scope: 'profile' }),
      }),
      ctx,
    )
    expect(result.nonce).toBeNull()
    expect([...par.form().keys()][0]).toBe('response_type')
    expect(par.form().getAll('response_type')).toEqual(['code id_token'])
  })

  it('attaches the checks and warnings so far to a failure', async () => {
    discovery({ code_challenge_methods_supported: undefined })
    parEndpoint(400, { error: 'invalid_request', error_description: 'bad scope' })
    const ctx = testCtx({ dispatcher: tenant.agent })
    const error = await rejection(runPar(parOptions(), ctx))
    expect(error).toBeInstanceOf(CliError)
    expect(error.code).toBe('par_error')
    expect(error.details).toEqual({
      checks: [],
      warnings: [
        {
          code: 'pkce_support_unconfirmed',
          message:
            'the metadata has no code_challenge_methods_supported; PKCE support is unconfirmed, state still protects the flow',
        },
      ],
    })
  })
})

describe('runParCommand()', () => {
  it('without --open: the pushed request alone', async () => {
    discovery()
    parEndpoint()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const outcome = await runParCommand(commandOptions({ open: false }), ctx)
    expect(outcome.kind).toBe('pushed')
    expect(outcome.result).toMatchObject({ request_uri: REQUEST_URI, expires_in: 90 })
  })

  it('with --open: the whole flow, pushed even though neither the request nor the server asks for PAR', async () => {
    discovery()
    const par = parEndpoint()
    const token = tenant.tokenEndpoint({
      access_token: 'opaque-access-token',
      token_type: 'Bearer',
    })
    const opened: string[] = []
    const ctx = testCtx({ dispatcher: tenant.agent })
    const outcome = await runParCommand(
      commandOptions({
        open: true,
        request: authorizationRequestWith({ scope: 'profile' }),
        redirectUri: new URL('http://127.0.0.1:0/callback'),
        listener: {
          browser: {
            kind: 'agent',
            // The user's browser: the pushed URL carries no state, so it comes from the PAR body.
            open: (url) => {
              opened.push(url.href)
              void fetch(callbackFrom(par.form()))
            },
          },
          timeoutMs: 5000,
          receipt: 'listener',
        },
      }),
      ctx,
    )
    expect(outcome.kind).toBe('login')
    expect(opened).toEqual([
      `${ORIGIN}/authorize?client_id=abc&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc`,
    ])
    expect(outcome.result).toMatchObject({
      authorization_url: opened[0],
      par: { request_uri: REQUEST_URI, expires_in: 90 },
    })
    expect(token.form().get('code')).toBe('the-code')
  })

  it('with --open and a response_type other than code: a usage error before any request', async () => {
    const ctx = testCtx({ dispatcher: tenant.agent })
    const error = await rejection(
      runParCommand(commandOptions({ open: true, responseType: 'code id_token' }), ctx),
    )
    expect(error).toBeInstanceOf(CliError)
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--open finishes a code flow: drop --response-type')
    expect(ctx.events).toEqual([])
  })
})
