import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { CliError } from '../errors.js'
import type { ResponseChannel } from '../oauth/authorize.js'
import { bareHost, isLoopbackHost } from '../oauth/endpoint.js'
import { sanitize } from '../sanitize.js'
import { closer, listen, portProblem } from './listen.js'

export interface LoopbackOptions {
  redirectUri: URL
  /** Told about requests that do not end the flow (stray paths, wrong Host, POSTs). */
  onStray?: (event: string) => void
  /**
   * How the run asked the server to answer (security.md RM-1): the query of a GET (default), a
   * form POST, or the URL fragment, which the listener's relay page posts back.
   */
  channel?: ResponseChannel
}

/** An authorization response as the listener took it, before any check of its parameters. */
export interface CallbackResponse {
  via: ResponseChannel
  /** The request's URL (for a GET in query mode, the callback URL with the response). */
  url: URL
  /** The response parameters: the query, the form body, or the relayed fragment. */
  params: URLSearchParams
}

export interface Outcome {
  ok: boolean
  title: string
  /** Shown on the page, HTML-escaped; never text taken from the callback's query (LL-7). */
  message: string
}

export interface Loopback {
  /** The redirect URI with the bound port (differs from the requested one for port 0). */
  redirectUri: URL
  /** Resolves with the first callback's URL (query mode); rejects on timeout or abort. */
  waitForCallback(timeoutMs: number, signal: AbortSignal): Promise<URL>
  /**
   * Resolves with the first response in the mode asked for; rejects on timeout, abort, a form body
   * over the limit or a refused fragment relay (security.md RM-1, RM-2).
   */
  waitForResponse(timeoutMs: number, signal: AbortSignal): Promise<CallbackResponse>
  /** Answers the held callback request with the real outcome, then closes the listener. */
  finish(outcome: Outcome): Promise<void>
  close(): Promise<void>
}

const MAX_URL_LENGTH = 8 * 1024
/** security.md RM-1: a form_post body is at most 64 KiB. */
export const MAX_FORM_BODY = 64 * 1024
const FORM_TYPE = 'application/x-www-form-urlencoded'
/** The relay page's form field carrying its one-time token (security.md RM-2). */
export const RELAY_TOKEN_FIELD = 'pkce_relay'

// security.md LL-7, LL-8: static pages, no sniffing, no caching, no referrer, nothing loaded.
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
} as const

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/gu, (char) => `&#${char.charCodeAt(0)};`)
}

export function renderPage(outcome: Outcome): string {
  const title = escapeHtml(sanitize(outcome.title))
  const message = escapeHtml(sanitize(outcome.message))
  const colour = outcome.ok ? '#137333' : '#b3261e'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pkce: ${title}</title>
<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}h1{color:${colour}}</style>
</head><body><h1>${title}</h1><p>${message}</p><p>You can close this tab and return to the terminal.</p></body></html>
`
}

/**
 * The fragment relay's only script: it copies `location.hash` into the page's form, clears the
 * fragment from the address bar and history, and posts the form to the listener (same origin).
 */
export const RELAY_SCRIPT =
  "var f=document.getElementById('relay');f.elements.namedItem('fragment').value=location.hash.slice(1);history.replaceState(null,'',location.pathname+location.search);f.submit();"

/** The CSP source that allows exactly `RELAY_SCRIPT` (CSP Level 2 §4.2.4: a hash source). */
export function scriptHashSource(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`
}

// security.md RM-2: one inline script allowed by its hash, a form posted to this origin, nothing
// else. Referrer-Policy same-origin, not no-referrer: under no-referrer a browser sends `Origin:
// null` with the POST, and the Origin check is what refuses a post from another page. The page's
// own URL has no query, and a fragment is never part of a Referer.
const RELAY_HEADERS = {
  ...PAGE_HEADERS,
  'referrer-policy': 'same-origin',
  'content-security-policy': `default-src 'none'; script-src ${scriptHashSource(RELAY_SCRIPT)}; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
} as const

/** The page served on a GET of the callback path in a fragment mode (security.md RM-2). */
export function renderRelayPage(action: string, token: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pkce: completing the sign-in</title>
<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}</style>
</head><body><h1>Completing the sign-in</h1>
<p>The server put its response in the URL fragment, which only a script in this page can read; it hands the response to pkce now.</p>
<noscript><p><strong>This page needs JavaScript.</strong> With response_mode=fragment the response stays in the browser, and only this page's script can pass it to pkce. Use a browser with JavaScript, or run pkce again with --response-mode query or form_post.</p></noscript>
<form id="relay" method="post" action="${escapeHtml(action)}"><input type="hidden" name="${RELAY_TOKEN_FIELD}" value="${escapeHtml(token)}"><input type="hidden" name="fragment" value=""></form>
<script>${RELAY_SCRIPT}</script>
</body></html>
`
}

function send(response: ServerResponse, status: number, outcome: Outcome): void {
  response.writeHead(status, { ...PAGE_HEADERS, connection: 'close' })
  response.end(renderPage(outcome))
}

