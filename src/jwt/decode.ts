import { decodeProtectedHeader } from 'jose/decode/protected_header'
import { decodeJwt } from 'jose/jwt/decode'
import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import { CliError } from '../errors.js'
import type { ErrorCode } from '../errors.js'

/** Deeper claims than any real token has; JSON.stringify overflows the stack near 10 000. */
export const MAX_CLAIM_DEPTH = 64

/**
 * Whether a decoded header or claims set nests deeper than `MAX_CLAIM_DEPTH`, which the printer
 * could not show without crashing (security.md JD-3). Iterative, so the check cannot overflow.
 */
export function nestsTooDeep(value: unknown): boolean {
  const pending: [unknown, number][] = [[value, 0]]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next
    if (typeof item !== 'object' || item === null) continue
    if (depth >= MAX_CLAIM_DEPTH) return true
    for (const child of Object.values(item)) pending.push([child, depth + 1])
  }
  return false
}

/**
 * JOSE header parameters that name or carry a key. pkce never fetches or trusts them: keys come
 * only from what the user names or the issuer's metadata (security.md IT-3).
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.10
 */
export const KEY_HEADERS: readonly string[] = ['jku', 'x5u', 'jwk', 'x5c']

/** security.md JD-2: nothing larger is decoded. */
export const MAX_TOKEN_LENGTH = 64 * 1024

// security.md JD-1: Buffer.from(s, 'base64url') skips bad characters, so the segment is checked
// strictly first and the display cannot differ from what a verifier sees.
const BASE64URL = /^[A-Za-z0-9_-]*$/u

export type DecodedToken =
  | {
      kind: 'jws' | 'unsecured'
      header: ProtectedHeaderParameters
      payload: JWTPayload
      signature: { alg: string; bytes: number }
    }
  | { kind: 'jwe'; header: ProtectedHeaderParameters; payload: null; signature: null }
  | { kind: 'opaque'; length: number; header: null; payload: null; signature: null }

const SEGMENT_NAMES = {
  3: ['header', 'payload', 'signature'],
  5: ['header', 'encrypted key', 'initialization vector', 'ciphertext', 'authentication tag'],
} as const

/**
 * Classifies and decodes a token without verifying anything: a JWS (or an `alg: none` unsecured
 * JWT) has its header and claims decoded with jose; a JWE only its protected header; anything
 * that is not JWT-shaped is opaque. Malformed JWTs fail naming the segment and the reason.
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-7.2
 * @see https://www.rfc-editor.org/rfc/rfc7516#section-9
 */
export function decodeToken(token: string, code: ErrorCode = 'token_malformed'): DecodedToken {
  const fail = (message: string): CliError => new CliError(code, message, { stage: 'decode' })
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new CliError(
      'token_too_large',
      `the token is ${token.length} characters; the limit is ${MAX_TOKEN_LENGTH}`,
      {
        stage: 'decode',
      },
    )
  }
  const segments = token.split('.')
  const looksLikeJwt = segments.length > 1 && token.startsWith('eyJ')
  if (!looksLikeJwt)
    return { kind: 'opaque', length: token.length, header: null, payload: null, signature: null }
  if (segments.length !== 3 && segments.length !== 5) {
    throw fail(`the token has ${segments.length} segments; a JWS has 3 and a JWE 5`)
  }
  const names = SEGMENT_NAMES[segments.length]
  segments.forEach((segment, index) => {
    if (!BASE64URL.test(segment)) {
      throw fail(`the ${names[index] ?? 'segment'} segment (#${index + 1}) is not base64url`)
    }
  })
  let header: ProtectedHeaderParameters
  try {
    header = decodeProtectedHeader(token)
  } catch {
    throw fail('the header segment is not a base64url-encoded JSON object')
  }
  if (segments.length === 5) {
    if (typeof header.enc !== 'string') throw fail('the 5-segment token has no "enc" in its header')
    return { kind: 'jwe', header, payload: null, signature: null }
  }
  if (typeof header.alg !== 'string') throw fail('the header has no "alg"')
  let payload: JWTPayload
  try {
    payload = decodeJwt(token)
  } catch {
    throw fail('the payload segment is not a base64url-encoded JSON object')
  }
  for (const [segment, value] of [
    ['header', header],
    ['payload', payload],
  ] as const) {
    if (nestsTooDeep(value))
      throw fail(`the ${segment} nests deeper than ${MAX_CLAIM_DEPTH} levels`)
  }
  const signatureBytes = Buffer.from(segments[2] ?? '', 'base64url').length
  if (header.alg === 'none') {
    if (signatureBytes !== 0) throw fail('an alg "none" token must have an empty signature')
    return { kind: 'unsecured', header, payload, signature: { alg: 'none', bytes: 0 } }
  }
  if (signatureBytes === 0)
    throw fail(`the signature segment is empty although alg is "${header.alg}"`)
  return { kind: 'jws', header, payload, signature: { alg: header.alg, bytes: signatureBytes } }
}
