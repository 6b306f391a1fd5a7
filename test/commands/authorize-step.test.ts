import { fetch } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import {
  authorizationRequest,
  authorizationRequestWith,
  extraParameters,
  failurePage,
  prepareRequest,
  presentAuthorizationUrl,
  receiveCode,
  startListener,
  wantsIdToken,
} from '../../src/commands/authorize-step.js'
import type { AuthorizationRequest, AuthorizeOptions } from '../../src/commands/authorize-step.js'
import type { Flow } from '../../src/commands/flow.js'
import { CliError } from '../../src/errors.js'
import type { Loopback } from '../../src/net/loopback.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'
import { rejection } from '../helpers/cli-error.js'
import { authorizeOptions, REDIRECT, SEEDED, withDpop } from '../helpers/flow-options.js'
import { ISSUER, METADATA, ORIGIN, withMockTenant } from '../helpers/mock-tenant.js'
import { testCtx } from '../helpers/test-ctx.js'
import type { TestCtx } from '../helpers/test-ctx.js'

const AS: AuthorizationServer = {
  ...METADATA,
  pushed_authorization_request_endpoint: `${ORIGIN}/par`,
}
// RFC 7636 Appendix B.
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

const tenant = withMockTenant()
const setup = tenant.setup

function options(request: AuthorizationRequest): AuthorizeOptions {
  return authorizeOptions({ request })
}

describe('authorizationRequestWith()', () => {
  it('sets the given fields and leaves every other parameter out', () => {
    expect(authorizationRequestWith({ scope: 'openid', prompt: 'login', par: true })).toEqual({
      scope: 'openid',
      audience: undefined,
      resources: [],
      organization: undefined,
      invitation: undefined,
      connection: undefined,
      prompt: 'login',
      maxAgeSeconds: undefined,
      loginHint: undefined,
      responseMode: undefined,
      authorizationDetails: undefined,
      params: [],
      codeVerifier: undefined,
      state: undefined,
      nonce: undefined,
      par: true,
    })
  })
})

describe('wantsIdToken()', () => {
  it.each([
    ['openid', true],
    ['openid profile email', true],
    ['profile openid', true],
    ['profile\topenid\temail', true],
    ['profile email', false],
    ['openid_connect', false],
    ['myopenid', false],
    ['', false],
  ])('%j → %s', (scope, expected) => {
    expect(wantsIdToken(scope)).toBe(expected)
  })
})

describe('extraParameters()', () => {
  it('is empty when only the scope is set', () => {
    expect(extraParameters(authorizationRequestWith({ scope: 'openid' }))).toEqual([])
  })

  it('gives every field its wire name in a stable order, authorization_details last after the --param pairs', () => {
    const request = authorizationRequestWith({
      scope: 'openid',
      audience: 'https://api.test/',
      resources: ['https://r1.test/', 'https://r2.test/'],
      organization: 'org_123',
      invitation: 'inv_456',
      connection: 'github',
      prompt: 'consent',
      maxAgeSeconds: 0,
      loginHint: 'user@example.com',
      responseMode: 'query',
      authorizationDetails: '[{"type":"payment_initiation"}]',
      params: [
        ['acr_values', 'urn:mfa'],
        ['ui_locales', 'fr'],
      ],
      // Not extra parameters: prepareRequest sends these under their own names.
      codeVerifier: RFC_VERIFIER,
      state: 'fixed-state',
      nonce: 'fixed-nonce',
      par: true,
    })
    expect(extraParameters(request)).toEqual([
      ['audience', 'https://api.test/'],
      ['resource', 'https://r1.test/'],
      ['resource', 'https://r2.test/'],
      ['organization', 'org_123'],
      ['invitation', 'inv_456'],
      ['connection', 'github'],
      ['prompt', 'consent'],
      ['max_age', '0'],
      ['login_hint', 'user@example.com'],
      ['response_mode', 'query'],
      ['acr_values', 'urn:mfa'],
      ['ui_locales', 'fr'],
      ['authorization_details', '[{"type":"payment_initiation"}]'],
    ])
  })
})

