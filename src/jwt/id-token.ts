import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import { excerpt } from '../sanitize.js'
import { decodeToken } from './decode.js'
import { accessTokenHash, verifyJwt } from './verify.js'
import type { CheckList, JwksSource } from './verify.js'

export interface IdTokenExpectations {
  issuer: string
  clientId: string
  /**
   * The nonce sent; `undefined` when none was, so a token carrying one is rejected (SN-4); `null`
   * on a refresh, where there is nothing to compare (OIDC Core §12.2).
   */
  nonce: string | undefined | null
  algorithms: string[]
  keys: JwksSource
  now: Date
  clockToleranceSeconds: number
  accessToken: string
  maxAgeSeconds: number | undefined
  flowStartedAt: Date
}

export interface ValidatedIdToken {
  header: ProtectedHeaderParameters
  payload: JWTPayload
  warnings: { code: string; message: string }[]
}

/** The `alg`s an ID token may use: the metadata's list minus `none` and HMAC, else RS256 (IT-2). */
export function allowedIdTokenAlgorithms(supported: string[] | undefined): string[] {
  const asymmetric = (supported ?? ['RS256']).filter(
    (alg) => alg !== 'none' && !alg.startsWith('HS'),
  )
  return asymmetric.length > 0 ? asymmetric : ['RS256']
}

/**
 * Validates an ID token from the token endpoint, each check recorded in `list`: shape, `alg`,
 * `typ`, signature against the issuer's JWKS, `iss`, `aud`, `azp`, `exp`, `nbf`, `iat`, `sub`,
 * `nonce`, `at_hash`, `auth_time`.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 */
export async function validateIdToken(
  idToken: string,
  expect: IdTokenExpectations,
  list: CheckList,
): Promise<ValidatedIdToken> {
  let decoded
  try {
    decoded = decodeToken(idToken, 'id_token_malformed')
  } catch (error) {
    list.fail('format', error instanceof Error ? error.message : String(error))
  }
  if (decoded.kind === 'jwe') {
    list.fail('format', 'the ID token is encrypted (JWE); pkce does not decrypt ID tokens')
  }
  if (decoded.kind === 'opaque') list.fail('format', 'the ID token is not a JWT')
  list.pass('format', decoded.kind === 'unsecured' ? 'a compact JWT, unsecured' : 'a compact JWS')
  if (decoded.kind === 'unsecured') {
    // security.md IT-2: "none" is an algorithm the metadata never allows, so it fails as one.
    list.fail(
      'alg',
      `"none" is not one of ${expect.algorithms.join(', ')}`,
      'RFC 8725 §3.1: the algorithm comes from the metadata, never the token',
    )
  }
  const { header, payload } = decoded
  const warnings: ValidatedIdToken['warnings'] = []
  await verifyJwt(
    idToken,
    header,
    payload,
    {
      keys: expect.keys,
      algorithms: expect.algorithms,
      issuer: expect.issuer,
      audience: expect.clientId,
      now: expect.now,
      clockToleranceSeconds: expect.clockToleranceSeconds,
      typ: [undefined, 'jwt', 'application/jwt'],
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    },
    list,
  )
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
  if (payload.azp !== undefined && payload.azp !== expect.clientId) {
    list.fail('azp', `azp ${excerpt(JSON.stringify(payload.azp), 80)} is not the client id`)
  }
  if (audiences.length > 1 && payload.azp === undefined) {
    list.fail(
      'azp',
      'several audiences and no azp',
      'OIDC Core §3.1.3.7: an extra audience must be vouched for by azp',
    )
  }
  if (payload.azp !== undefined) list.pass('azp', 'equals the client id')
  if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) {
    list.fail('sub', 'sub must be a non-empty string of at most 255 characters')
  }
  list.pass('sub', `present (${excerpt(payload.sub, 80)})`)
  if (expect.nonce === null) {
    // OIDC Core §12.2: a refreshed ID token repeats the original nonce, if any: nothing to check.
  } else if (expect.nonce === undefined) {
    if (payload.nonce !== undefined)
      list.fail('nonce', 'the ID token carries a nonce although none was sent')
  } else if (payload.nonce !== expect.nonce) {
    list.fail(
      'nonce',
      payload.nonce === undefined ? 'missing' : 'does not equal the nonce sent',
      'the ID token does not belong to this authorization request',
    )
  } else {
    list.pass('nonce', 'equals the nonce sent')
  }
  if (payload.at_hash !== undefined) {
    const expected = accessTokenHash(expect.accessToken, header.alg ?? '')
    if (expected === undefined || payload.at_hash !== expected) {
      list.fail('at_hash', 'does not match the access token')
    }
    list.pass('at_hash', 'matches the access token')
  }
  const tolerance = expect.clockToleranceSeconds
  const nowSeconds = Math.floor(expect.now.getTime() / 1000)
  if (expect.maxAgeSeconds !== undefined) {
    if (typeof payload.auth_time !== 'number')
      list.fail('auth_time', 'missing although max_age was sent')
    if (payload.auth_time + expect.maxAgeSeconds < nowSeconds - tolerance) {
      list.fail('auth_time', `the authentication is older than max_age ${expect.maxAgeSeconds}s`)
    }
    list.pass('auth_time', `within max_age ${expect.maxAgeSeconds}s`)
  }
  const startedSeconds = Math.floor(expect.flowStartedAt.getTime() / 1000)
  if (typeof payload.iat === 'number' && payload.iat < startedSeconds - tolerance) {
    // security.md D-5: an old iat never fails, it warns.
    warnings.push({
      code: 'id_token_iat_old',
      message: `the ID token was issued ${startedSeconds - payload.iat}s before this run started`,
    })
  }
  return { header, payload, warnings }
}
