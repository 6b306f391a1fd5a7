import { describe, expect, it } from 'vitest'
import { explainNetworkError } from '../../src/net/network-error.js'

const REQUEST = {
  method: 'POST',
  url: new URL('https://tenant.example.com:8443/oauth/token?x=1'),
  stage: 'token',
} as const

const idle = (): AbortSignal => new AbortController().signal

/** What undici's fetch throws: a `TypeError('fetch failed')` whose cause carries the code. */
function fetchFailed(code: string | undefined, message = 'low-level failure'): TypeError {
  const cause = Object.assign(new Error(message), code === undefined ? {} : { code })
  return new TypeError('fetch failed', { cause })
}

function explain(error: unknown, signal = idle(), timeoutMs = 30_000) {
  const explained = explainNetworkError(error, REQUEST, timeoutMs, signal)
  return {
    code: explained.code,
    exitCode: explained.exitCode,
    message: explained.message,
    hint: explained.hint,
    stage: explained.stage,
    keepsCause: explained.cause === error,
  }
}

describe('explainNetworkError()', () => {
  it('HC-1: our timeout names the request, the limit and the flag', () => {
    const controller = new AbortController()
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
    expect(explain(new DOMException('aborted', 'AbortError'), controller.signal, 1500)).toEqual({
      code: 'timeout',
      exitCode: 5,
      message: 'POST https://tenant.example.com:8443/oauth/token timed out after 1.5s',
      hint: 'the server did not answer in time; raise the limit with --http-timeout <seconds>',
      stage: 'token',
      keepsCause: true,
    })
  })

  it('Ctrl-C (our signal aborted for another reason) is interrupted, exit 130', () => {
    const controller = new AbortController()
    controller.abort(new Error('SIGINT'))
    expect(explain(new DOMException('aborted', 'AbortError'), controller.signal)).toEqual({
      code: 'interrupted',
      exitCode: 130,
      message: 'interrupted',
      hint: undefined,
      stage: 'token',
      keepsCause: true,
    })
  })

  it('an AbortError is interrupted even when the signal is not ours', () => {
    expect(explain(new DOMException('aborted', 'AbortError')).code).toBe('interrupted')
  })

  it.each(['ENOTFOUND', 'EAI_AGAIN'])('%s: could not resolve the host', (code) => {
    expect(explain(fetchFailed(code, `getaddrinfo ${code} tenant.example.com`))).toEqual({
      code: 'network_error',
      exitCode: 5,
      message: 'could not resolve host tenant.example.com',
      hint: 'check --domain / --issuer for typos',
      stage: 'token',
      keepsCause: true,
    })
  })

  it('ECONNREFUSED: names host and port', () => {
    expect(explain(fetchFailed('ECONNREFUSED'))).toEqual({
      code: 'network_error',
      exitCode: 5,
      message: 'connection refused by tenant.example.com:8443',
      hint: 'is the server running and listening on that port?',
      stage: 'token',
      keepsCause: true,
    })
  })

  it.each(['UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT'])('%s: the connection timed out', (code) => {
    expect(explain(fetchFailed(code))).toEqual({
      code: 'timeout',
      exitCode: 5,
      message: 'connecting to tenant.example.com:8443 timed out',
      hint: 'check the host and port, and any firewall or proxy in between',
      stage: 'token',
      keepsCause: true,
    })
  })

  it('ECONNRESET: the connection was reset', () => {
    expect(explain(fetchFailed('ECONNRESET'))).toEqual({
      code: 'network_error',
      exitCode: 5,
      message: 'the connection to tenant.example.com:8443 was reset',
      hint: 'the server or a proxy in between closed the connection',
      stage: 'token',
      keepsCause: true,
    })
  })

  it.each(['EHOSTUNREACH', 'ENETUNREACH'])('%s: the host is unreachable', (code) => {
    expect(explain(fetchFailed(code))).toEqual({
      code: 'network_error',
      exitCode: 5,
      message: 'tenant.example.com:8443 is unreachable',
      hint: 'check the network connection, and any VPN or proxy',
      stage: 'token',
      keepsCause: true,
    })
  })

  it('HC-2: oversized headers are response_too_large, exit 4', () => {
    expect(explain(fetchFailed('UND_ERR_HEADERS_OVERFLOW'))).toEqual({
      code: 'response_too_large',
      exitCode: 4,
      message:
        "the response headers from https://tenant.example.com:8443/oauth/token are too large (over undici's 16 KiB limit)",
      hint: 'a real authorization server never sends this much; check the URL',
      stage: 'token',
      keepsCause: true,
    })
  })

  describe('TL-1: TLS failures are tls_error, exit 5, with a hint for the cause', () => {
    const privateCa = 'for a private CA, pass --ca-file <pem> or set NODE_EXTRA_CA_CERTS'
    const dates =
      "the server's certificate is expired or not yet valid; check it, and this machine's clock"
    const name =
      "the server's certificate is not issued for tenant.example.com; check the host in --domain / --issuer"
    it.each([
      ['DEPTH_ZERO_SELF_SIGNED_CERT', privateCa],
      ['SELF_SIGNED_CERT_IN_CHAIN', privateCa],
      ['UNABLE_TO_GET_ISSUER_CERT', privateCa],
      ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', privateCa],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', privateCa],
      ['CERT_UNTRUSTED', privateCa],
      ['CERT_REVOKED', privateCa],
      ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', privateCa],
      ['CERT_HAS_EXPIRED', dates],
      ['CERT_NOT_YET_VALID', dates],
      ['ERR_TLS_CERT_ALTNAME_INVALID', name],
      ['HOSTNAME_MISMATCH', name],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'the port did not answer TLS; is it a plain http server?'],
    ])('%s', (code, hint) => {
      expect(explain(fetchFailed(code))).toEqual({
        code: 'tls_error',
        exitCode: 5,
        message: `TLS verification failed for tenant.example.com:8443 (${code})`,
        hint,
        stage: 'token',
        keepsCause: true,
      })
    })
  })

  it('looks through UND_ERR_SOCKET to the code underneath', () => {
    const socket = Object.assign(new Error('other side closed'), {
      code: 'UND_ERR_SOCKET',
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    })
    expect(explain(new TypeError('fetch failed', { cause: socket })).message).toBe(
      'the connection to tenant.example.com:8443 was reset',
    )
  })

  it('anything else: the request and the code, or the message, without a query string', () => {
    expect(explain(fetchFailed('EPIPE'))).toEqual({
      code: 'network_error',
      exitCode: 5,
      message: 'POST https://tenant.example.com:8443/oauth/token failed: EPIPE',
      hint: undefined,
      stage: 'token',
      keepsCause: true,
    })
    expect(explain(fetchFailed(undefined, 'bad port')).message).toBe(
      'POST https://tenant.example.com:8443/oauth/token failed: fetch failed',
    )
    expect(explain(new Error('boom')).message).toBe(
      'POST https://tenant.example.com:8443/oauth/token failed: boom',
    )
    expect(explain('a string').message).toBe(
      'POST https://tenant.example.com:8443/oauth/token failed: a string',
    )
  })
})
