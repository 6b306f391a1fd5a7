import { createHash } from 'node:crypto'
import { createServer, connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { fetch } from 'undici'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { RELAY_SCRIPT, renderPage, startLoopback } from '../../src/net/loopback.js'
import type { Loopback } from '../../src/net/loopback.js'
import { rawRequest } from '../helpers/raw-request.js'
import type { RawResponse } from '../helpers/raw-request.js'

const open: Loopback[] = []
const strays: string[] = []

async function listener(redirectUri = 'http://127.0.0.1:0/callback'): Promise<Loopback> {
  const loopback = await startLoopback({
    redirectUri: new URL(redirectUri),
    onStray: (event) => strays.push(event),
  })
  open.push(loopback)
  return loopback
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((loopback) => loopback.close()))
  strays.length = 0
})

const never = new AbortController().signal

function refused(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    socket.on('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
  })
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}

function expectPageHeaders(response: RawResponse): void {
  for (const [name, value] of Object.entries(PAGE_HEADERS))
    expect(response.headers[name]).toBe(value)
  // LL-8: no CORS, so no page elsewhere can read an answer.
  expect(
    Object.keys(response.headers).filter((name) => name.startsWith('access-control-')),
  ).toEqual([])
}

const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find(
    (address) => address !== undefined && !address.internal && address.family === 'IPv4',
  )?.address

