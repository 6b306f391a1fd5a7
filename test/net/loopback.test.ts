import { createServer, connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { fetch } from 'undici'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { renderPage, startLoopback } from '../../src/net/loopback.js'
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
