import { CliError } from '../errors.js'
import type { HttpRequest } from '../oauth/http.js'

// OpenSSL's X.509 verification results as Node reports them: the chain does not lead to a trusted
// root, which a private CA explains.
const UNTRUSTED_CHAIN = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'INVALID_CA',
])
const CERT_DATES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'])
const CERT_NAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH'])

/** Every other certificate, TLS or SSL failure (TL-1): `CERT_REVOKED`, `ERR_SSL_…`, `ERR_TLS_…`. */
function isTlsCode(code: string): boolean {
  return (
    UNTRUSTED_CHAIN.has(code) ||
    CERT_DATES.has(code) ||
    CERT_NAME.has(code) ||
    /^(CERT_|UNABLE_TO_|ERR_TLS_|ERR_SSL_)/u.test(code)
  )
}

function tlsHint(code: string, host: string): string {
  if (CERT_DATES.has(code)) {
    return "the server's certificate is expired or not yet valid; check it, and this machine's clock"
  }
  if (CERT_NAME.has(code)) {
    return `the server's certificate is not issued for ${host}; check the host in --domain / --issuer`
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return 'the port did not answer TLS; is it a plain http server?'
  }
  return 'for a private CA, pass --ca-file <pem> or set NODE_EXTRA_CA_CERTS'
}

// The TLS alerts a server sends when it wants a client certificate it did not get, or will not
// take the one presented (RFC 8446 §6.2, RFC 8705 §2), as OpenSSL names them on the client.
const CLIENT_CERTIFICATE_ALERTS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    'the server requires a client certificate and none was presented (certificate_required)',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE:
    'the server rejected the client certificate (bad_certificate)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA:
    'the server does not trust the issuer of the client certificate (unknown_ca)',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    'the server could not accept the client certificate (certificate_unknown)',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    'the server says the client certificate is expired (certificate_expired)',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED:
    'the server denied access to the client certificate (access_denied)',
}

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
 * Rewrites a transport failure as one sentence a person can act on: DNS, refused connections, TLS,
 * timeouts and Ctrl-C each get their own.
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
  const refused = code === undefined ? undefined : CLIENT_CERTIFICATE_ALERTS[code]
  if (refused !== undefined) {
    return new CliError('tls_error', `the TLS handshake for ${target} was refused: ${refused}`, {
      stage,
      hint: 'this endpoint authenticates clients with mTLS (RFC 8705): pass --client-cert <pem> and --client-key <pem> with a certificate it accepts',
      cause: error,
    })
  }
  if (code !== undefined && isTlsCode(code)) {
    return new CliError('tls_error', `TLS verification failed for ${url.host} (${code})`, {
      stage,
      hint: tlsHint(code, url.hostname),
      cause: error,
    })
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    // undici's own connect timeout (10 s) can fire before --http-timeout does.
    return new CliError('timeout', `connecting to ${url.host} timed out`, {
      stage,
      hint: 'check the host and port, and any firewall or proxy in between',
      cause: error,
    })
  }
  if (code === 'ECONNRESET') {
    return new CliError('network_error', `the connection to ${url.host} was reset`, {
      stage,
      hint: 'the server or a proxy in between closed the connection',
      cause: error,
    })
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new CliError('network_error', `${url.host} is unreachable`, {
      stage,
      hint: 'check the network connection, and any VPN or proxy',
      cause: error,
    })
  }
  const detail = code ?? (error instanceof Error ? error.message : String(error))
  return new CliError('network_error', `${target} failed: ${detail}`, { stage, cause: error })
}
