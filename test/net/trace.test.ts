import { describe, expect, it } from 'vitest'
import { createTrace } from '../../src/net/trace.js'
import type { TraceOptions, TraceSink } from '../../src/net/trace.js'
import type { HttpRequest } from '../../src/oauth/http.js'

const SECRET = 'client-secret-value-0123'
const ASSERTION = 'eyJhbGciOiJSUzI1NiJ9.assertion-claims.assertion-signature'
const REFRESH = 'refresh-token-value-0123'
const ACCESS = 'access-token-value-0123456789' // 29 chars: 9 shown
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.signature-of-the-id-token' // 12 shown
const PROOF = 'eyJ0eXAiOiJkcG9wK2p3dCJ9.proof-claims.proof-signature'

function traceWith(options: Partial<Omit<TraceOptions, 'write'>> = {}): {
  trace: TraceSink
  out: () => string
  writes: string[]
} {
  const writes: string[] = []
  const trace = createTrace({
    write: (line) => writes.push(line),
    showSecrets: options.showSecrets ?? false,
    showTokens: options.showTokens ?? false,
  })
  return { trace, out: () => writes.join(''), writes }
}

const tokenRequest = (form: Record<string, string>): HttpRequest => ({
  method: 'POST',
  url: new URL('https://as.example/oauth/token'),
  form: new URLSearchParams(form),
  stage: 'token',
})

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

function respond(
  trace: TraceSink,
  body: string,
  headers: Record<string, string>,
  status = 200,
  elapsedMs = 12.4,
): void {
  const response = new Response(null, { status, headers })
  trace.response(tokenRequest({}), response, bytes(body), elapsedMs)
}

