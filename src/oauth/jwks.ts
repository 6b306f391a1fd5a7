import type { JSONWebKeySet } from 'jose'
import { CliError } from '../errors.js'
import type { Http } from './http.js'
import { describeBody, isPlainObject, readJsonObject, rejectRedirect } from './response.js'

// security.md MD-3, JWK parameters that only a private key has.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const

/**
 * GETs the JWKS from `jwks_uri` only: never from a token's `jku`, `x5u` or `jwk`.
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export function jwksRequest(jwksUri: string, http: Http): Promise<Response> {
  return http({ method: 'GET', url: new URL(jwksUri), stage: 'validate' })
}

/**
 * A JSON object with a `keys` array. Keys that are not objects or that carry private members are
 * dropped rather than failing the whole set (security.md MD-3); jose skips unknown key types.
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
  const keys = body.keys.filter(
    (key): key is Record<string, unknown> =>
      isPlainObject(key) &&
      typeof key.kty === 'string' &&
      PRIVATE_MEMBERS.every((member) => !(member in key)),
  )
  return { keys }
}
