import type { JWTPayload } from 'jose'
import { formatNumericDate, formatRelative, TIME_CLAIMS } from '../io/render.js'
import { excerpt } from '../sanitize.js'
import type { DecodeWarning, Expiry, Validity } from './decode-result.js'

function isUsableDate(value: unknown, now: Date): value is number {
  return formatNumericDate(value, now) !== undefined
}

/**
 * Where `now` stands against a claims set's `exp` and `nbf`. A claim that is not a usable
 * NumericDate (security.md JD-3) says nothing about validity.
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.5
 */
export function validityAt(payload: JWTPayload, now: Date): Validity {
  const nowSeconds = now.getTime() / 1000
  const { exp, nbf } = payload
  const expiry: Expiry = !isUsableDate(exp, now)
    ? { state: exp === undefined ? 'no_exp' : 'exp_invalid' }
    : exp <= nowSeconds
      ? { state: 'expired', seconds: nowSeconds - exp }
      : { state: 'valid', seconds: exp - nowSeconds }
  if (isUsableDate(nbf, now) && nbf > nowSeconds) {
    return { state: 'not_yet_valid', seconds: nbf - nowSeconds, expiry }
  }
  return expiry
}

function expired(seconds: number): string {
  return `expired ${seconds === 0 ? 'just now' : formatRelative(-seconds)}`
}

/** The validity in words: "expires in 23h 59m", "expired 5m ago", "not yet valid (…)". */
export function describeValidity(validity: Validity): string {
  switch (validity.state) {
    case 'valid':
      return `expires ${formatRelative(validity.seconds)}`
    case 'expired':
      return expired(validity.seconds)
    case 'no_exp':
      return 'no exp: never expires'
    case 'exp_invalid':
      return 'exp is not a valid date'
    case 'not_yet_valid':
      return `not yet valid (valid ${formatRelative(validity.seconds)}; ${describeValidity(validity.expiry)})`
  }
}

/**
 * The warnings a claims set's times raise: each time claim that is not a NumericDate, then an
 * expired token, then one not yet valid.
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-2
 */
export function timeWarnings(payload: JWTPayload, validity: Validity, now: Date): DecodeWarning[] {
  const warnings: DecodeWarning[] = []
  for (const name of TIME_CLAIMS) {
    const value = payload[name]
    // Auth0 sends updated_at as an ISO 8601 string, not the number OIDC Core §5.1 asks for.
    if (value === undefined || (name === 'updated_at' && typeof value === 'string')) continue
    if (!isUsableDate(value, now)) {
      warnings.push({
        code: 'claim_time_invalid',
        message: `${name} is not a valid NumericDate: ${excerpt(JSON.stringify(value) ?? '', 60)}`,
      })
    }
  }
  const expiry = validity.state === 'not_yet_valid' ? validity.expiry : validity
  if (expiry.state === 'expired') {
    warnings.push({ code: 'token_expired', message: `the token ${expired(expiry.seconds)}` })
  }
  if (validity.state === 'not_yet_valid') {
    warnings.push({
      code: 'token_not_yet_valid',
      message: `the token is not yet valid (nbf ${formatRelative(validity.seconds)})`,
    })
  }
  return warnings
}