describe('createTrace(): requests', () => {
  it('shows method, URL, each header and each form field on its own "> " line', () => {
    const { trace, out, writes } = traceWith()
    trace.request(
      tokenRequest({
        grant_type: 'authorization_code',
        code: 'the-code',
        code_verifier: 'the-verifier-0123456789012345678901234567890',
        redirect_uri: 'http://127.0.0.1:8484/callback',
        client_id: 'abc',
        state: 'the-state',
      }),
      { accept: 'application/json', 'user-agent': 'pkce/1.0.0' },
    )
    expect(out()).toBe(
      [
        '> POST https://as.example/oauth/token',
        '> accept: application/json',
        '> user-agent: pkce/1.0.0',
        '>   grant_type=authorization_code',
        '>   code=the-code',
        '>   code_verifier=the-verifier-0123456789012345678901234567890',
        '>   redirect_uri=http://127.0.0.1:8484/callback',
        '>   client_id=abc',
        '>   state=the-state',
        '',
      ].join('\n'),
    )
    // One write per line, each ending with a newline.
    expect(
      writes.every((line) => line.endsWith('\n') && line.indexOf('\n') === line.length - 1),
    ).toBe(true)
  })

  it('a GET without a form shows only the request line and headers', () => {
    const { trace, out } = traceWith()
    trace.request(
      {
        method: 'GET',
        url: new URL('https://as.example/.well-known/jwks.json'),
        stage: 'validate',
      },
      { accept: 'application/json' },
    )
    expect(out()).toBe(
      '> GET https://as.example/.well-known/jwks.json\n> accept: application/json\n',
    )
  })

  it.each([
    ['authorization', 'Basic YzE6c2VjcmV0', 'Basic [redacted 12 chars]'],
    ['Authorization', 'Bearer access-token-value', 'Bearer [redacted 18 chars]'],
    ['authorization', `DPoP ${ACCESS}`, `DPoP [redacted ${ACCESS.length} chars]`],
    ['authorization', 'opaque-credential', '[redacted 17 chars]'],
    ['DPoP', PROOF, `[redacted ${PROOF.length} chars]`],
    ['dpop', PROOF, `[redacted ${PROOF.length} chars]`],
    ['cookie', 'sid=abcdef123456', '[redacted 16 chars]'],
  ])('SO-3: the %s header value is redacted, the scheme kept', (name, value, shown) => {
    const { trace, out } = traceWith()
    trace.request(tokenRequest({}), { [name]: value })
    expect(out()).toBe(`> POST https://as.example/oauth/token\n> ${name}: ${shown}\n`)
  })

  it.each([
    ['x-api-key', 'key-value-123', '[redacted 13 chars]'],
    ['x-auth-token', 'tok', '[redacted 3 chars]'],
    ['proxy-authorization', 'Basic abc', '[redacted 9 chars]'],
    ['x-client-secret', 's3cret', '[redacted 6 chars]'],
    ['client-certificate', 'MIIBpublic', 'MIIBpublic'],
    ['client-certificate-ca-verified', 'SUCCESS', 'SUCCESS'],
  ])(
    'SO-3, --header: a sent %s header is redacted when its name says secret',
    (name, value, shown) => {
      const { trace, out } = traceWith()
      trace.request(tokenRequest({}), { [name]: value })
      expect(out()).toBe(`> POST https://as.example/oauth/token\n> ${name}: ${shown}\n`)
    },
  )

  it('a response header is judged by the fixed list only: www-authenticate stays readable', () => {
    const { trace, out } = traceWith()
    respond(trace, '', { 'www-authenticate': 'Bearer error="invalid_token"', 'x-api-key': 'k' })
    expect(out()).toContain('< www-authenticate: Bearer error="invalid_token"\n')
    expect(out()).toContain('< x-api-key: k\n')
  })

  it('SO-3: client_secret, client_assertion and refresh_token are redacted in the form', () => {
    const { trace, out } = traceWith()
    trace.request(
      tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
        client_secret: SECRET,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: ASSERTION,
      }),
      {},
    )
    expect(out()).toBe(
      [
        '> POST https://as.example/oauth/token',
        '>   grant_type=refresh_token',
        `>   refresh_token=[redacted ${REFRESH.length} chars]`,
        `>   client_secret=[redacted ${SECRET.length} chars]`,
        '>   client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        `>   client_assertion=[redacted ${ASSERTION.length} chars]`,
        '',
      ].join('\n'),
    )
  })

  it('SO-3: access_token and id_token fields are abbreviated', () => {
    const { trace, out } = traceWith()
    trace.request(tokenRequest({ access_token: ACCESS, id_token: ID_TOKEN }), {})
    expect(out()).toBe(
      [
        '> POST https://as.example/oauth/token',
        `>   access_token=access-to… (${ACCESS.length} chars)`,
        `>   id_token=eyJhbGciOiJS… (${ID_TOKEN.length} chars)`,
        '',
      ].join('\n'),
    )
  })

  it('--show-tokens shows tokens whole and still redacts secrets', () => {
    const { trace, out } = traceWith({ showTokens: true })
    trace.request(tokenRequest({ access_token: ACCESS, client_secret: SECRET }), {
      authorization: 'Basic YzE6c2VjcmV0',
    })
    expect(out()).toBe(
      [
        '> POST https://as.example/oauth/token',
        '> authorization: Basic [redacted 12 chars]',
        `>   access_token=${ACCESS}`,
        `>   client_secret=[redacted ${SECRET.length} chars]`,
        '',
      ].join('\n'),
    )
  })

  it('--show-secrets lifts all redaction', () => {
    const { trace, out } = traceWith({ showSecrets: true })
    trace.request(
      tokenRequest({ access_token: ACCESS, client_secret: SECRET, refresh_token: REFRESH }),
      { authorization: 'Basic YzE6c2VjcmV0', dpop: PROOF, cookie: 'sid=abcdef123456' },
    )
    expect(out()).toBe(
      [
        '> POST https://as.example/oauth/token',
        '> authorization: Basic YzE6c2VjcmV0',
        `> dpop: ${PROOF}`,
        '> cookie: sid=abcdef123456',
        `>   access_token=${ACCESS}`,
        `>   client_secret=${SECRET}`,
        `>   refresh_token=${REFRESH}`,
        '',
      ].join('\n'),
    )
  })

  it('SO-4: remote text in a field cannot start a line or drive the terminal', () => {
    const { trace, out } = traceWith()
    trace.request(tokenRequest({ code: 'a\nb\u0007\u202e' }), {})
    expect(out()).toBe('> POST https://as.example/oauth/token\n>   code=a\\nb\\x07\\u202e\n')
  })
})

