import { createPublicKey } from 'node:crypto'
import type { JSONWebKeySet } from 'jose'
import { CliError } from '../errors.js'
import { PRIVATE_MEMBERS } from '../jwt/algorithms.js'
import type { Http } from './http.js'
import { describeBody, isPlainObject, readJsonObject, rejectRedirect } from './response.js'

// The public key material of RSA (RFC 7518 §6.3.1), EC (§6.2.1) and OKP (RFC 8037 §2) keys.
const KEY_MEMBERS = ['n', 'e', 'x', 'y'] as const
const BASE64URL = /^[A-Za-z0-9_-]+$/u

/**
 * GETs the JWKS from `jwks_uri` only: never from a token's `jku`, `x5u` or `jwk`.
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export function jwksRequest(jwksUri: string, http: Http): Promise<Response> {
  return http({ method: 'GET', url: new URL(jwksUri), stage: 'validate' })
}

/**
 * Whether a JWK is a usable public key: an object with a `kty`, no private members, and members
 * that make a key (an EC point on its curve, an RSA modulus and exponent, an OKP key of its size).
 */
function usableKey(key: unknown): key is Record<string, unknown> {
  if (!isPlainObject(key) || typeof key.kty !== 'string') return false
  if (PRIVATE_MEMBERS.some((member) => member in key)) return false
  // Node's base64url decoder skips characters it does not know; a member must be strictly base64url.
  const members = KEY_MEMBERS.map((name) => key[name]).filter((value) => value !== undefined)
  if (!members.every((value) => typeof value === 'string' && BASE64URL.test(value))) return false
  try {
    createPublicKey({ key: key as never, format: 'jwk' })
    return true
  } catch {
    return false
  }
}

/**
 * A JSON object with a `keys` array. Keys that are not objects, carry private members, have an
 * unknown type or malformed members are dropped rather than failing the whole set
 * (docs/security.md MD-3): one bad key must not make the good ones unusable.
 */
export async function processJwksResponse(response: Response): Promise<JSONWebKeySet> {
  rejectRedirect(response, 'validate', 'JWKS endpoint')
  if (response.status !== 200) {
    throw new CliError(
      'jwks_invalid',
      `the JWKS request failed (${describeBody(response, await response.text())})`,
      {
        stage: 'validate',
        status: response.status,
      },
    )
  }
  const body = await readJsonObject(response, {
    stage: 'validate',
    what: 'JWKS',
    code: 'jwks_invalid',
  })
  if (!Array.isArray(body.keys)) {
    throw new CliError('jwks_invalid', 'the JWKS has no "keys" array', { stage: 'validate' })
  }
  const keys = body.keys.filter(usableKey)
  return { keys }
}