describe('prepareRequest()', () => {
  it('draws the verifier, state and nonce from ctx.random and makes an S256 request with a nonce for openid', () => {
    const { ctx, flow } = setup()
    const prepared = prepareRequest(
      options(authorizationRequestWith({ scope: 'openid profile', audience: 'https://api.test/' })),
      REDIRECT,
      flow,
      ctx,
    )
    expect(prepared.codeVerifier).toBe(SEEDED.codeVerifier)
    expect(prepared.codeChallenge).toBe(SEEDED.codeChallenge)
    expect(prepared.state).toBe(SEEDED.state)
    expect(prepared.nonce).toBe(SEEDED.nonce)
    expect([...prepared.params]).toEqual([
      ['response_type', 'code'],
      ['client_id', 'abc'],
      ['redirect_uri', REDIRECT],
      ['scope', 'openid profile'],
      ['state', SEEDED.state],
      ['nonce', SEEDED.nonce],
      ['code_challenge', SEEDED.codeChallenge],
      ['code_challenge_method', 'S256'],
      ['audience', 'https://api.test/'],
    ])
    expect(ctx.events).toEqual([
      `step PKCE code_verifier ${SEEDED.codeVerifier}`,
      `step PKCE code_challenge ${SEEDED.codeChallenge} (S256)`,
    ])
    expect(ctx.stdout()).toBe('')
  })

  it('sends no nonce without openid and draws none', () => {
    const { ctx, flow } = setup()
    const prepared = prepareRequest(
      options(authorizationRequestWith({ scope: 'profile' })),
      REDIRECT,
      flow,
      ctx,
    )
    expect(prepared.nonce).toBeUndefined()
    expect(prepared.params.has('nonce')).toBe(false)
    // The next draw starts after the state's 32 bytes: no nonce was taken from ctx.random.
    expect(ctx.random(1)).toEqual(Uint8Array.of(64))
  })

  it('honours a fixed code_verifier, state and nonce (RFC 7636 Appendix B challenge)', () => {
    const { ctx, flow } = setup()
    const prepared = prepareRequest(
      options(
        authorizationRequestWith({
          scope: 'openid',
          codeVerifier: RFC_VERIFIER,
          state: 'fixed-state',
          nonce: 'fixed-nonce',
        }),
      ),
      REDIRECT,
      flow,
      ctx,
    )
    expect(prepared).toMatchObject({
      codeVerifier: RFC_VERIFIER,
      codeChallenge: RFC_CHALLENGE,
      state: 'fixed-state',
      nonce: 'fixed-nonce',
    })
    expect(prepared.params.get('code_challenge')).toBe(RFC_CHALLENGE)
    expect(prepared.params.get('code_challenge_method')).toBe('S256')
    expect(prepared.params.get('state')).toBe('fixed-state')
    expect(prepared.params.get('nonce')).toBe('fixed-nonce')
    expect(prepared.params.has('code_verifier')).toBe(false)
  })

  it('sends no dpop_jkt without a DPoP key', () => {
    const { ctx, flow } = setup()
    const prepared = prepareRequest(
      options(authorizationRequestWith({ scope: 'profile' })),
      REDIRECT,
      flow,
      ctx,
    )
    expect(prepared.params.has('dpop_jkt')).toBe(false)
  })

  it("sends dpop_jkt, the DPoP key's thumbprint, after code_challenge_method", async () => {
    const { ctx, flow } = setup()
    const jkt = await withDpop(flow, ctx)
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/u)
    const prepared = prepareRequest(
      options(authorizationRequestWith({ scope: 'profile', prompt: 'login' })),
      REDIRECT,
      flow,
      ctx,
    )
    expect([...prepared.params.keys()]).toEqual([
      'response_type',
      'client_id',
      'redirect_uri',
      'scope',
      'state',
      'code_challenge',
      'code_challenge_method',
      'dpop_jkt',
      'prompt',
    ])
    expect(prepared.params.get('dpop_jkt')).toBe(jkt)
  })
})

