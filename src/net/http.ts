import type { Dispatcher } from 'undici'
import { CliError } from '../errors.js'
import type { Http, HttpRequest } from '../oauth/http.js'
import { MAX_BODY_BYTES } from '../oauth/http.js'
import { explainNetworkError } from './network-error.js'
import type { TraceSink } from './trace.js'

export interface HttpOptions {
  dispatcher: Dispatcher | undefined
  timeoutMs: number
  signal: AbortSignal
  userAgent: string
  trace: TraceSink | undefined
  maxBodyBytes?: number
  /** `--header`: added after the defaults, before the request's own (client auth, DPoP). */
  headers?: readonly (readonly [string, string])[]
}

// Statuses whose Response may not carry a body (Fetch standard "null body status").
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])

/**
 * Builds the one HTTP client of a run over undici's fetch: no redirects followed (security.md
 * HC-3, TR-4), a timeout over connect, headers and body (HC-1), and a body cap enforced while
 * streaming whatever `Content-Length` says (HC-2).
 */
export function createHttp(options: HttpOptions): Http {
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES
  return async (request: HttpRequest) => {
    // undici's own Response: the global one would load Node's bundled copy of undici as well.
    const { fetch, Response } = await import('./undici.js')
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': options.userAgent,
      ...Object.fromEntries(options.headers ?? []),
      ...request.headers,
    }
    if (request.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
    }
    options.trace?.request(request, headers)
    const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), options.signal])
    const started = performance.now()
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers,
        ...(request.form === undefined ? {} : { body: request.form.toString() }),
        redirect: 'manual',
        signal,
        ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
      })
      const declared = Number(response.headers.get('content-length'))
      if (Number.isFinite(declared) && declared > limit) {
        await response.body?.cancel()
        throw tooLarge(request, `${declared} bytes declared`, limit)
      }
      const body = await readCapped(response.body, limit, request)
      const buffered = new Response(NULL_BODY_STATUS.has(response.status) ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      }) as unknown as globalThis.Response
      options.trace?.response(request, buffered, body, performance.now() - started)
      return buffered
    } catch (error) {
      if (error instanceof CliError) throw error
      throw explainNetworkError(error, request, options.timeoutMs, signal)
    }
  }
}

async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  request: HttpRequest,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel()
      throw tooLarge(request, `more than ${limit} bytes received`, limit)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

function tooLarge(request: HttpRequest, detail: string, limit: number): CliError {
  return new CliError(
    'response_too_large',
    `the response from ${request.url.origin}${request.url.pathname} is too large (${detail}; the limit is ${limit} bytes)`,
    {
      stage: request.stage,
      hint: 'a real authorization server never sends this much; check the URL',
    },
  )
}