describe('startLoopback() https://www.rfc-editor.org/rfc/rfc8252#section-7.3', () => {
  it('LL-2: port 0 picks a free port and names it in the redirect URI', async () => {
    const loopback = await listener()
    expect(loopback.redirectUri.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/u)
    expect(loopback.redirectUri.port).not.toBe('0')
  })

  it.skipIf(externalAddress === undefined)(
    'LL-1: binds loopback only: the port is closed on a non-loopback address',
    async () => {
      const loopback = await listener()
      const port = Number(loopback.redirectUri.port)
      expect(await refused('127.0.0.1', port)).toBe('connected')
      expect(await refused(externalAddress ?? '', port)).toBe('ECONNREFUSED')
    },
  )

  it('LL-1, AR-5: a localhost redirect binds 127.0.0.1 and ::1, the same port', async () => {
    const loopback = await listener('http://localhost:0/callback')
    const port = Number(loopback.redirectUri.port)
    expect(loopback.redirectUri.host).toBe(`localhost:${port}`)
    expect(await refused('127.0.0.1', port)).toBe('connected')
    expect(['connected', 'EADDRNOTAVAIL', 'EAFNOSUPPORT']).toContain(await refused('::1', port))
    if (externalAddress !== undefined)
      expect(await refused(externalAddress, port)).toBe('ECONNREFUSED')
  })

  it('LL-2: a busy port is port_in_use, exit 5, naming it; no fallback', async () => {
    const squatter = createServer()
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve))
    const { port } = squatter.address() as AddressInfo
    try {
      const error = await listener(`http://127.0.0.1:${port}/callback`).catch(
        (e: unknown) => e as CliError,
      )
      expect(error).toMatchObject({
        code: 'port_in_use',
        exitCode: 5,
        message: `cannot listen on 127.0.0.1:${port}: the port is in use`,
      })
    } finally {
      await new Promise((resolve) => squatter.close(resolve))
    }
  })

  it('refuses a redirect URI that is not http on a loopback host', async () => {
    await expect(listener('http://example.com:0/callback')).rejects.toMatchObject({
      code: 'usage_error',
    })
  })

  it('resolves with the first callback and answers it only when finished', async () => {
    const loopback = await listener()
    const waiting = loopback.waitForCallback(5_000, never)
    const callback = new URL('?code=c&state=s', loopback.redirectUri)
    const page = fetch(callback)
    const received = await waiting
    expect(received.href).toBe(callback.href)
    await loopback.finish({ ok: true, title: 'Signed in', message: 'done' })
    const response = await page
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('<h1>Signed in</h1><p>done</p>')
  })

  it('LL-4: other paths, other methods and prefetches get 404/405 and the flow goes on', async () => {
    const loopback = await listener()
    const waiting = loopback.waitForCallback(5_000, never)
    const callback = new URL('?code=c&state=s', loopback.redirectUri)
    const favicon = await rawRequest(new URL('/favicon.ico', loopback.redirectUri))
    const post = await rawRequest(callback, { method: 'POST' })
    const prefetch = await rawRequest(callback, {
      headers: { 'sec-purpose': 'prefetch;prerender' },
    })
    const prefix = await rawRequest(new URL('/callback/x?code=c&state=s', loopback.redirectUri))
    expect([favicon.status, post.status, prefetch.status, prefix.status]).toEqual([
      404, 405, 404, 404,
    ])
    for (const response of [favicon, post, prefetch, prefix]) expectPageHeaders(response)
    expect(strays).toEqual([
      'a request for /favicon.ico was ignored',
      'a POST to the callback was refused: this run asked for the response in the query (a server answering with response_mode=form_post needs --response-mode form_post)',
      'a prefetch of the callback was ignored',
      'a request for /callback/x was ignored',
    ])
    const page = fetch(callback)
    expect((await waiting).href).toBe(callback.href)
    await loopback.finish({ ok: true, title: 'ok', message: 'ok' })
    expect((await page).status).toBe(200)
  })

  it('LL-5: a request whose Host is not the redirect authority gets 421 and is not the callback', async () => {
    const loopback = await listener()
    let delivered: URL | undefined
    void loopback.waitForCallback(5_000, never).then((url) => (delivered = url))
    const callback = new URL('?code=c&state=s', loopback.redirectUri)
    for (const host of [`evil.test:${callback.port}`, `localhost:${callback.port}`, '127.0.0.1']) {
      const response = await rawRequest(callback, { headers: { host } })
      expect(response.status).toBe(421)
      expectPageHeaders(response)
    }
    expect(strays).toEqual([
      `a request for Host "evil.test:${callback.port}" was refused`,
      `a request for Host "localhost:${callback.port}" was refused`,
      'a request for Host "127.0.0.1" was refused',
    ])
    expect(delivered).toBeUndefined()
    const page = fetch(callback)
    await vi.waitFor(() => expect(delivered?.href).toBe(callback.href))
    await loopback.finish({ ok: true, title: 'ok', message: 'ok' })
    expect((await page).status).toBe(200)
  })

  it('SN-3: a second callback is refused with 409 while the first is held', async () => {
    const loopback = await listener()
    const waiting = loopback.waitForCallback(5_000, never)
    const first = fetch(new URL('?code=one&state=s', loopback.redirectUri))
    await waiting
    const second = await rawRequest(new URL('?code=two&state=s', loopback.redirectUri))
    expect(second.status).toBe(409)
    expectPageHeaders(second)
    expect(second.body).not.toContain('two')
    expect(strays).toEqual(['a second callback was refused'])
    await loopback.finish({ ok: false, title: 'Sign-in failed', message: 'refused' })
    expect((await first).status).toBe(400)
  })

  it('LL-3: finish() closes the port, keep-alive sockets included; a late request is refused', async () => {
    const loopback = await listener()
    const port = Number(loopback.redirectUri.port)
    const waiting = loopback.waitForCallback(5_000, never)
    const idle = connect({ host: '127.0.0.1', port })
    await new Promise((resolve) => idle.once('connect', resolve))
    const closed = new Promise((resolve) => idle.once('close', resolve))
    const page = fetch(new URL('?code=c&state=s', loopback.redirectUri))
    await waiting
    await loopback.finish({ ok: true, title: 'ok', message: 'ok' })
    await page
    await closed
    expect(await refused('127.0.0.1', port)).toBe('ECONNREFUSED')
  })

  it('LL-9: no callback within the deadline is callback_timeout, exit 5', async () => {
    const loopback = await listener()
    const error = await loopback.waitForCallback(600, never).catch((e: unknown) => e as CliError)
    expect(error).toMatchObject({
      code: 'callback_timeout',
      exitCode: 5,
      message: 'no callback arrived within 1s',
      stage: 'callback',
    })
  })

  it('CI-4: an abort while waiting is interrupted, exit 130', async () => {
    const loopback = await listener()
    const controller = new AbortController()
    const waiting = loopback.waitForCallback(5_000, controller.signal)
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ code: 'interrupted', exitCode: 130 })
  })

  it('LL-9: an over-long URL gets 414 and the flow goes on', async () => {
    const loopback = await listener()
    const response = await rawRequest(new URL(`?x=${'a'.repeat(9000)}`, loopback.redirectUri))
    expect(response.status).toBe(414)
    expect(strays).toEqual(['a request with an over-long URL was refused'])
  })

  it('LL-7: pages escape every text they show and load nothing', () => {
    const page = renderPage({
      ok: false,
      title: '<script>alert(1)</script>',
      message: `"'&<img src=x onerror=alert(1)>\u001b[31m`,
    })
    expect(page).toContain('<h1>&#60;script&#62;alert(1)&#60;/script&#62;</h1>')
    expect(page).toContain('<p>&#34;&#39;&#38;&#60;img src=x onerror=alert(1)&#62;</p>')
    expect(page).not.toMatch(/<script|<img/u)
    // The template itself loads nothing: no script, no external style, image or link.
    expect(renderPage({ ok: true, title: 't', message: 'm' })).not.toMatch(/<script|src=|href=/u)
  })
})

