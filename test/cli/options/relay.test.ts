import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addRelayOptions, toRelayOptions } from '../../../src/cli/options/relay.js'
import type { RawRelayOptions } from '../../../src/cli/options/relay.js'
import { rejection } from '../../helpers/cli-error.js'
import { REDIRECT } from '../../helpers/flow-options.js'
import { ORIGIN } from '../../helpers/mock-tenant.js'
import { testCtx } from '../../helpers/test-ctx.js'

const REQUEST_URI = 'urn:ietf:params:oauth:request_uri:6esc'
const PUSHED_URL = `${ORIGIN}/authorize?client_id=abc&request_uri=${encodeURIComponent(REQUEST_URI)}`
const NO_REDIRECT_HINT =
  'a pushed request keeps it on the server: pass --redirect-uri as pkce authorize printed'

/** An authorization URL as `pkce authorize` prints it for a direct request to `redirectUri`. */
function directUrl(redirectUri: string, origin = ORIGIN): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'abc',
    redirect_uri: redirectUri,
    state: 'the-state',
  })
  return `${origin}/authorize?${query.toString()}`
}

function parse(argv: string[]): { raw: RawRelayOptions; url: string } {
  let url = ''
  const command = addRelayOptions(new Command().argument('<url>'))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .action((given: string) => {
      url = given
    })
  command.parse(argv, { from: 'user' })
  return { raw: command.opts<RawRelayOptions>(), url }
}

async function relayOptionsFor(argv: string[], env: Record<string, string> = {}) {
  const { raw, url } = parse(argv)
  return toRelayOptions(raw, url, testCtx({ env }))
}

