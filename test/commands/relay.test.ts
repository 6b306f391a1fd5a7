import { createServer } from 'node:net'
import { fetch } from 'undici'
import type { Response } from 'undici'
import { describe, expect, it } from 'vitest'
import { runRelay } from '../../src/commands/relay.js'
import type { RelayOptions } from '../../src/commands/relay.js'
import type { BrowserMode } from '../../src/commands/authorize-step.js'
import { rejection } from '../helpers/cli-error.js'
import { ORIGIN } from '../helpers/mock-tenant.js'
import { testCtx } from '../helpers/test-ctx.js'

// pkce relay's listener is a real loopback server on a port found free just before; the "browser"
// is an agent that calls the callback URL as a provider's redirect would.

const CODE = 'relay-code-Zq9vK'
const STATE = 'relay-state-Xy7pW'

/** A loopback port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

function relayOptions(redirectUri: URL, browser: BrowserMode, timeoutMs = 5000): RelayOptions {
  const authorizationUrl = new URL(`${ORIGIN}/authorize`)
  authorizationUrl.search = new URLSearchParams({
    client_id: 'abc',
    redirect_uri: redirectUri.href,
  }).toString()
  return { authorizationUrl, redirectUri, listener: { browser, timeoutMs, receipt: 'listener' } }
}

describe('runRelay() with a real loopback listener', () => {
  it('hands back exactly the callback URL, and the browser gets the "Handing the login back" page', async () => {
    const port = await freePort()
    const redirectUri = new URL(`http://127.0.0.1:${port}/callback`)
    const callbackUrl = `${redirectUri.href}?code=${CODE}&state=${STATE}`
    const opened: string[] = []
    let page: Promise<Response> | undefined
    const ctx = testCtx()
    const result = await runRelay(
      relayOptions(redirectUri, {
        kind: 'agent',
        open: (url) => {
          opened.push(url.href)
          page = fetch(callbackUrl)
        },
      }),
      ctx,
    )
    expect(result).toEqual({ callback_url: callbackUrl })
    expect(opened).toEqual([relayOptions(redirectUri, { kind: 'none' }).authorizationUrl.href])

    if (page === undefined) throw new Error('the browser was never opened')
    const response = await page
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await response.text()
    expect(html).toContain('<title>pkce: Handing the login back</title>')
    expect(html).toContain('<h1>Handing the login back</h1>')
    expect(html).toContain(
      '<p>pkce relay printed the callback URL in its terminal: paste it into pkce exchange on the machine that started the login.</p>',
    )
    // docs/security.md LL-7: nothing from the query comes back in the page.
    expect(html).not.toContain(CODE)
    expect(html).not.toContain(STATE)

    // stdout is left to the caller (the URL alone); stderr holds the conversation.
    expect(ctx.stdout()).toBe('')
    expect(ctx.stderr()).toBe(
      [
        `• Listening on ${redirectUri.href}: it must be in the application's Allowed Callback URLs, exactly`,
        'Open this URL to sign in:',
        `  ${opened[0] ?? ''}`,
        `• Waiting for the callback on ${redirectUri.href} (up to 5s, Ctrl-C to stop)`,
        '• Callback received: paste the URL below into pkce exchange on the other machine',
        '',
      ].join('\n'),
    )
    // docs/security.md LL-3: the port is closed once the callback is handed back.
    await expect(fetch(callbackUrl)).rejects.toThrow()
  })

  it('relays an error redirect as it came: relay has no state to check it against', async () => {
    const port = await freePort()
    const redirectUri = new URL(`http://127.0.0.1:${port}/callback`)
    const callbackUrl = `${redirectUri.href}?error=access_denied&state=${STATE}`
    let page: Promise<Response> | undefined
    const result = await runRelay(
      relayOptions(redirectUri, {
        kind: 'agent',
        open: () => {
          page = fetch(callbackUrl)
        },
      }),
      testCtx(),
    )
    expect(result).toEqual({ callback_url: callbackUrl })
    expect((await page)?.status).toBe(200)
  })

  it('ignores other paths and waits for the callback (docs/security.md LL-4)', async () => {
    const port = await freePort()
    const redirectUri = new URL(`http://127.0.0.1:${port}/callback`)
    const callbackUrl = `${redirectUri.href}?code=${CODE}&state=${STATE}`
    const statuses: number[] = []
    const ctx = testCtx()
    const result = await runRelay(
      relayOptions(redirectUri, {
        kind: 'agent',
        open: () => {
          void (async () => {
            statuses.push((await fetch(`http://127.0.0.1:${port}/favicon.ico`)).status)
            statuses.push((await fetch(callbackUrl)).status)
          })()
        },
      }),
      ctx,
    )
    expect(result).toEqual({ callback_url: callbackUrl })
    await expect.poll(() => statuses).toEqual([404, 200])
    expect(ctx.events).toContain('step listener: a request for /favicon.ico was ignored')
  })

  it('fails with callback_timeout (exit 5) when no callback comes, and closes the port', async () => {
    const port = await freePort()
    const redirectUri = new URL(`http://127.0.0.1:${port}/callback`)
    const ctx = testCtx()
    const error = await rejection(runRelay(relayOptions(redirectUri, { kind: 'none' }, 1000), ctx))
    expect(error.code).toBe('callback_timeout')
    expect(error.exitCode).toBe(5)
    expect(error.stage).toBe('callback')
    expect(error.message).toBe('no callback arrived within 1s')
    expect(error.hint).toBe(
      `if the browser shows "Callback URL mismatch", add ${redirectUri.href} to the application's Allowed Callback URLs; otherwise raise --timeout`,
    )
    expect(ctx.stdout()).toBe('')
    await expect(fetch(`${redirectUri.href}?code=late&state=late`)).rejects.toThrow()
  })

  it('fails with port_in_use when the redirect URI port is taken, before the browser opens', async () => {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    try {
      const address = holder.address()
      if (address === null || typeof address === 'string') throw new Error('no port')
      const opened: URL[] = []
      const error = await rejection(
        runRelay(
          relayOptions(new URL(`http://127.0.0.1:${address.port}/callback`), {
            kind: 'agent',
            open: (url) => opened.push(url),
          }),
          testCtx(),
        ),
      )
      expect(error.code).toBe('port_in_use')
      expect(error.exitCode).toBe(5)
      expect(opened).toEqual([])
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()))
    }
  })
})
