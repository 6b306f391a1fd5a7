import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import {
  addListenerOptions,
  DEFAULT_REDIRECT_URI,
  toBrowserOptions,
  toListenerOptions,
  toRedirectUri,
  toTimeoutMs,
} from '../../../src/cli/options/listener.js'
import type { RawBrowserOptions, RawListenerOptions } from '../../../src/cli/options/listener.js'
import { isLoopbackHost } from '../../../src/oauth/endpoint.js'
import { rejection } from '../../helpers/cli-error.js'
import { testCtx } from '../../helpers/test-ctx.js'

const NOT_LOOPBACK = (uri: string): string =>
  `the redirect URI must be http on localhost, 127.0.0.1 or [::1], not ${uri}`

function parse(argv: string[]): RawListenerOptions {
  const command = addListenerOptions(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
  command.parse(argv, { from: 'user' })
  return command.opts<RawListenerOptions>()
}

describe('toRedirectUri() https://www.rfc-editor.org/rfc/rfc8252#section-7.3', () => {
  it('defaults to http://127.0.0.1:8484/callback', async () => {
    expect(DEFAULT_REDIRECT_URI).toBe('http://127.0.0.1:8484/callback')
    expect((await toRedirectUri({}, {})).href).toBe('http://127.0.0.1:8484/callback')
    expect((await toRedirectUri({}, { PKCE_REDIRECT_URI: '' })).href).toBe(
      'http://127.0.0.1:8484/callback',
    )
  })

  it.each([
    [0, 'http://127.0.0.1:0/callback'],
    [9000, 'http://127.0.0.1:9000/callback'],
  ])('--port %i sets the port of the default', async (port, href) => {
    expect((await toRedirectUri({ port }, {})).href).toBe(href)
  })

  it('takes PKCE_REDIRECT_URI when no flag is given', async () => {
    const env = { PKCE_REDIRECT_URI: 'http://localhost:7000/cb' }
    expect((await toRedirectUri({}, env)).href).toBe('http://localhost:7000/cb')
  })

  it('--redirect-uri wins over PKCE_REDIRECT_URI', async () => {
    const env = { PKCE_REDIRECT_URI: 'http://localhost:7000/cb' }
    expect((await toRedirectUri({ redirectUri: 'http://127.0.0.1:3000/x' }, env)).href).toBe(
      'http://127.0.0.1:3000/x',
    )
  })

  it('--port wins over PKCE_REDIRECT_URI', async () => {
    const env = { PKCE_REDIRECT_URI: 'http://localhost:7000/cb' }
    expect((await toRedirectUri({ port: 9000 }, env)).href).toBe('http://127.0.0.1:9000/callback')
  })

  it('issue 11: accepts http://127.0.0.2:9000/callback, a loopback host isLoopbackHost accepts (the redirect-URI check used to refuse it)', async () => {
    expect(isLoopbackHost('127.0.0.2')).toBe(true)
    expect((await toRedirectUri({ redirectUri: 'http://127.0.0.2:9000/callback' }, {})).href).toBe(
      'http://127.0.0.2:9000/callback',
    )
  })

  it.each(['http://[::1]:3000/cb', 'http://localhost:3000/callback', 'http://LOCALHOST/cb'])(
    'accepts %s',
    async (uri) => {
      expect((await toRedirectUri({ redirectUri: uri }, {})).href).toBe(new URL(uri).href)
    },
  )

  it.each([
    'https://127.0.0.1:8484/callback',
    'http://example.com/callback',
    'http://192.168.1.10:8484/callback',
    'http://127.0.0.1.example.com/callback',
    'com.example.app:/callback',
  ])('refuses %s', async (uri) => {
    const error = await rejection(toRedirectUri({ redirectUri: uri }, {}))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(NOT_LOOPBACK(uri))
    expect(error.hint).toBe('pkce receives the code on a loopback listener (RFC 8252 §7.3)')
  })

  it('refuses a non-loopback PKCE_REDIRECT_URI the same way', async () => {
    const error = await rejection(
      toRedirectUri({}, { PKCE_REDIRECT_URI: 'https://app.example.com/cb' }),
    )
    expect(error.message).toBe(NOT_LOOPBACK('https://app.example.com/cb'))
  })

  it('refuses a fragment', async () => {
    const error = await rejection(
      toRedirectUri({ redirectUri: 'http://127.0.0.1:8484/callback#x' }, {}),
    )
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('a redirect URI has no fragment')
  })

  it('refuses what is not a URL', async () => {
    const error = await rejection(toRedirectUri({ redirectUri: '127.0.0.1:8484/callback' }, {}))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('the redirect URI 127.0.0.1:8484/callback is not a URL')
  })
})

describe('toBrowserOptions()', () => {
  it('defaults to the system browser and a 300 s timeout', async () => {
    expect(await toBrowserOptions({}, {})).toEqual({
      browser: { kind: 'system' },
      timeoutMs: 300_000,
    })
    expect(toTimeoutMs(undefined)).toBe(300_000)
  })

  it('--no-browser: none, even with PKCE_BROWSER set', async () => {
    expect(await toBrowserOptions({ browser: false }, { PKCE_BROWSER: 'firefox' })).toEqual({
      browser: { kind: 'none' },
      timeoutMs: 300_000,
    })
  })

  it('--browser "firefox --private": the command as argv, no shell', async () => {
    expect((await toBrowserOptions({ browser: 'firefox --private' }, {})).browser).toEqual({
      kind: 'command',
      argv: ['firefox', '--private'],
    })
  })

  it('--browser wins over PKCE_BROWSER', async () => {
    expect(
      (await toBrowserOptions({ browser: 'firefox' }, { PKCE_BROWSER: 'chromium' })).browser,
    ).toEqual({ kind: 'command', argv: ['firefox'] })
  })

  it.each([undefined, true])('PKCE_BROWSER when --browser is %s', async (browser) => {
    const raw: RawBrowserOptions = browser === undefined ? {} : { browser }
    expect(
      (await toBrowserOptions(raw, { PKCE_BROWSER: "'/opt/My Browser/run' --new-window" })).browser,
    ).toEqual({ kind: 'command', argv: ['/opt/My Browser/run', '--new-window'] })
  })

  it('an empty PKCE_BROWSER is the system browser', async () => {
    expect((await toBrowserOptions({}, { PKCE_BROWSER: '' })).browser).toEqual({
      kind: 'system',
    })
  })

  it('--timeout in seconds', async () => {
    expect((await toBrowserOptions({ timeout: 30 }, {})).timeoutMs).toBe(30_000)
  })
})

describe('toListenerOptions()', () => {
  const redirect = new URL('http://127.0.0.1:8484/callback')

  it('the listener by default, with the browser options', async () => {
    expect(await toListenerOptions({}, redirect, testCtx())).toEqual({
      browser: { kind: 'system' },
      timeoutMs: 300_000,
      receipt: 'listener',
    })
  })

  it('--paste on a terminal, --remote anywhere', async () => {
    expect(
      (await toListenerOptions({ paste: true }, redirect, testCtx({ stdinIsTTY: true }))).receipt,
    ).toBe('paste')
    expect((await toListenerOptions({ remote: true }, redirect, testCtx())).receipt).toBe('remote')
  })

  it('--paste without a terminal on stdin is a usage error naming the other legs (docs/security.md CI-2)', async () => {
    const error = await rejection(toListenerOptions({ paste: true }, redirect, testCtx()))
    expect({ code: error.code, message: error.message, hint: error.hint }).toEqual({
      code: 'usage_error',
      message: '--paste asks for the callback URL on a terminal, and stdin is not one',
      hint: 'use pkce authorize, then pkce exchange --callback-url, or login --remote with the URL on stdin',
    })
  })

  it.each(['paste', 'remote'] as const)(
    '--%s with port 0 is a usage error: no listener picks a port',
    async (receipt) => {
      const error = await rejection(
        toListenerOptions(
          { [receipt]: true },
          new URL('http://127.0.0.1:0/callback'),
          testCtx({ stdinIsTTY: true }),
        ),
      )
      expect(error.message).toBe(`--${receipt} needs a fixed port in the redirect URI, not 0`)
    },
  )
})

describe('addListenerOptions()', () => {
  it('gives no defaults but the --no-browser one, so the converters apply them', () => {
    expect(parse([])).toEqual({ browser: true })
  })

  it('parses --no-browser, --port and --timeout', () => {
    expect(parse(['--no-browser', '--port', '0', '--timeout', '86400'])).toEqual({
      browser: false,
      port: 0,
      timeout: 86_400,
    })
  })

  it('refuses --port with --redirect-uri', () => {
    expect(() => parse(['--port', '1', '--redirect-uri', 'http://localhost:3000/cb'])).toThrow(
      "option '--port <n>' cannot be used with option '--redirect-uri <uri>'",
    )
  })

  it.each([
    [['--port', '65536'], "option '--port <n>' argument '65536' is invalid"],
    [['--timeout', '0'], "option '--timeout <seconds>' argument '0' is invalid"],
  ])('refuses %j', (argv, message) => {
    expect(() => parse(argv)).toThrow(message)
  })
})