describe('authorizationRequest()', () => {
  it('direct: puts the parameters on authorization_endpoint after its own query, without a request', async () => {
    const { ctx, flow } = setup()
    const authorization = await authorizationRequest(
      options(authorizationRequestWith({ scope: 'profile', state: 'st' })),
      { ...AS, authorization_endpoint: `${ORIGIN}/authorize?p=B2C_1_signin` },
      REDIRECT,
      false,
      flow,
      ctx,
    )
    expect(authorization.par).toBeNull()
    expect(authorization.url.origin + authorization.url.pathname).toBe(`${ORIGIN}/authorize`)
    expect([...authorization.url.searchParams]).toEqual([
      ['p', 'B2C_1_signin'],
      ['response_type', 'code'],
      ['client_id', 'abc'],
      ['redirect_uri', REDIRECT],
      ['scope', 'profile'],
      ['state', 'st'],
      ['code_challenge', authorization.request.codeChallenge],
      ['code_challenge_method', 'S256'],
    ])
    expect(authorization.request.state).toBe('st')
    expect(flow.warnings).toEqual([])
  })

  it('pushed: POSTs the parameters to the PAR endpoint; the URL carries only client_id and request_uri', async () => {
    const par = tenant.parEndpoint(
      { request_uri: 'urn:ietf:params:oauth:request_uri:6esc', expires_in: 60 },
      { path: '/par' },
    )
    const { ctx, flow } = setup()
    const authorization = await authorizationRequest(
      options(authorizationRequestWith({ scope: 'openid', prompt: 'login' })),
      AS,
      REDIRECT,
      true,
      flow,
      ctx,
    )
    expect(authorization.url.href).toBe(
      `${ORIGIN}/authorize?client_id=abc&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc`,
    )
    expect(authorization.par).toEqual({
      request_uri: 'urn:ietf:params:oauth:request_uri:6esc',
      expires_in: 60,
      expires_at: '2026-11-24T12:01:00.000Z',
    })
    expect([...par.form()]).toEqual([
      ['response_type', 'code'],
      ['client_id', 'abc'],
      ['redirect_uri', REDIRECT],
      ['scope', 'openid'],
      ['state', SEEDED.state],
      ['nonce', SEEDED.nonce],
      ['code_challenge', SEEDED.codeChallenge],
      ['code_challenge_method', 'S256'],
      ['prompt', 'login'],
    ])
    expect(flow.warnings).toEqual([])
    expect(Object.keys(flow.timings)).toEqual(['par'])
    expect(ctx.events.slice(2)).toEqual([
      `step Pushing the authorization request to ${ORIGIN}/par`,
      'step request_uri urn:ietf:params:oauth:request_uri:6esc (expires in 60s)',
    ])
  })

  it('pushed: a 200 answer is accepted with the par_status_200 warning (RFC 9126 §2.2)', async () => {
    tenant.parEndpoint({ request_uri: 'urn:x', expires_in: 30 }, { status: 200, path: '/par' })
    const { ctx, flow } = setup()
    const authorization = await authorizationRequest(
      options(authorizationRequestWith({ scope: 'profile' })),
      AS,
      REDIRECT,
      true,
      flow,
      ctx,
    )
    expect(authorization.url.href).toBe(`${ORIGIN}/authorize?client_id=abc&request_uri=urn%3Ax`)
    expect(flow.warnings).toEqual([
      {
        code: 'par_status_200',
        message: 'the PAR endpoint answered 200; RFC 9126 §2.2 requires 201 Created',
      },
    ])
    expect(ctx.stderr()).toContain(
      'warning: the PAR endpoint answered 200; RFC 9126 §2.2 requires 201 Created (par_status_200)\n',
    )
  })
})

