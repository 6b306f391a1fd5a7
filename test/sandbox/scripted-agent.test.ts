import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import {
  CALLBACK_BODY,
  authorizationUrl,
  codeFlowParams,
  createPkce,
  requestLines,
  startCallbackListener,
  withSandbox,
  type CallbackListener,
} from './helpers.js'

type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void

const loginForm = (action: string) =>
  `<!doctype html><form method="post" action="${action}" data-sandbox-form="login"><input name="username"></form>`

let callback: CallbackListener
let server: Server
let origin: string
let routes: Record<string, Route>
let seen: string[]

beforeAll(async () => {
  callback = await startCallbackListener()
  server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      seen.push(
        `${req.method} ${req.url} cookie=${req.headers.cookie ?? ''}${body ? ` body=${body}` : ''}`,
      )
      const route = routes[`${req.method} ${req.url}`]
      if (route) route(req, res, body)
      else res.writeHead(404).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

beforeEach(() => {
  routes = {}
  seen = []
  callback.calls.length = 0
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await callback.close()
})

const redirect =
  (location: string, status = 302, headers: Record<string, string | string[]> = {}): Route =>
  (_req, res) =>
    res.writeHead(status, { location, ...headers }).end()

const html =
  (body: string, headers: Record<string, string | string[]> = {}): Route =>
  (_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers }).end(body)

describe('driveAuthorization() against a scripted server', () => {
  it('keeps cookies per path, fills the login form and calls the callback', async () => {
    routes = {
      'GET /start': redirect('/elsewhere', 302, {
        'set-cookie': ['sid=abc; Path=/u; HttpOnly', 'gone=1; Path=/', 'secure=1; Path=/; Secure'],
      }),
      'GET /elsewhere': redirect('/u/login'),
      'GET /u/login': html(loginForm('/u/login?x=1&amp;y=2'), {
        'set-cookie': 'gone=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      }),
      'POST /u/login?x=1&y=2': redirect(`${callback.redirectUri}?code=c1&state=s`, 303),
    }
    const result = await driveAuthorization(`${origin}/start`, {
      username: 'carol',
      password: 'p&w',
    })

    expect(result).toEqual({
      callbackUrl: `${callback.redirectUri}?code=c1&state=s`,
      status: 200,
      body: CALLBACK_BODY,
    })
    expect(seen).toEqual([
      'GET /start cookie=',
      'GET /elsewhere cookie=gone=1',
      'GET /u/login cookie=sid=abc; gone=1',
      'POST /u/login?x=1&y=2 cookie=sid=abc body=username=carol&password=p%26w',
    ])
    expect(callback.calls.map((url) => url.search)).toEqual(['?code=c1&state=s'])
  })

  it('answers the consent page with the chosen button', async () => {
    routes = {
      'GET /consent': html(
        '<form method="post" action="/consent" data-sandbox-form="consent"></form>',
      ),
      'POST /consent': redirect(`${callback.redirectUri}?error=access_denied`, 303),
    }
    const result = await driveAuthorization(`${origin}/consent`, { consent: 'deny' })
    expect(result.callbackUrl).toBe(`${callback.redirectUri}?error=access_denied`)
    expect(seen).toEqual(['GET /consent cookie=', 'POST /consent cookie= body=action=deny'])
  })

  it('repeats a POST on 307', async () => {
    routes = {
      'GET /u/login': html(loginForm('/first')),
      'POST /first': redirect('/second', 307),
      'POST /second': redirect(callback.redirectUri, 303),
    }
    await driveAuthorization(`${origin}/u/login`, { username: 'u', password: 'p' })
    expect(seen).toEqual([
      'GET /u/login cookie=',
      'POST /first cookie= body=username=u&password=p',
      'POST /second cookie= body=username=u&password=p',
    ])
  })

  it('calls a callback the server redirects to at once', async () => {
    routes = { 'GET /authorize': redirect(`${callback.redirectUri}?error=login_required`) }
    const result = await driveAuthorization(`${origin}/authorize`)
    expect(result).toEqual({
      callbackUrl: `${callback.redirectUri}?error=login_required`,
      status: 200,
      body: CALLBACK_BODY,
    })
  })

  it('stops after maxHops requests', async () => {
    routes = { 'GET /loop?state=secret': redirect('/loop?state=secret') }
    await expect(driveAuthorization(`${origin}/loop?state=secret`, { maxHops: 3 })).rejects.toThrow(
      new Error(`no callback after 3 requests; the next would have gone to ${origin}/loop`),
    )
    expect(seen).toHaveLength(3)
  })

  it('throws on a page it does not understand', async () => {
    routes = { 'GET /weird': html('<p>hello</p>') }
    await expect(driveAuthorization(`${origin}/weird`)).rejects.toThrow(
      new Error(
        `unexpected response from ${origin}/weird: HTTP 200 text/html; charset=utf-8; expected a redirect or a sandbox login or consent page`,
      ),
    )
  })

  it('throws on a redirect without Location', async () => {
    routes = { 'GET /nowhere': (_req, res) => res.writeHead(302).end() }
    await expect(driveAuthorization(`${origin}/nowhere`)).rejects.toThrow(
      new Error(`${origin}/nowhere answered 302 without a Location`),
    )
  })

  it('refuses to follow a redirect off the server that is not a loopback callback', async () => {
    routes = { 'GET /out': redirect('https://example.com/callback?code=x') }
    await expect(driveAuthorization(`${origin}/out`)).rejects.toThrow(
      new Error(
        'refusing to follow a redirect to https://example.com: it is neither the authorization server nor a loopback callback',
      ),
    )
  })

  it('follows a redirect to any loopback callback: 127.0.0.0/8, ::1, localhost (isLoopbackHost)', async () => {
    // Nothing listens on port 1: the agent accepts the callback, then fails to call it.
    for (const host of ['127.0.0.2', '[::1]', 'localhost']) {
      routes = { 'GET /out': redirect(`http://${host}:1/callback?code=x`) }
      const error = await driveAuthorization(`${origin}/out`).catch((e: unknown) => e)
      expect((error as Error).message).toBe(`could not call the callback http://${host}:1/callback`)
    }
  })

  it('refuses a loopback callback over https: RFC 8252 §7.3 callbacks are http', async () => {
    routes = { 'GET /out': redirect('https://127.0.0.1:1/callback?code=x') }
    await expect(driveAuthorization(`${origin}/out`)).rejects.toThrow(
      new Error(
        'refusing to follow a redirect to https://127.0.0.1:1: it is neither the authorization server nor a loopback callback',
      ),
    )
  })

  it('refuses to send credentials to another origin', async () => {
    routes = { 'GET /u/login': html(loginForm(`${callback.redirectUri}`)) }
    await expect(driveAuthorization(`${origin}/u/login`)).rejects.toThrow(
      new Error(
        `refusing to submit a form to http://127.0.0.1:${callback.port}, not the authorization server`,
      ),
    )
    expect(callback.calls).toEqual([])
  })

  it('reports a callback that cannot be reached', async () => {
    const closed = await startCallbackListener()
    await closed.close()
    routes = { 'GET /authorize': redirect(`${closed.redirectUri}?code=x`) }
    const error = await driveAuthorization(`${origin}/authorize`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toBe(`could not call the callback ${closed.redirectUri}`)
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' })
  })
})

describe('driveAuthorization() against the sandbox', () => {
  const sandbox = withSandbox()

  it('reports a rejected login instead of submitting it again', async () => {
    const url = authorizationUrl(
      sandbox,
      codeFlowParams(DEFAULT_CLIENT_IDS.public, callback.redirectUri, createPkce()),
    )
    await expect(driveAuthorization(url, { password: '' })).rejects.toThrow(
      new Error('the sandbox rejected the login: Enter a username and a password.'),
    )
    expect(requestLines(sandbox)).toEqual([
      'GET /authorize',
      'GET /u/login/:uid',
      'POST /u/login/:uid',
    ])
  })
})
