import { CliError } from '../errors.js'
import type { HttpRequest } from '../oauth/http.js'

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
])

function errorCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * Rewrites a transport failure as one sentence a person can act on (house-style.md, "Rewrite
 * errors for humans"): DNS, refused connections, TLS, timeouts and Ctrl-C each get their own.
 */
export function explainNetworkError(
  error: unknown,
  request: Pick<HttpRequest, 'url' | 'stage' | 'method'>,
  timeoutMs: number,
  signal: AbortSignal,
): CliError {
  const { url, stage } = request
  const target = `${request.method} ${url.origin}${url.pathname}`
  const code = errorCode(error)
  const name = (error as { name?: unknown } | null)?.name
  if (
    signal.aborted &&
    (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError'
  ) {
    return new CliError('timeout', `${target} timed out after ${timeoutMs / 1000}s`, {
      stage,
      hint: 'the server did not answer in time; raise the limit with --http-timeout <seconds>',
      cause: error,
    })
  }
  if (signal.aborted || name === 'AbortError') {
    return new CliError('interrupted', 'interrupted', { stage, cause: error })
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new CliError('network_error', `could not resolve host ${url.hostname}`, {
      stage,
      hint: 'check --domain / --issuer for typos',
      cause: error,
    })
  }
  if (code === 'ECONNREFUSED') {
    return new CliError('network_error', `connection refused by ${url.host}`, {
      stage,
      hint: 'is the server running and listening on that port?',
      cause: error,
    })
  }
  if (code === 'UND_ERR_HEADERS_OVERFLOW') {
    // security.md HC-2: headers are capped too; an oversized answer is the server's, not the network's.
    return new CliError(
      'response_too_large',
      `the response headers from ${url.origin}${url.pathname} are too large (over undici's 16 KiB limit)`,
      {
        stage,
        hint: 'a real authorization server never sends this much; check the URL',
        cause: error,
      },
    )
  }
  if (code !== undefined && TLS_CODES.has(code)) {
    return new CliError('tls_error', `TLS verification failed for ${url.host} (${code})`, {
      stage,
      hint: 'for a private CA, pass --ca-file <pem> or set NODE_EXTRA_CA_CERTS',
      cause: error,
    })
  }
  const detail = code ?? (error instanceof Error ? error.message : String(error))
  return new CliError('network_error', `${target} failed: ${detail}`, { stage, cause: error })
}