describe('presentAuthorizationUrl()', () => {
  const url = new URL(`${ORIGIN}/authorize?client_id=abc`)
  const NOTICE = `Open this URL to sign in:\n  ${url.href}\n`
  const NOT_OPENING =
    '• Not opening a browser (no terminal, or CI): open the URL above, or pass --browser <command>\n'

  function recording(extra: Parameters<typeof testCtx>[0] = {}): {
    ctx: TestCtx
    calls: [string, readonly string[] | undefined][]
  } {
    const calls: [string, readonly string[] | undefined][] = []
    const ctx = testCtx({
      openBrowser: (opened, command) => {
        calls.push([opened.href, command])
        return Promise.resolve()
      },
      ...extra,
    })
    return { ctx, calls }
  }

  it('none: prints the URL and opens nothing', async () => {
    const { ctx, calls } = recording({ tty: true })
    await presentAuthorizationUrl(url, { kind: 'none' }, ctx)
    expect(calls).toEqual([])
    expect(ctx.events).toEqual(['notice Open this URL to sign in:'])
    expect(ctx.stdout()).toBe('')
  })

  it('agent: prints the URL and hands it to the agent, not to ctx.openBrowser', async () => {
    const { ctx, calls } = recording()
    const agentUrls: string[] = []
    await presentAuthorizationUrl(url, { kind: 'agent', open: (u) => agentUrls.push(u.href) }, ctx)
    expect(agentUrls).toEqual([url.href])
    expect(calls).toEqual([])
    expect(ctx.stderr()).toBe(NOTICE)
  })

  it('command: ctx.openBrowser gets the URL and the argv, even with no TTY', async () => {
    const { ctx, calls } = recording()
    await presentAuthorizationUrl(url, { kind: 'command', argv: ['firefox', '--private'] }, ctx)
    expect(calls).toEqual([[url.href, ['firefox', '--private']]])
    expect(ctx.stderr()).toBe(NOTICE)
  })

  it('system on a TTY outside CI: ctx.openBrowser gets the URL and no argv', async () => {
    const { ctx, calls } = recording({ tty: true, env: { CI: '' } })
    await presentAuthorizationUrl(url, { kind: 'system' }, ctx)
    expect(calls).toEqual([[url.href, undefined]])
    expect(ctx.events).toEqual(['notice Open this URL to sign in:'])
  })

  it('system with no TTY: does not open, and says so', async () => {
    const { ctx, calls } = recording()
    await presentAuthorizationUrl(url, { kind: 'system' }, ctx)
    expect(calls).toEqual([])
    expect(ctx.stderr()).toBe(`${NOTICE}${NOT_OPENING}`)
  })

  it('system in CI (docs/security.md CI-3): does not open, even on a TTY', async () => {
    const { ctx, calls } = recording({ tty: true, env: { CI: 'true' } })
    await presentAuthorizationUrl(url, { kind: 'system' }, ctx)
    expect(calls).toEqual([])
    expect(ctx.events).toEqual([
      'notice Open this URL to sign in:',
      'step Not opening a browser (no terminal, or CI): open the URL above, or pass --browser <command>',
    ])
  })

  it('a browser that fails to start is a browser_failed warning, not a failure', async () => {
    const ctx = testCtx({ openBrowser: () => Promise.reject(new Error('spawn firefox ENOENT')) })
    await presentAuthorizationUrl(url, { kind: 'command', argv: ['firefox'] }, ctx)
    expect(ctx.stderr()).toBe(
      `${NOTICE}warning: could not open the browser (spawn firefox ENOENT); open the URL above yourself (browser_failed)\n`,
    )
    expect(ctx.events).toEqual(['notice Open this URL to sign in:', 'warn browser_failed'])
  })
})

