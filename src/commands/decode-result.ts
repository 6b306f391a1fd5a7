import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import type { CliError } from '../errors.js'
import type { DecodedToken } from '../jwt/decode.js'
import type { Check } from '../jwt/verify.js'

// What `pkce decode` produces, shared by the run, the validity rules and the renderer. Types only,
// so that none of those modules has to import another to name them.

export interface DecodeWarning {
  code: string
  message: string
}

/** One token's `--json` document. */
export interface TokenReport {
  ok: boolean
  /** `null` when the token could not be decoded at all. */
  kind: DecodedToken['kind'] | null
  header: ProtectedHeaderParameters | null
  payload: JWTPayload | null
  signature: { alg: string; bytes: number } | null
  checks: Check[]
  warnings: DecodeWarning[]
  error?: { code: string; message: string; hint?: string }
}

/**
 * Where now stands against `exp`; `seconds` is how far away that instant is, counted forwards for
 * `valid` and backwards for `expired` (0: it is exactly now).
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4
 */
export type Expiry =
  | { state: 'valid'; seconds: number }
  | { state: 'expired'; seconds: number }
  | { state: 'no_exp' }
  | { state: 'exp_invalid' }

/**
 * A claims set's validity at now: its expiry, or, before `nbf`, the seconds until it and the expiry.
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.5
 */
export type Validity = Expiry | { state: 'not_yet_valid'; seconds: number; expiry: Expiry }

export interface DecodedEntry {
  token: string
  report: TokenReport
  /** JWTs with readable claims only. */
  validity: Validity | undefined
  verification: 'skipped' | 'passed' | 'failed'
}

export interface DecodeResult {
  entries: DecodedEntry[]
  now: Date
  /** What makes the run exit non-zero, already carrying the report for `--json`. */
  failure: CliError | undefined
}