describe('startLoopback() response modes (security.md RM-1, RM-2)', () => {
  async function modeListener(channel: 'form_post' | 'fragment'): Promise<Loopback> {
    const loopback = await startLoopback({
      redirectUri: new URL('http://127.0.0.1:0/callback'),
      onStray: (event) => strays.push(event),
      channel,
    })
    open.push(loopback)
    return loopback
  }

  function post(
    loopback: Loopback,
    body: string,
    headers: Record<string, string> = {},
  ): ReturnType<typeof fetch> {
    return fetch(loopback.redirectUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    })
  }

  async function rejection(promise: Promise<unknown>): Promise<CliError> {
    try {
      await promise
    } catch (error) {
      return error as CliError
    }
    throw new Error('expected a rejection')
  }

  it('form_post https://openid.net/specs/oauth-v2-form-post-response-mode-1_0.html: the form body is the response', async () => {
    const loopback = await modeListener('form_post')
    const waiting = loopback.waitForResponse(5_000, never)
    const page = post(loopback, 'code=c&state=s&iss=https%3A%2F%2Fas.test%2F')
    const received = await waiting
    expect(received.via).toBe('form_post')
    expect([...received.params]).toEqual([
      ['code', 'c'],
      ['state', 's'],
      ['iss', 'https://as.test/'],
    ])
    await loopback.finish({ ok: true, title: 'Signed in', message: 'done' })
    expect((await page).status).toBe(200)
  })

  it('form_post: another content type is 415, a GET or PUT 405, and the flow goes on', async () => {
    const loopback = await modeListener('form_post')
    const waiting = loopback.waitForResponse(5_000, never)
    const json = await post(loopback, '{"code":"c"}', { 'content-type': 'application/json' })
    const get = await rawRequest(new URL('?code=c&state=s', loopback.redirectUri))
    const put = await rawRequest(loopback.redirectUri, { method: 'PUT' })
    expect([json.status, get.status, put.status]).toEqual([415, 405, 405])
    expect(strays).toEqual([
      'a POST of "application/json" to the callback was refused: only application/x-www-form-urlencoded',
      'a GET to the callback was refused: this run asked for response_mode=form_post, a POST (the server may have answered in the query: drop --response-mode)',
      'a PUT to the callback was refused',
    ])
    const page = post(loopback, 'code=c&state=s')
    expect((await waiting).params.get('code')).toBe('c')
    await loopback.finish({ ok: true, title: 'ok', message: 'ok' })
    expect((await page).status).toBe(200)
  })

  it('form_post: a body over 64 KiB is response_too_large, exit 4, answered 413', async () => {
    const loopback = await modeListener('form_post')
    const waiting = rejection(loopback.waitForResponse(5_000, never))
    const page = await post(loopback, `code=${'a'.repeat(64 * 1024)}&state=s`)
    const error = await waiting
    expect({ code: error.code, exit: error.exitCode, message: error.message }).toEqual({
      code: 'response_too_large',
      exit: 4,
      message: 'the form POST to the callback is larger than 64 KiB',
    })
    expect(page.status).toBe(413)
    expect(await page.text()).toContain('The callback was refused (response_too_large).')
  })

  it('fragment: the relay page runs one script, allowed by its sha256 in the CSP, and posts to the same origin', async () => {
    const loopback = await modeListener('fragment')
    const page = await rawRequest(loopback.redirectUri)
    expect(page.status).toBe(200)
    const scripts = [...page.body.matchAll(/<script>([\s\S]*?)<\/script>/gu)].map((m) => m[1])
    expect(scripts).toHaveLength(1)
    const hash = createHash('sha256')
      .update(scripts[0] ?? '', 'utf8')
      .digest('base64')
    expect(page.headers['content-security-policy']).toBe(
      `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    )
    expect(scripts[0]).toBe(RELAY_SCRIPT)
    expect(scripts[0]).toContain('history.replaceState(')
    // Nothing external: no src, no href, the form's action is the callback path itself.
    expect(page.body).not.toMatch(/src=|href=/u)
    expect(page.body).toContain('<form id="relay" method="post" action="/callback">')
    expect(page.body).toContain('<noscript>')
    expect(page.headers['referrer-policy']).toBe('same-origin')
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.headers['cache-control']).toBe('no-store')
  })

  function relayToken(html: string): string {
    return /name="pkce_relay" value="([^"]+)"/u.exec(html)?.[1] ?? ''
  }

  it('fragment: the post with the token from the same origin delivers the fragment', async () => {
    const loopback = await modeListener('fragment')
    const waiting = loopback.waitForResponse(5_000, never)
    const token = relayToken((await rawRequest(loopback.redirectUri)).body)
    expect(token).toMatch(/^[\w-]{43}$/u)
    const form = new URLSearchParams({ pkce_relay: token, fragment: 'code=c&state=s' })
    const page = post(loopback, form.toString(), { origin: loopback.redirectUri.origin })
    const received = await waiting
    expect({ via: received.via, params: [...received.params] }).toEqual({
      via: 'fragment',
      params: [
        ['code', 'c'],
        ['state', 's'],
      ],
    })
    await loopback.finish({ ok: true, title: 'Signed in', message: 'done' })
    expect((await page).status).toBe(200)
  })

  it('fragment: a post from another Origin is fragment_relay_refused, exit 4, 403', async () => {
    const loopback = await modeListener('fragment')
    const waiting = rejection(loopback.waitForResponse(5_000, never))
    const token = relayToken((await rawRequest(loopback.redirectUri)).body)
    const form = new URLSearchParams({ pkce_relay: token, fragment: 'code=c&state=s' })
    const page = await post(loopback, form.toString(), { origin: 'http://evil.test' })
    const error = await waiting
    expect({ code: error.code, exit: error.exitCode, message: error.message }).toEqual({
      code: 'fragment_relay_refused',
      exit: 4,
      message: `the fragment relay post was refused: it comes from the origin "http://evil.test", not ${loopback.redirectUri.origin}`,
    })
    expect(page.status).toBe(403)
  })

  it('fragment: a same-origin post without the one-time token is refused', async () => {
    const loopback = await modeListener('fragment')
    const waiting = rejection(loopback.waitForResponse(5_000, never))
    const page = await post(loopback, 'pkce_relay=guess&fragment=code%3Dc%26state%3Ds', {
      origin: loopback.redirectUri.origin,
    })
    const error = await waiting
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'fragment_relay_refused',
      message: "the fragment relay post was refused: it does not carry the page's one-time token",
    })
    expect(page.status).toBe(403)
  })

  it('fragment: a GET with a query is refused (wrong mode) and the flow goes on', async () => {
    const loopback = await modeListener('fragment')
    const response = await rawRequest(new URL('?code=c&state=s', loopback.redirectUri))
    expect(response.status).toBe(400)
    expect(strays).toEqual([
      'a GET with a query was refused: this run asked for the response in the fragment (the server may have answered in the query: drop --response-mode)',
    ])
  })
})