describe('receiveCode() with a real loopback listener', () => {
  const listeners: Loopback[] = []
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((loopback) => loopback.close()))
  })

  async function listening(ctx: TestCtx): Promise<Loopback> {
    const loopback = await startListener(new URL('http://127.0.0.1:0/callback'), ctx)
    listeners.push(loopback)
    return loopback
  }

  function authorizationFor(loopback: Loopback, ctx: TestCtx, flow: Flow) {
    const request = prepareRequest(
      options(authorizationRequestWith({ scope: 'profile', state: 'the-state' })),
      loopback.redirectUri.href,
      flow,
      ctx,
    )
    return { request, url: new URL(`${ORIGIN}/authorize`), par: null }
  }

  it('returns the code of a callback with the right state and records callback.state', async () => {
    const { ctx, flow } = setup()
    const loopback = await listening(ctx)
    expect(loopback.redirectUri.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/u)
    expect(loopback.redirectUri.port).not.toBe('0')
    const waiting = receiveCode(
      loopback,
      authorizationFor(loopback, ctx, flow),
      { as: AS, issuer: ISSUER, timeoutMs: 5000 },
      flow,
      ctx,
    )
    const browser = fetch(`${loopback.redirectUri.href}?code=the-code&state=the-state`)
    expect(await waiting).toBe('the-code')
    await loopback.finish({ ok: true, title: 'Signed in', message: 'done' })
    expect((await browser).status).toBe(200)
    expect(flow.checks).toEqual([
      { name: 'callback.state', ok: true, detail: 'equals the state sent' },
    ])
    expect(flow.warnings).toEqual([])
    expect(Object.keys(flow.timings)).toEqual(['authorize'])
    expect(ctx.events).toContain(
      `wait Waiting for the callback on ${loopback.redirectUri.href} (up to 5s, Ctrl-C to stop)`,
    )
    expect(ctx.events.at(-1)).toBe('step Callback received')
  })

  it('records callback.iss, and warns iss_unadvertised when the metadata does not advertise it', async () => {
    const { ctx, flow } = setup()
    const loopback = await listening(ctx)
    const waiting = receiveCode(
      loopback,
      authorizationFor(loopback, ctx, flow),
      { as: AS, issuer: ISSUER, timeoutMs: 5000 },
      flow,
      ctx,
    )
    const query = new URLSearchParams({ code: 'c', state: 'the-state', iss: ISSUER })
    const browser = fetch(`${loopback.redirectUri.href}?${query.toString()}`)
    expect(await waiting).toBe('c')
    await loopback.finish({ ok: true, title: 'Signed in', message: 'done' })
    await browser
    expect(flow.checks).toEqual([
      { name: 'callback.state', ok: true, detail: 'equals the state sent' },
      { name: 'callback.iss', ok: true, detail: `equals ${ISSUER}` },
    ])
    expect(flow.warnings).toEqual([
      {
        code: 'iss_unadvertised',
        message:
          'the callback carries iss although the metadata does not advertise authorization_response_iss_parameter_supported',
      },
    ])
  })

  it('refuses a callback with another state (state_mismatch); the page names only the code', async () => {
    const { ctx, flow } = setup()
    const loopback = await listening(ctx)
    const waiting = receiveCode(
      loopback,
      authorizationFor(loopback, ctx, flow),
      { as: AS, issuer: ISSUER, timeoutMs: 5000 },
      flow,
      ctx,
    )
    const browser = fetch(`${loopback.redirectUri.href}?code=the-code&state=forged`)
    const error = await rejection(waiting)
    expect(error.code).toBe('state_mismatch')
    expect(error.message).toBe('the callback state "forged" does not match')
    expect(error.stage).toBe('callback')
    expect(flow.checks).toEqual([])
    await loopback.finish(failurePage(error, ctx))
    const page = await browser
    expect(page.status).toBe(400)
    const html = await page.text()
    expect(html).toContain(
      '<p>The callback was refused (state_mismatch). See the terminal for details.</p>',
    )
    expect(html).not.toContain('forged')
  })
})

describe('failurePage()', () => {
  it('names only the code for a callback-stage failure (docs/security.md LL-7)', () => {
    const error = new CliError(
      'authorization_error',
      'authorization failed: access_denied: <script>alert(1)</script>',
      { stage: 'callback' },
    )
    expect(failurePage(error, testCtx())).toEqual({
      ok: false,
      title: 'Sign-in failed',
      message: 'The callback was refused (authorization_error). See the terminal for details.',
    })
  })

  it('shows a later failure with its secrets redacted (docs/security.md SO-2)', () => {
    const ctx = testCtx()
    ctx.secrets.add('s3cr3t-client-value')
    const error = new CliError('token_error', 'token request rejected: s3cr3t-client-value', {
      stage: 'token',
    })
    expect(failurePage(error, ctx)).toEqual({
      ok: false,
      title: 'Sign-in failed',
      message:
        'token request rejected: [redacted 19 chars] (token_error) See the terminal for details.',
    })
  })

  it('shows a failure without a stage in full', () => {
    const error = new CliError('usage_error', 'the redirect URI is busy')
    expect(failurePage(error, testCtx()).message).toBe(
      'the redirect URI is busy (usage_error) See the terminal for details.',
    )
  })

  it('shows only a generic message for an internal error', () => {
    expect(failurePage(new TypeError('x is undefined at /home/me/secret'), testCtx())).toEqual({
      ok: false,
      title: 'Sign-in failed',
      message: 'pkce hit an internal error; see the terminal.',
    })
  })
})
