import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import { CliError, isCliError } from '../errors.js'
import { decodeToken } from '../jwt/decode.js'
import { CheckList, verifyJwt } from '../jwt/verify.js'
import type { Check, CheckCodes, JwksSource } from '../jwt/verify.js'
import { excerpt } from '../sanitize.js'

/** What a JARM response is checked against. */
export interface JarmExpectations {
  issuer: string
  clientId: string
  /** The metadata's `authorization_signing_alg_values_supported`. */
  supportedAlgorithms: string[] | undefined
  keys: JwksSource
  now: Date
  clockToleranceSeconds: number
}

/** The verified JARM response: its header, its claims and the authorization response inside. */
export interface JarmResponse {
  header: ProtectedHeaderParameters
  claims: JWTPayload
  /** The authorization response parameters from the claims, for the usual checks (RH-1 to RH-4). */
  params: URLSearchParams
}

export const JARM_CODES: CheckCodes = {
  default: 'jarm_invalid',
  format: 'jarm_invalid',
  alg: 'jarm_alg_not_allowed',
  typ: 'jarm_invalid',
  crit: 'jarm_invalid',
  key: 'no_matching_key',
  key_size: 'weak_key',
  signature: 'jarm_signature_invalid',
  iss: 'jarm_issuer_invalid',
  aud: 'jarm_audience_invalid',
  exp: 'jarm_expired',
  exp_format: 'jarm_invalid',
}

/** The JWT claims that frame the response; every other claim is a response parameter. */
const FRAME_CLAIMS = new Set(['aud', 'exp', 'iat', 'nbf', 'jti'])

/**
 * The `alg`s a JARM response may use: the metadata's list without `none` and without HMAC, else
 * RS256 (JARM §3: `authorization_signed_response_alg` defaults to RS256). HMAC would need the
 * client secret as key; pkce does not accept it (docs/security.md RM-3).
 * @see https://openid.net/specs/oauth-v2-jarm.html#section-3
 */
export function allowedJarmAlgorithms(supported: string[] | undefined): string[] {
  const asymmetric = (supported ?? ['RS256']).filter(
    (alg) => alg !== 'none' && !alg.startsWith('HS'),
  )
  return asymmetric.length > 0 ? asymmetric : ['RS256']
}

/**
 * The parameters of a callback in a JARM mode: exactly one `response`, nothing beside it
 * (docs/security.md RM-3). Returns the JWT.
 * @see https://openid.net/specs/oauth-v2-jarm.html#section-2.3
 */
export function jarmResponseParameter(params: URLSearchParams, mode: string): string {
  const stage = 'callback' as const
  const responses = params.getAll('response')
  if (responses.length > 1) {
    throw new CliError('duplicate_parameter', 'the callback repeats the parameter "response"', {
      stage,
    })
  }
  const others = [...new Set(params.keys())].filter((name) => name !== 'response')
  const [response] = responses
  if (response === undefined || response === '') {
    throw new CliError(
      'jarm_invalid',
      `the callback carries no JARM response parameter although response_mode=${mode} was asked for`,
      {
        stage,
        hint:
          others.length === 0
            ? 'the server may not support JARM (features.jwtResponseModes)'
            : 'the server answered in plain form: it ignored response_mode',
      },
    )
  }
  if (others.length > 0) {
    throw new CliError(
      'unexpected_response_parameter',
      `the callback carries "${excerpt(others[0] ?? '', 40)}" beside the JARM response; with response_mode=${mode} everything comes inside the signed JWT`,
      {
        stage,
        hint: 'parameters outside the JWT are not signed: anyone could have added them',
      },
    )
  }
  return response
}

/**
 * Verifies a JARM response JWT with the issuer's keys — `alg` from the metadata (never `none`,
 * never HMAC), signature, `iss` exact, `aud` the client id, `exp` with the clock tolerance — then
 * returns the authorization response it carries. Each check is recorded as `callback.jarm.<name>`.
 * @see https://openid.net/specs/oauth-v2-jarm.html#section-2.4
 */
export async function verifyJarmResponse(
  response: string,
  expect: JarmExpectations,
  checks: Check[],
): Promise<JarmResponse> {
  const list = new CheckList(checks, JARM_CODES, 'callback.jarm')
  try {
    return await verifyInto(response, expect, list)
  } catch (error) {
    if (!isCliError(error) || error.stage === 'callback') throw error
    // A JARM failure is a callback failure: its listener page names only the code (LL-7, D-1).
    const restaged = new CliError(error.code, error.message, {
      stage: 'callback',
      hint: error.hint,
      cause: error,
    })
    throw restaged
  }
}

async function verifyInto(
  response: string,
  expect: JarmExpectations,
  list: CheckList,
): Promise<JarmResponse> {
  let decoded
  try {
    decoded = decodeToken(response, 'jarm_invalid')
  } catch (error) {
    list.fail('format', error instanceof Error ? error.message : String(error))
  }
  if (decoded.kind === 'jwe') {
    list.checks.push({
      name: 'callback.jarm.format',
      ok: false,
      detail: 'an encrypted (JWE) response',
    })
    throw new CliError(
      'jarm_encrypted',
      `the JARM response is encrypted (JWE, alg ${excerpt(String(decoded.header.alg ?? ''), 40)}, enc ${excerpt(String(decoded.header.enc ?? ''), 40)}) and pkce has no client decryption key`,
      {
        stage: 'callback',
        hint: 'pkce cannot decrypt JARM responses (no --jarm-decryption-key); register the client without authorization_encrypted_response_alg',
      },
    )
  }
  if (decoded.kind === 'opaque') list.fail('format', 'the response parameter is not a JWT')
  list.pass('format', decoded.kind === 'unsecured' ? 'a compact JWT, unsecured' : 'a compact JWS')
  const algorithms = allowedJarmAlgorithms(expect.supportedAlgorithms)
  if (decoded.kind === 'unsecured') {
    list.fail(
      'alg',
      `"none" is not one of ${algorithms.join(', ')}`,
      'RFC 8725 §3.1: an unsigned response proves nothing about where it came from',
    )
  }
  const { header, payload } = decoded
  await verifyJwt(
    response,
    header,
    payload,
    {
      keys: expect.keys,
      algorithms,
      issuer: expect.issuer,
      audience: expect.clientId,
      now: expect.now,
      clockToleranceSeconds: expect.clockToleranceSeconds,
      typ: [undefined, 'jwt', 'application/jwt', 'oauth-authz-resp+jwt'],
      requiredClaims: ['iss', 'aud', 'exp'],
    },
    list,
  )
  // JARM §2.4 step 3: aud "MUST" be the client id; jose accepts an array that contains it.
  if (Array.isArray(payload.aud) && payload.aud.length !== 1) {
    list.fail('aud', `aud has ${payload.aud.length} audiences; JARM requires the client id`)
  }
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(payload)) {
    if (FRAME_CLAIMS.has(name)) continue
    if (typeof value !== 'string') {
      list.fail('claims', `the claim "${excerpt(name, 40)}" is not a string`)
    }
    params.append(name, value)
  }
  return { header, claims: payload, params }
}
