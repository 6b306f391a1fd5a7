import { MockAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NO_ASSERTIONS } from '../../src/commands/assertions.js'
import { authorizationRequestWith } from '../../src/commands/authorize-step.js'
import { DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import type { LoginOptions } from '../../src/commands/login.js'
import { runPar, runParCommand } from '../../src/commands/par.js'
import type { ParOptions } from '../../src/commands/par.js'
import { CliError } from '../../src/errors.js'
import { testCtx } from '../helpers/test-ctx.js'

const ORIGIN = 'https://tenant.test'
const ISSUER = `${ORIGIN}/`
const REDIRECT = 'http://127.0.0.1:8484/callback'
const REQUEST_URI = 'urn:ietf:params:oauth:request_uri:6esc'
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } }
// testCtx's random bytes count up: verifier bytes 0-31 (PK-1), state 32-63, nonce 64-95.
const SEEDED = {
  codeVerifier: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
  codeChallenge: '6oZqdX5MOLq_qBJ8vppAnT4fk6AP8UiP9zX8-Rev_9A',
  state: 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8',
  nonce: 'QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8',
}

let agent: MockAgent

beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
})
afterEach(async () => {
  agent.assertNoPendingInterceptors()
  await agent.close()
})

function parOptions(extra: Partial<ParOptions> = {}): ParOptions {
  return {
    target: { issuer: ISSUER, client: { client_id: 'abc', auth: { method: 'none' } } },
    request: authorizationRequestWith({ scope: 'openid profile' }),
    redirectUri: new URL(REDIRECT),
    dpop: undefined,
    http: DEFAULT_HTTP_SETTINGS,
    responseType: 'code',
    ...extra,
  }
}

function commandOptions(
  extra: Partial<LoginOptions & { responseType: string; open: boolean }>,
): LoginOptions & { responseType: string; open: boolean } {
  return {
    ...parOptions(),
    listener: { browser: { kind: 'none' }, timeoutMs: 5000 },
    clockToleranceSeconds: 60,
    assertions: NO_ASSERTIONS,
    open: false,
    ...extra,
  }
}

function discovery(metadata: Record<string, unknown> = {}): void {
  agent
    .get(ORIGIN)
    .intercept({ path: '/.well-known/openid-configuration', method: 'GET' })
    .reply(
      200,
      {
        issuer: ISSUER,
        authorization_endpoint: `${ORIGIN}/authorize`,
        token_endpoint: `${ORIGIN}/oauth/token`,
        pushed_authorization_request_endpoint: `${ORIGIN}/oauth/par`,
        code_challenge_methods_supported: ['S256'],
        ...metadata,
      },
      JSON_HEADERS,
    )
}

function parEndpoint(status = 201, body: unknown = { request_uri: REQUEST_URI, expires_in: 90 }) {
  let form = new URLSearchParams()
  agent
    .get(ORIGIN)
    .intercept({
      path: '/oauth/par',
      method: 'POST',
      body: (text: string) => {
        form = new URLSearchParams(text)
        return true
      },
    })
    .reply(status, body as object, JSON_HEADERS)
  return { form: () => form }
}

describe('runPar() https://www.rfc-editor.org/rfc/rfc9126#section-2', () => {
  it('discovers, pushes the request and returns what finishing the flow needs', async () => {
    discovery()
    const par = parEndpoint()
    const ctx = testCtx({ dispatcher: agent })
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
    const ctx = testCtx({ dispatcher: agent })
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
    const ctx = testCtx({ dispatcher: agent })
    const error = await runPar(parOptions(), ctx).then(
      () => {
        throw new Error('expected a failure')
      },
      (caught: unknown) => caught as CliError,
    )
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
    const ctx = testCtx({ dispatcher: agent })
    const outcome = await runParCommand(commandOptions({ open: false }), ctx)
    expect(outcome.kind).toBe('pushed')
    expect(outcome.result).toMatchObject({ request_uri: REQUEST_URI, expires_in: 90 })
  })

  it('with --open: the whole flow, pushed even though neither the request nor the server asks for PAR', async () => {
    discovery()
    const par = parEndpoint()
    let tokenForm = new URLSearchParams()
    agent
      .get(ORIGIN)
      .intercept({
        path: '/oauth/token',
        method: 'POST',
        body: (text: string) => {
          tokenForm = new URLSearchParams(text)
          return true
        },
      })
      .reply(
        200,
        { access_token: 'opaque-access-token', token_type: 'Bearer' },
        { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } },
      )
    const opened: string[] = []
    const ctx = testCtx({ dispatcher: agent })
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
              const callback = new URL(par.form().get('redirect_uri') ?? '')
              callback.search = `code=the-code&state=${par.form().get('state') ?? ''}`
              void fetch(callback)
            },
          },
          timeoutMs: 5000,
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
    expect(tokenForm.get('code')).toBe('the-code')
  })

  it('with --open and a response_type other than code: a usage error before any request', async () => {
    const ctx = testCtx({ dispatcher: agent })
    const error = await runParCommand(
      commandOptions({ open: true, responseType: 'code id_token' }),
      ctx,
    ).then(
      () => {
        throw new Error('expected a failure')
      },
      (caught: unknown) => caught as CliError,
    )
    expect(error).toBeInstanceOf(CliError)
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--open finishes a code flow: drop --response-type')
    expect(ctx.events).toEqual([])
  })
})
