import { describe, expect, it } from 'vitest'
import type { RawLoginOptions } from '../../src/cli/options.js'
import { toExtraParams, toIssuer, toRedirectUri } from '../../src/cli/options.js'
import { main } from '../../src/main.js'
import { testCtx } from '../helpers/test-ctx.js'

/** Parses argv through the real program, capturing what the action would get (gh's runF). */
async function parse(
  argv: string[],
): Promise<{ code: number; command?: string; options?: RawLoginOptions; stderr: string }> {
  const ctx = testCtx()
  let captured: { command: string; options: RawLoginOptions } | undefined
  const code = await main(argv, ctx, {
    run: (command, options) => {
      captured = { command, options: options as RawLoginOptions }
      return Promise.resolve()
    },
  })
  return { code, ...captured, stderr: ctx.stderr() }
}

describe('pkce login argv → options', () => {
  it('defaults: scope, timeouts, tolerance, browser on, client_secret_post', async () => {
    const { code, command, options } = await parse([
      'login',
      '--domain',
      'acme.eu.auth0.com',
      '--client-id',
      'abc',
    ])
    expect(code).toBe(0)
    expect(command).toBe('login')
    expect(options).toMatchObject({
      domain: 'acme.eu.auth0.com',
      clientId: 'abc',
      scope: 'openid profile email',
      timeout: 300,
      httpTimeout: 30,
      clockTolerance: 60,
      browser: true,
      clientAuth: 'client_secret_post',
    })
  })

  it('every /authorize parameter, in wire names and a stable order; --param and --resource repeat', async () => {
    const { options } = await parse([
      'login',
      '--issuer',
      'https://id.example.com',
      '--client-id',
      'abc',
      '--audience',
      'https://api/',
      '--resource',
      'https://r1/',
      '--resource',
      'https://r2/',
      '--organization',
      'org_1',
      '--invitation',
      'inv',
      '--connection',
      'github',
      '--prompt',
      'login',
      '--max-age',
      '600',
      '--login-hint',
      'ada@example.com',
      '--response-mode',
      'query',
      '--param',
      'ext-a=1',
      '--param',
      'screen_hint=signup',
    ])
    expect(toExtraParams(options as RawLoginOptions)).toEqual([
      ['audience', 'https://api/'],
      ['resource', 'https://r1/'],
      ['resource', 'https://r2/'],
      ['organization', 'org_1'],
      ['invitation', 'inv'],
      ['connection', 'github'],
      ['prompt', 'login'],
      ['max_age', '600'],
      ['login_hint', 'ada@example.com'],
      ['response_mode', 'query'],
      ['ext-a', '1'],
      ['screen_hint', 'signup'],
    ])
  })

  it('--no-browser and --browser <command> reach the options as false and a string', async () => {
    expect(
      (await parse(['login', '--domain', 'a.b', '--client-id', 'c', '--no-browser'])).options
        ?.browser,
    ).toBe(false)
    expect(
      (
        await parse([
          'login',
          '--domain',
          'a.b',
          '--client-id',
          'c',
          '--browser',
          'firefox --private',
        ])
      ).options?.browser,
    ).toBe('firefox --private')
  })

  it.each([
    [
      ['--param', 'state=x'],
      "error: option '--param <key=value>' argument 'state=x' is invalid. \"state\" is set by pkce itself and cannot be passed with --param",
    ],
    [
      ['--port', '70000'],
      "error: option '--port <n>' argument '70000' is invalid. expected a whole number from 0 to 65535",
    ],
    [
      ['--domain', 'x.y', '--issuer', 'https://x.y/'],
      "error: option '--domain <host[:port]>' cannot be used with option '--issuer <url>'",
    ],
    [
      ['--port', '1', '--redirect-uri', 'http://localhost:3000/callback'],
      "error: option '--port <n>' cannot be used with option '--redirect-uri <uri>'",
    ],
  ])('%j is a usage error, exit 2, before anything runs', async (args, message) => {
    const { code, command, stderr } = await parse(['login', '--client-id', 'c', ...args])
    expect(code).toBe(2)
    expect(command).toBeUndefined()
    expect(stderr.split('\n')[0]).toBe(message)
  })
})

describe('option conversions', () => {
  it('--domain means https://<domain>/; --issuer is kept exactly as typed', () => {
    expect(toIssuer({ domain: 'acme.eu.auth0.com:8443', clientAuth: 'client_secret_post' })).toBe(
      'https://acme.eu.auth0.com:8443/',
    )
    expect(
      toIssuer({ issuer: 'https://accounts.google.com', clientAuth: 'client_secret_post' }),
    ).toBe('https://accounts.google.com')
  })

  it('the redirect URI: default, --port, PKCE_REDIRECT_URI, and only loopback http', () => {
    const raw = { scope: 'openid' }
    expect(toRedirectUri(raw, {}).href).toBe('http://127.0.0.1:8484/callback')
    expect(toRedirectUri({ ...raw, port: 9000 }, {}).href).toBe('http://127.0.0.1:9000/callback')
    expect(toRedirectUri(raw, { PKCE_REDIRECT_URI: 'http://localhost:3000/callback' }).href).toBe(
      'http://localhost:3000/callback',
    )
    expect(() =>
      toRedirectUri({ ...raw, redirectUri: 'https://app.example.com/callback' }, {}),
    ).toThrow(
      'the redirect URI must be http on localhost, 127.0.0.1 or [::1], not https://app.example.com/callback',
    )
  })
})