function bindHosts(hostname: string): string[] {
  const host = bareHost(hostname)
  // RFC 8252 §8.3: a `localhost` redirect may resolve to either family; bind both, never a wildcard.
  return host === 'localhost' ? ['127.0.0.1', '::1'] : [host]
}

/**
 * Starts the loopback listener for the redirect URI, bound to loopback addresses only. The first
 * GET on the redirect path with the right Host is the callback; it is held open until `finish`
 * answers it with the flow's real outcome. Everything else gets 404/405/421 and the flow goes on.
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-8.3
 */
export async function startLoopback(options: LoopbackOptions): Promise<Loopback> {
  const requested = options.redirectUri
  if (requested.protocol !== 'http:' || !isLoopbackHost(requested.hostname)) {
    throw new CliError(
      'usage_error',
      `the redirect URI ${requested.href} is not http on a loopback host`,
    )
  }
  const sockets = new Set<Socket>()
  const closers: (() => Promise<void>)[] = []
  const channel = options.channel ?? 'query'
  // security.md RM-2: the relay page's one-time token; a post without it is refused.
  const relayToken = randomBytes(32).toString('base64url')
  let relayUsed = false
  let callback: { response: ServerResponse } | undefined
  let result: { response: CallbackResponse } | { error: CliError } | undefined
  let deliver: (() => void) | undefined
  let closed = false
  const redirectUri = new URL(requested.href)

  const settle = (outcome: { response: CallbackResponse } | { error: CliError }): void => {
    result = outcome
    deliver?.()
  }

  // Ends the flow: the request was a response, and a refused one (security.md D-1).
  const refuse = (response: ServerResponse, status: number, error: CliError): void => {
    send(response, status, {
      ok: false,
      title: 'Sign-in failed',
      message: `The callback was refused (${error.code}). See the terminal for details.`,
    })
    settle({ error })
  }

  const readForm = async (
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<URLSearchParams | undefined> => {
    const tooLarge = (): void =>
      refuse(
        response,
        413,
        new CliError(
          'response_too_large',
          `the form POST to the callback is larger than ${MAX_FORM_BODY / 1024} KiB`,
          { stage: 'callback', hint: 'security.md RM-1: a form_post response is at most 64 KiB' },
        ),
      )
    const declared = Number(request.headers['content-length'] ?? 0)
    if (declared > MAX_FORM_BODY) {
      tooLarge()
      request.resume()
      return undefined
    }
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of request) {
        size += (chunk as Buffer).length
        if (size > MAX_FORM_BODY) {
          tooLarge()
          request.destroy()
          return undefined
        }
        chunks.push(chunk as Buffer)
      }
    } catch {
      if (!response.headersSent) tooLarge()
      return undefined
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
  }

  const relayRefusal = (reason: string): CliError =>
    new CliError('fragment_relay_refused', `the fragment relay post was refused: ${reason}`, {
      stage: 'callback',
      hint: 'security.md RM-2: only the page pkce served, from its own origin, may post the fragment; another page tried to answer for the server',
    })

  const take = async (
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
  ): Promise<void> => {
    callback = { response }
    if (request.method === 'GET') {
      settle({ response: { via: 'query', url, params: url.searchParams } })
      return
    }
    const form = await readForm(request, response)
    if (form === undefined) return
    if (channel === 'form_post') {
      settle({ response: { via: 'form_post', url, params: form } })
      return
    }
    const origin = request.headers.origin
    if (origin !== redirectUri.origin) {
      return refuse(
        response,
        403,
        relayRefusal(
          origin === undefined
            ? 'it has no Origin header'
            : `it comes from the origin "${sanitize(origin)}", not ${redirectUri.origin}`,
        ),
      )
    }
    const token = Buffer.from(form.getAll(RELAY_TOKEN_FIELD).join(' '))
    const expected = Buffer.from(relayToken)
    if (relayUsed || token.length !== expected.length || !timingSafeEqual(token, expected)) {
      return refuse(response, 403, relayRefusal("it does not carry the page's one-time token"))
    }
    relayUsed = true
    const fragments = form.getAll('fragment')
    if (fragments.length !== 1) {
      return refuse(response, 400, relayRefusal('it does not carry exactly one fragment'))
    }
    settle({ response: { via: 'fragment', url, params: new URLSearchParams(fragments[0]) } })
  }

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const stray = (status: number, title: string, event: string): void => {
      options.onStray?.(event)
      send(response, status, {
        ok: false,
        title,
        message: 'This request does not complete the sign-in.',
      })
    }
    if ((request.url ?? '').length > MAX_URL_LENGTH)
      return stray(414, 'URI too long', 'a request with an over-long URL was refused')
    // security.md LL-5: only our own authority; a rebinding page sends another Host.
    if (request.headers.host !== redirectUri.host) {
      return stray(
        421,
        'Misdirected request',
        `a request for Host "${sanitize(request.headers.host ?? '')}" was refused`,
      )
    }
    const url = new URL(request.url ?? '/', redirectUri)
    if (url.pathname !== redirectUri.pathname)
      return stray(404, 'Not found', `a request for ${sanitize(url.pathname)} was ignored`)
    const method = request.method ?? ''
    // security.md RM-1: only the method the asked-for mode uses; RH-5 says what the other one means.
    if (method === 'POST' && channel === 'query') {
      return stray(
        405,
        'Method not allowed',
        'a POST to the callback was refused: this run asked for the response in the query (a server answering with response_mode=form_post needs --response-mode form_post)',
      )
    }
    if (method !== 'GET' && method !== 'POST') {
      return stray(405, 'Method not allowed', `a ${sanitize(method)} to the callback was refused`)
    }
    const purpose = `${String(request.headers['sec-purpose'] ?? '')}${String(request.headers.purpose ?? '')}`
    if (/prefetch|prerender/iu.test(purpose))
      return stray(404, 'Not found', 'a prefetch of the callback was ignored')
    if (callback !== undefined || closed) {
      // security.md SN-3: one response per run.
      return stray(409, 'Already handled', 'a second callback was refused')
    }
    if (method === 'GET' && channel === 'form_post') {
      return stray(
        405,
        'Method not allowed',
        `a GET to the callback was refused: this run asked for response_mode=form_post, a POST${url.search === '' ? '' : ' (the server may have answered in the query: drop --response-mode)'}`,
      )
    }
    if (method === 'GET' && channel === 'fragment') {
      if (url.search !== '') {
        return stray(
          400,
          'Wrong response mode',
          'a GET with a query was refused: this run asked for the response in the fragment (the server may have answered in the query: drop --response-mode)',
        )
      }
      options.onStray?.('served the page that relays the URL fragment')
      response.writeHead(200, { ...RELAY_HEADERS, connection: 'close' })
      response.end(renderRelayPage(redirectUri.pathname, relayToken))
      return
    }
    if (method === 'POST') {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
      if (type !== FORM_TYPE) {
        return stray(
          415,
          'Unsupported media type',
          `a POST of "${sanitize(type ?? '')}" to the callback was refused: only ${FORM_TYPE}`,
        )
      }
    }
    take(request, response, url).catch((error: unknown) => {
      if (!response.headersSent) response.destroy()
      settle({
        error: new CliError('internal_error', `the listener failed: ${String(error)}`),
      })
    })
  }

  const hosts = bindHosts(requested.hostname)
  let port = Number(requested.port || 80)
  for (const [index, host] of hosts.entries()) {
    const server = createServer(
      { maxHeaderSize: 16 * 1024, requestTimeout: 10_000, headersTimeout: 10_000 },
      handle,
    )
    server.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    try {
      port = await listen(server, host, port)
      closers.push(closer(server))
    } catch (error) {
      const code = (error as { code?: unknown }).code
      // A second family may be missing (no IPv6); the first one bound is enough.
      if (index > 0 && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue
      await Promise.all(closers.map((close) => close()))
      const problem = portProblem(error)
      if (problem !== undefined) {
        throw new CliError(
          'port_in_use',
          `cannot listen on ${host}:${port}: the port is ${problem}`,
          {
            stage: 'authorize',
            hint: 'pass --port <n> (and register that callback URL with the application), or stop what holds the port',
          },
        )
      }
      throw new CliError('network_error', `cannot listen on ${host}:${port} (${String(code)})`, {
        stage: 'authorize',
      })
    }
  }
  redirectUri.port = String(port)

  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await Promise.all(closers.map((closeServer) => closeServer()))
    for (const socket of sockets) socket.destroy()
  }

  const waitForResponse = (timeoutMs: number, signal: AbortSignal): Promise<CallbackResponse> =>
    new Promise<CallbackResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup()
        reject(
          new CliError(
            'callback_timeout',
            `no callback arrived within ${Math.round(timeoutMs / 1000)}s`,
            {
              stage: 'callback',
              hint: `if the browser shows "Callback URL mismatch", add ${redirectUri.href} to the application's Allowed Callback URLs; otherwise raise --timeout`,
            },
          ),
        )
      }, timeoutMs)
      const onAbort = (): void => {
        cleanup()
        reject(
          new CliError('interrupted', 'interrupted while waiting for the callback', {
            stage: 'callback',
          }),
        )
      }
      const cleanup = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        deliver = undefined
      }
      const hand = (): void => {
        if (result === undefined) return
        cleanup()
        if ('error' in result) reject(result.error)
        else resolve(result.response)
      }
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      deliver = hand
      hand()
    })

  return {
    redirectUri,
    waitForResponse,
    async waitForCallback(timeoutMs, signal) {
      return (await waitForResponse(timeoutMs, signal)).url
    },
    async finish(outcome) {
      if (callback !== undefined && !callback.response.headersSent) {
        send(callback.response, outcome.ok ? 200 : 400, outcome)
        await new Promise<void>((resolve) => {
          if (callback?.response.writableFinished) resolve()
          else callback?.response.once('finish', () => resolve())
        })
      }
      await close()
    },
    close,
  }
}