describe('createTrace(): responses', () => {
  it('shows status, status text, the rounded time and each header on "< " lines', () => {
    const { trace, out } = traceWith()
    const response = new Response(null, {
      status: 404,
      statusText: 'Not Found',
      headers: { 'x-b': '2', 'X-A': '1' },
    })
    trace.response(tokenRequest({}), response, new Uint8Array(), 12.5)
    expect(out()).toBe('< 404 Not Found (13 ms)\n< x-a: 1\n< x-b: 2\n')
  })

  it('a JSON body is pretty-printed, two spaces in, tokens abbreviated, secrets redacted', () => {
    const { trace, out } = traceWith()
    respond(
      trace,
      JSON.stringify({
        access_token: ACCESS,
        id_token: ID_TOKEN,
        refresh_token: REFRESH,
        token_type: 'DPoP',
        expires_in: 86400,
        scope: 'openid',
      }),
      { 'content-type': 'application/json; charset=utf-8' },
    )
    expect(out()).toBe(
      [
        '< 200  (12 ms)',
        '< content-type: application/json; charset=utf-8',
        '  {',
        `    "access_token": "access-to… (${ACCESS.length} chars)",`,
        `    "id_token": "eyJhbGciOiJS… (${ID_TOKEN.length} chars)",`,
        `    "refresh_token": "[redacted ${REFRESH.length} chars]",`,
        '    "token_type": "DPoP",',
        '    "expires_in": 86400,',
        '    "scope": "openid"',
        '  }',
        '',
      ].join('\n'),
    )
  })

  it('SO-3: secrets nested in objects and arrays are redacted too', () => {
    const { trace, out } = traceWith()
    respond(
      trace,
      JSON.stringify({ clients: [{ client_id: 'c1', client_secret: SECRET }], n: [1, 'x'] }),
      { 'content-type': 'application/vnd.example+json' },
    )
    expect(out()).toContain(`"client_secret": "[redacted ${SECRET.length} chars]"`)
    expect(out()).toContain('"client_id": "c1"')
    expect(out()).not.toContain(SECRET)
  })

  it('SO-3: a secret member that is not a string is shown as it is', () => {
    const { trace, out } = traceWith()
    respond(trace, JSON.stringify({ refresh_token: 42 }), { 'content-type': 'application/json' })
    expect(out()).toContain('  {\n    "refresh_token": 42\n  }\n')
  })

  it('--show-tokens shows tokens in a JSON body whole, secrets still redacted', () => {
    const { trace, out } = traceWith({ showTokens: true })
    respond(trace, JSON.stringify({ access_token: ACCESS, refresh_token: REFRESH }), {
      'content-type': 'application/json',
    })
    expect(out()).toContain(`    "access_token": "${ACCESS}",\n`)
    expect(out()).toContain(`    "refresh_token": "[redacted ${REFRESH.length} chars]"\n`)
  })

  it('--show-secrets shows a JSON body as the server sent it (pretty-printed)', () => {
    const { trace, out } = traceWith({ showSecrets: true })
    respond(trace, JSON.stringify({ access_token: ACCESS, refresh_token: REFRESH }), {
      'content-type': 'application/json',
    })
    expect(out()).toContain(`    "access_token": "${ACCESS}",\n    "refresh_token": "${REFRESH}"\n`)
  })

  it('an empty body adds no line', () => {
    const { trace, out } = traceWith()
    respond(trace, '', { 'content-type': 'application/json' }, 204)
    expect(out()).toBe('< 204  (12 ms)\n< content-type: application/json\n')
  })

  it('a body that is not JSON is one excerpt line, secrets in JSON-looking text masked', () => {
    const { trace, out } = traceWith()
    const body = `{"access_token":"${ACCESS}","refresh_token":"${REFRESH}"}`
    respond(trace, body, { 'content-type': 'text/plain' })
    expect(out()).toBe(
      `< 200  (12 ms)\n< content-type: text/plain\n  {"access_token":"access-to… (${ACCESS.length} chars)","refresh_token":"[redacted ${REFRESH.length} chars]"}\n`,
    )
  })

  it('a body labelled JSON that does not parse falls back to the masked excerpt', () => {
    const { trace, out } = traceWith()
    respond(trace, `{"refresh_token":"${REFRESH}"`, { 'content-type': 'application/json' })
    expect(out()).toBe(
      `< 200  (12 ms)\n< content-type: application/json\n  {"refresh_token":"[redacted ${REFRESH.length} chars]"\n`,
    )
  })

  it('a body without a content type is shown as text', () => {
    const { trace, writes } = traceWith()
    trace.response(tokenRequest({}), new Response(null, { status: 200 }), bytes('{"a": 1}'), 0)
    expect(writes).toEqual(['< 200  (0 ms)\n', '  {"a": 1}\n'])
  })

  it('a long text body is cut at 500 characters with the full length', () => {
    const { trace, writes } = traceWith()
    respond(trace, 'x'.repeat(600), { 'content-type': 'text/html' })
    expect(writes.at(-1)).toBe(`  ${'x'.repeat(500)}… (600 chars)\n`)
  })

  it('SO-4: a text body cannot forge lines or send escapes; one line, escaped', () => {
    const { trace, writes } = traceWith()
    respond(trace, 'line one\n::error::forged\r\n\u0007\u0085\u202e', {
      'content-type': 'text/plain',
    })
    expect(writes.at(-1)).toBe('  line one\\n::error::forged\\r\\n\\x07\\x85\\u202e\n')
  })

  it('SO-4: bidi characters in JSON strings are escaped', () => {
    const { trace, out } = traceWith()
    respond(trace, JSON.stringify({ error_description: 'a\u202eb\u0085' }), {
      'content-type': 'application/json',
    })
    expect(out()).toContain('    "error_description": "a\\u202eb\\x85"\n')
  })
})
