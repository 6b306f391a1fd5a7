import type { HttpRequest } from '../oauth/http.js'
import { abbreviateToken, maskJsonMembers, redacted, sanitize } from '../sanitize.js'

export interface TraceSink {
  request(request: HttpRequest, headers: Record<string, string>): void
  response(request: HttpRequest, response: Response, body: Uint8Array, elapsedMs: number): void
}

// security.md SO-3: what a trace never shows unless --show-secrets.
const SECRET_HEADERS = new Set(['authorization', 'dpop', 'cookie', 'set-cookie'])
// `token` is what revocation sends (RFC 7009 §2.1): a refresh token more often than not.
const SECRET_FIELDS = new Set(['client_secret', 'client_assertion', 'refresh_token', 'token'])
const TOKEN_FIELDS = new Set(['access_token', 'id_token'])

export interface TraceOptions {
  write: (line: string) => void
  showSecrets: boolean
  showTokens: boolean
}

function field(name: string, value: string, options: TraceOptions): string {
  if (options.showSecrets) return value
  if (SECRET_FIELDS.has(name)) return redacted(value)
  if (TOKEN_FIELDS.has(name) && !options.showTokens) return abbreviateToken(value)
  return value
}

// Names a user's `--header` may carry a secret under (`x-api-key`, `x-auth-token`, `proxy-authorization`).
const SECRET_NAME = /secret|token|passw|key|auth|cookie|session|credential|signature|bearer/iu

/** Whether a header's name says its value is a secret (SO-3 for `--header`). */
export function secretHeaderName(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase()) || SECRET_NAME.test(name)
}

// Headers whose value starts with an authentication scheme worth showing (`Bearer`, `DPoP`, `Basic`).
const SCHEME_HEADERS = new Set(['authorization'])

function header(name: string, value: string, options: TraceOptions, sent: boolean): string {
  const lower = name.toLowerCase()
  // Only what pkce sends is judged by its name: a response's `www-authenticate` is a challenge.
  const secret = sent ? secretHeaderName(lower) : SECRET_HEADERS.has(lower)
  if (options.showSecrets || !secret) return value
  if (!SCHEME_HEADERS.has(lower)) return redacted(value)
  const [scheme, rest] = value.split(/ (.*)/su)
  return rest === undefined ? redacted(value) : `${scheme} ${redacted(rest)}`
}

function redactJson(value: unknown, options: TraceOptions): unknown {
  if (Array.isArray(value)) return value.map((item) => redactJson(item, options))
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      typeof item === 'string' ? field(key, item, options) : redactJson(item, options),
    ]),
  )
}

/**
 * `--verbose`: every HTTP exchange on stderr — method, URL, status, headers and body — with
 * secrets redacted and tokens abbreviated (security.md SO-3). One-time values (`code`,
 * `code_verifier`, `state`) are shown: they are what a PKCE debugger is for.
 */
export function createTrace(options: TraceOptions): TraceSink {
  const line = (text: string): void => options.write(`${sanitize(text)}\n`)
  const bodyLines = (text: string, contentType: string | null): void => {
    if (text === '') return
    if (contentType !== null && /[/+]json\b/iu.test(contentType)) {
      try {
        const parsed: unknown = JSON.parse(text)
        for (const row of JSON.stringify(redactJson(parsed, options), null, 2).split('\n')) {
          line(`  ${row}`)
        }
        return
      } catch {
        // Not JSON after all: fall through to the excerpt.
      }
    }
    // Truncated or mislabelled JSON still hides what the parsed path would (SO-3).
    const masked = maskJsonMembers(text, {
      secrets: options.showSecrets,
      tokens: options.showTokens,
    })
    line(`  ${masked.length > 500 ? `${masked.slice(0, 500)}… (${text.length} chars)` : masked}`)
  }
  return {
    request(request, headers) {
      line(`> ${request.method} ${request.url.href}`)
      for (const [name, value] of Object.entries(headers)) {
        line(`> ${name}: ${header(name, value, options, true)}`)
      }
      if (request.form !== undefined) {
        for (const [name, value] of request.form) line(`>   ${name}=${field(name, value, options)}`)
      }
    },
    response(_request, response, body, elapsedMs) {
      line(`< ${response.status} ${response.statusText} (${Math.round(elapsedMs)} ms)`)
      response.headers.forEach((value, name) =>
        line(`< ${name}: ${header(name, value, options, false)}`),
      )
      bodyLines(Buffer.from(body).toString('utf8'), response.headers.get('content-type'))
    },
  }
}
