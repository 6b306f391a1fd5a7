import type { Stage } from '../errors.js'

/** One HTTP request as the protocol layer describes it; the transport lives in `src/net/http.ts`. */
export interface HttpRequest {
  method: 'GET' | 'POST'
  url: URL
  headers?: Record<string, string>
  form?: URLSearchParams
  stage: Stage
}

/**
 * The protocol layer's only way out: sends a request with no redirects followed, a timeout and a
 * body cap, and returns the whole (capped) response. Tests pass hand-built `Response`s.
 */
export type Http = (request: HttpRequest) => Promise<Response>

/** RFC 6749 §3.1, §3.2: 1 MiB is far above any real metadata, PAR or token response. */
export const MAX_BODY_BYTES = 1024 * 1024
