import { createHash } from 'node:crypto'
import type { JSONWebKeySet, JWTPayload, JWTVerifyResult } from 'jose'
import { jwtVerify } from 'jose/jwt/verify'
import { MIN_RSA_BITS } from './algorithms.js'
import { CliError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import { excerpt } from '../sanitize.js'

/** One named verdict in a validation report (security.md JD-6). */
export interface Check {
  name: string
  ok: boolean
  detail: string
}

/** Loads the issuer's JWKS; `refresh` asks for a new copy (at most once per run: security.md HC-5). */
export type JwksSource = (refresh: boolean) => Promise<JSONWebKeySet>

export interface VerifyOptions {
  keys: JwksSource
  /** Allowed JWS algorithms, exact and case-sensitive; never `none`, never HMAC (IT-2). */
  algorithms: string[]
  issuer?: string | undefined
  audience?: string | undefined
  now: Date
  clockToleranceSeconds: number
  /** Accepted `typ` values, lower case; `undefined` means absent. */
  typ: (string | undefined)[]
  requiredClaims: string[]
}

/** Which error code a failed check raises, per token kind. */
export type CheckCodes = Partial<Record<string, ErrorCode>> & { default: ErrorCode }

export const ID_TOKEN_CODES: CheckCodes = {
  default: 'id_token_claim_invalid',
  format: 'id_token_malformed',
  alg: 'id_token_alg_not_allowed',
  typ: 'id_token_typ_invalid',
  crit: 'id_token_unsupported_header',
  key: 'no_matching_key',
  key_size: 'weak_key',
  signature: 'id_token_signature_invalid',
  iss: 'id_token_issuer_invalid',
  aud: 'id_token_audience_invalid',
  azp: 'id_token_audience_invalid',
  exp: 'id_token_expired',
  nonce: 'id_token_nonce_invalid',
  at_hash: 'id_token_at_hash_invalid',
  auth_time: 'id_token_auth_time_invalid',
}

const TIME_CLAIMS = ['exp', 'nbf', 'iat', 'auth_time'] as const

/**
 * Collects checks as they run, so that a failure still reports every check made before it; the
 * first failure throws with the code its check maps to.
 */
export class CheckList {
  readonly checks: Check[]
  readonly #codes: CheckCodes
  readonly #label: string

  /** `label` names the token in messages and prefixes check names (`id_token.signature`). */
  constructor(checks: Check[], codes: CheckCodes, label: string) {
    this.checks = checks
    this.#codes = codes
    this.#label = label
  }

  pass(name: string, detail: string): void {
    this.checks.push({ name: `${this.#label}.${name}`, ok: true, detail })
  }

  fail(name: string, detail: string, hint?: string): never {
    this.checks.push({ name: `${this.#label}.${name}`, ok: false, detail })
    throw new CliError(
      this.#codes[name] ?? this.#codes.default,
      `${this.#label}: ${name} check failed: ${detail}`,
      {
        stage: 'validate',
        hint,
      },
    )
  }
}

function joseCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

async function verifyWithKeys(
  token: string,
  options: VerifyOptions,
  jwks: JSONWebKeySet,
): Promise<JWTVerifyResult> {
  const { createLocalJWKSet } = await import('jose/jwks/local')
  const keySet = createLocalJWKSet(jwks)
  const verifyOptions = {
    algorithms: options.algorithms,
    currentDate: options.now,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: options.requiredClaims,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  }
  try {
    return await jwtVerify(token, keySet, verifyOptions)
  } catch (error) {
    if (joseCode(error) !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error
    // security.md MD-4: several candidate keys and no kid: try each, never settle for a wrong one.
    let last: unknown = error
    for await (const key of error as AsyncIterable<Parameters<typeof jwtVerify>[1]>) {
      try {
        return await jwtVerify(token, key, verifyOptions)
      } catch (attempt) {
        last = attempt
        if (joseCode(attempt) !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') break
      }
    }
    throw last
  }
}

function fmtTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

/**
 * Verifies a JWS with jose against the issuer's keys, recording each check: header (`alg`, `typ`),
 * key, signature, then `iss`, `aud`, `exp`, `nbf`, `iat`. One JWKS refetch on an unknown `kid`.
 * Key headers in the token (`jku`, `x5u`, `jwk`, `x5c`) are never used.
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 */
export async function verifyJwt(
  token: string,
  header: { alg?: string; typ?: string; crit?: string[] },
  payload: JWTPayload,
  options: VerifyOptions,
  list: CheckList,
): Promise<JWTVerifyResult> {
  const alg = header.alg ?? ''
  if (!options.algorithms.includes(alg)) {
    list.fail(
      'alg',
      `"${excerpt(alg, 40)}" is not one of ${options.algorithms.join(', ')}`,
      'RFC 8725 §3.1: the algorithm comes from the metadata, never the token',
    )
  }
  list.pass('alg', `${alg} is allowed`)
  const typ = header.typ?.toLowerCase()
  if (!options.typ.includes(typ)) {
    list.fail(
      'typ',
      `typ "${excerpt(header.typ ?? '', 40)}" marks another kind of JWT`,
      'RFC 8725 §3.11',
    )
  }
  for (const name of TIME_CLAIMS) {
    const value = payload[name]
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      list.fail(name === 'exp' ? 'exp_format' : name, `${name} is not a finite number`)
    }
  }
  let result: JWTVerifyResult
  try {
    try {
      result = await verifyWithKeys(token, options, await options.keys(false))
    } catch (error) {
      if (joseCode(error) !== 'ERR_JWKS_NO_MATCHING_KEY') throw error
      result = await verifyWithKeys(token, options, await options.keys(true))
    }
  } catch (error) {
    failFromJose(error, options, payload, list)
  }
  list.pass(
    'signature',
    `verified with the issuer's ${alg} key${result.protectedHeader.kid === undefined ? '' : ` (kid ${excerpt(result.protectedHeader.kid, 60)})`}`,
  )
  if (options.issuer !== undefined) list.pass('iss', `equals ${options.issuer}`)
  if (options.audience !== undefined) list.pass('aud', `contains ${options.audience}`)
  const tolerance = options.clockToleranceSeconds
  if (typeof payload.exp === 'number') {
    list.pass('exp', `${fmtTime(payload.exp)} is in the future (tolerance ${tolerance}s)`)
  }
  if (typeof payload.nbf === 'number') list.pass('nbf', `${fmtTime(payload.nbf)} has passed`)
  const now = Math.floor(options.now.getTime() / 1000)
  if (typeof payload.iat === 'number') {
    // security.md D-5: jose checks a future iat only under maxTokenAge, which would also fail old tokens.
    if (payload.iat > now + tolerance) list.fail('iat', `${fmtTime(payload.iat)} is in the future`)
    list.pass('iat', `${fmtTime(payload.iat)}`)
  }
  return result
}

function failFromJose(
  error: unknown,
  options: VerifyOptions,
  payload: JWTPayload,
  list: CheckList,
): never {
  const code = joseCode(error)
  const claim = (error as { claim?: unknown }).claim
  switch (code) {
    case 'ERR_JWKS_NO_MATCHING_KEY':
      list.fail(
        'key',
        'no key in the issuer JWKS matches the token (kid, kty, alg), even after a refetch',
        'the token was not signed by this issuer, or its keys rotated',
      )
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      list.fail('signature', 'the signature does not verify with the issuer key')
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      list.fail('alg', 'the algorithm is not allowed')
    case 'ERR_JWT_EXPIRED':
      list.fail(
        'exp',
        `expired at ${fmtTime(payload.exp ?? 0)} (now ${options.now.toISOString()}, tolerance ${options.clockToleranceSeconds}s)`,
        'raise --clock-tolerance only if your clock is off',
      )
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const name = typeof claim === 'string' ? claim : 'claims'
      const value = payload[name]
      const shown = value === undefined ? 'missing' : excerpt(JSON.stringify(value), 120)
      const expected =
        name === 'iss'
          ? ` (expected ${options.issuer ?? ''})`
          : name === 'aud'
            ? ` (expected to contain ${options.audience ?? ''})`
            : ''
      list.fail(name, `${name} is ${shown}${expected}`)
    }
    case 'ERR_JOSE_NOT_SUPPORTED':
      list.fail('crit', `unsupported header or key: ${(error as Error).message}`)
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      list.fail('format', (error as Error).message)
    default:
      // security.md MD-5: jose refuses RSA keys under 2048 bits with a plain TypeError.
      if (error instanceof TypeError && /modulusLength/u.test(error.message)) {
        list.fail('key_size', `the RSA key is shorter than ${MIN_RSA_BITS} bits`, 'RFC 7518 §3.3')
      }
      // WebCrypto refuses to import a key whose members make no key (MD-3): the issuer's key is
      // unusable, which is the server's fault, not pkce's.
      if (error instanceof DOMException) {
        list.fail('key', `the matching issuer key cannot be used: ${error.message}`)
      }
      throw error
  }
}

/**
 * `at_hash`: base64url of the left half of the access token's hash under the ID token's `alg`.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken
 */
export function accessTokenHash(accessToken: string, alg: string): string | undefined {
  const bits =
    /^(?:RS|PS|ES)(256|384|512)$/u.exec(alg)?.[1] ??
    (alg === 'EdDSA' || alg === 'Ed25519' ? '512' : undefined)
  if (bits === undefined) return undefined
  const digest = createHash(`sha${bits}`).update(accessToken, 'ascii').digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}
