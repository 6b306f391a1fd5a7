import { describe, expect, it } from 'vitest'
import { extraParameters } from '../../src/commands/authorize-step.js'
import type { RawLoginOptions } from '../../src/cli/options/flow.js'
import { toLoginOptions } from '../../src/cli/options/flow.js'
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
      '--client-secret-file',
      '-',
    ])
    expect(code).toBe(0)
    expect(command).toBe('login')
    // Commander applies no defaults: "not given" stays visible to the converters.
    expect(options).toEqual({
      domain: 'acme.eu.auth0.com',
      clientId: 'abc',
      clientSecretFile: '-',
      browser: true,
      color: true,
    })
    const converted = await toLoginOptions(
      options as RawLoginOptions,
      testCtx({ stdin: 's3cret\n' }),
    )
    expect(converted).toMatchObject({
      target: {
        issuer: 'https://acme.eu.auth0.com/',
        client: { client_id: 'abc', auth: { method: 'client_secret_post', secret: 's3cret' } },
      },
      request: { scope: 'openid profile email', par: false },
      listener: { timeoutMs: 300_000, browser: { kind: 'system' } },
      http: { timeoutMs: 30_000 },
      clockToleranceSeconds: 60,
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
    const converted = await toLoginOptions(options as RawLoginOptions, testCtx())
    expect(extraParameters(converted.request)).toEqual([
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

  it('--param with a parameter pkce sets itself is protected_parameter, exit 2, before any request', async () => {
    const ctx = testCtx()
    const code = await main(
      ['login', '--domain', 'a.b', '--client-id', 'c', '--param', 'state=x', '--json'],
      ctx,
    )
    expect(code).toBe(2)
    expect(JSON.parse(ctx.stdout())).toEqual({
      ok: false,
      error: {
        code: 'protected_parameter',
        message: '"state" is set by pkce itself and cannot be passed with --param',
        hint: 'use the flag for it, or drop --param state=…',
      },
    })
  })

  it.each([
    [
      ['--param', 'state'],
      "error: option '--param <key=value>' argument 'state' is invalid. expected key=value",
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