describe('toRelayOptions()', () => {
  it("listens on the redirect URI in the URL's query; the system browser, 300 s", async () => {
    const url = directUrl(REDIRECT)
    const opts = await relayOptionsFor([url])
    expect(opts.authorizationUrl.href).toBe(url)
    expect(opts.redirectUri.href).toBe(REDIRECT)
    expect(opts.listener).toEqual({
      browser: { kind: 'system' },
      timeoutMs: 300_000,
      receipt: 'listener',
    })
  })

  it('takes the browser flags of login: --no-browser, --browser <command>, --timeout, $PKCE_BROWSER', async () => {
    const url = directUrl('http://localhost:3000/cb')
    const none = await relayOptionsFor([url, '--no-browser', '--timeout', '20'])
    expect(none.redirectUri.href).toBe('http://localhost:3000/cb')
    expect(none.listener).toEqual({
      browser: { kind: 'none' },
      timeoutMs: 20_000,
      receipt: 'listener',
    })
    const command = await relayOptionsFor([url, '--browser', 'firefox --private-window'])
    expect(command.listener.browser).toEqual({
      kind: 'command',
      argv: ['firefox', '--private-window'],
    })
    const fromEnv = await relayOptionsFor([url], { PKCE_BROWSER: 'chromium' })
    expect(fromEnv.listener.browser).toEqual({ kind: 'command', argv: ['chromium'] })
  })

  it('pushed request: the redirect URI from --redirect-uri, since the URL has none', async () => {
    const opts = await relayOptionsFor([PUSHED_URL, '--redirect-uri', 'http://127.0.0.1:9000/cb'])
    expect(opts.authorizationUrl.href).toBe(PUSHED_URL)
    expect(opts.redirectUri.href).toBe('http://127.0.0.1:9000/cb')
  })

  it('refuses a URL with no redirect URI and no --redirect-uri, saying what to pass', async () => {
    const error = await rejection(relayOptionsFor([PUSHED_URL]))
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe('the authorization URL has no redirect_uri')
    expect(error.hint).toBe(NO_REDIRECT_HINT)
  })

  it('does not take $PKCE_REDIRECT_URI for a URL without one: only the printed command knows it', async () => {
    const error = await rejection(
      relayOptionsFor([PUSHED_URL], { PKCE_REDIRECT_URI: 'http://127.0.0.1:9000/cb' }),
    )
    expect(error.message).toBe('the authorization URL has no redirect_uri')
  })

  it.each([
    'https://app.example.com/callback',
    'https://127.0.0.1:8484/callback',
    'http://app.example.com:8484/callback',
    'http://192.168.1.10:8484/callback',
    'com.example.app:/callback',
  ])('refuses the redirect URI %s: relay listens on loopback http only', async (redirectUri) => {
    const error = await rejection(relayOptionsFor([directUrl(redirectUri)]))
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(
      `the redirect URI must be http on localhost, 127.0.0.1 or [::1], not ${redirectUri}`,
    )
    expect(error.hint).toBe('pkce receives the code on a loopback listener (RFC 8252 §7.3)')
  })

  it('refuses a non-loopback --redirect-uri the same way', async () => {
    const error = await rejection(
      relayOptionsFor([PUSHED_URL, '--redirect-uri', 'https://app.example.com/callback']),
    )
    expect(error.message).toBe(
      'the redirect URI must be http on localhost, 127.0.0.1 or [::1], not https://app.example.com/callback',
    )
  })

  it('a redirect URI without a port is port 80, a fixed one, as authorize accepts it (issue 12: relay refused what authorize printed)', async () => {
    const options = await relayOptionsFor([directUrl('http://127.0.0.1/callback')])
    expect(options.redirectUri.href).toBe('http://127.0.0.1/callback')
  })

  it("--redirect-uri that differs from the URL's own redirect_uri is refused (the listener would wait where the browser never goes)", async () => {
    const error = await rejection(
      relayOptionsFor([
        directUrl('http://127.0.0.1:8484/callback'),
        '--redirect-uri',
        'http://127.0.0.1:9999/other',
      ]),
    )
    expect(error.message).toBe(
      "--redirect-uri http://127.0.0.1:9999/other differs from the URL's redirect_uri http://127.0.0.1:8484/callback",
    )
  })

  it.each(['http://127.0.0.1:0/callback'])(
    'refuses %s: relay needs a fixed port to listen on',
    async (redirectUri) => {
      const error = await rejection(relayOptionsFor([directUrl(redirectUri)]))
      expect(error.code).toBe('usage_error')
      expect(error.message).toBe(`relay needs a fixed port in the redirect URI, not ${redirectUri}`)
    },
  )

  it('refuses an http authorization URL to a non-loopback host (insecure_not_loopback)', async () => {
    const error = await rejection(relayOptionsFor([directUrl(REDIRECT, 'http://tenant.test')]))
    expect(error.code).toBe('insecure_not_loopback')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(
      'the authorization URL: plain http is only accepted for a loopback host, not tenant.test',
    )
    expect(error.hint).toBe('use https')
  })

  it('accepts an http authorization URL on a loopback host (a local test server)', async () => {
    const url = directUrl(REDIRECT, 'http://127.0.0.1:4000')
    expect((await relayOptionsFor([url])).authorizationUrl.href).toBe(url)
  })

  it.each([
    [
      '-https://tenant.test/authorize',
      'the authorization URL -https://tenant.test/authorize is not a URL',
    ],
    ['--help', 'the authorization URL --help is not a URL'],
    ['-x', 'the authorization URL -x is not a URL'],
  ])('refuses %s, which starts with "-" (docs/security.md AR-2)', async (url, message) => {
    // Given after --, as commander would otherwise read it as a flag.
    const error = await rejection(toRelayOptions({}, url, testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(message)
    const parsed = parse(['--', url])
    expect(parsed.url).toBe(url)
    await expect(toRelayOptions(parsed.raw, parsed.url, testCtx())).rejects.toMatchObject({
      code: 'usage_error',
      message,
    })
  })

  it.each([
    ['javascript:alert(1)', 'the authorization URL must be an https URL, not javascript:'],
    ['file:///etc/passwd', 'the authorization URL must be an https URL, not file:'],
    ['not a url', 'the authorization URL not a url is not a URL'],
  ])('refuses %s', async (url, message) => {
    const error = await rejection(toRelayOptions({}, url, testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(message)
  })
})
