import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { CliError } from '../errors.js'
import { bareHost, isLoopbackHost } from '../oauth/endpoint.js'
import { sanitize } from '../sanitize.js'
import { closer, listen, portProblem } from './listen.js'

export interface LoopbackOptions {
  redirectUri: URL
  /** Told about requests that do not end the flow (stray paths, wrong Host, POSTs). */
  onStray?: (event: string) => void
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
  /** Resolves with the first callback; rejects on timeout or abort. */
  waitForCallback(timeoutMs: number, signal: AbortSignal): Promise<URL>
  /** Answers the held callback request with the real outcome, then closes the listener. */
  finish(outcome: Outcome): Promise<void>
  close(): Promise<void>
}

const MAX_URL_LENGTH = 8 * 1024

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
  let callback: { url: URL; response: ServerResponse } | undefined
  let deliver: ((url: URL) => void) | undefined
  let closed = false
  const redirectUri = new URL(requested.href)

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
    if (request.method !== 'GET') {
      return stray(
        405,
        'Method not allowed',
        `a ${sanitize(request.method ?? '')} to the callback was refused (response_mode=form_post is not supported)`,
      )
    }
    const purpose = `${String(request.headers['sec-purpose'] ?? '')}${String(request.headers.purpose ?? '')}`
    if (/prefetch|prerender/iu.test(purpose))
      return stray(404, 'Not found', 'a prefetch of the callback was ignored')
    if (callback !== undefined || closed) {
      // security.md SN-3: one response per run.
      return stray(409, 'Already handled', 'a second callback was refused')
    }
    callback = { url, response }
    deliver?.(url)
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

  return {
    redirectUri,
    waitForCallback(timeoutMs, signal) {
      return new Promise<URL>((resolve, reject) => {
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
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
        if (callback !== undefined) {
          cleanup()
          return resolve(callback.url)
        }
        deliver = (url) => {
          cleanup()
          resolve(url)
        }
      })
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
