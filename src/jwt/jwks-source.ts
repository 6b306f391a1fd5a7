import type { JSONWebKeySet } from 'jose'
import { CliError } from '../errors.js'
import type { AuthorizationServer } from '../oauth/discovery.js'
import type { Http } from '../oauth/http.js'
import { jwksRequest, processJwksResponse } from '../oauth/jwks.js'
import type { JwksSource } from './verify.js'

/**
 * A JWKS source over a loader: one load, and at most one reload in the whole run, however many
 * tokens ask (security.md HC-5, MD-4: an unknown `kid` gets one refetch, never a loop).
 */
export function cachedJwks(load: () => Promise<JSONWebKeySet>): JwksSource {
  let cached: Promise<JSONWebKeySet> | undefined
  let refetched = false
  return async (refresh) => {
    if (refresh && !refetched) {
      refetched = true
      cached = load()
    }
    cached ??= load()
    return cached
  }
}

/**
 * Fetches the issuer's JWKS from its metadata's `jwks_uri`, the only place keys come from
 * (security.md MD-3); `onFetch` hears the URL just before the request.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata
 */
export async function fetchIssuerJwks(
  as: AuthorizationServer,
  http: Http,
  onFetch?: (jwksUri: string) => void,
): Promise<JSONWebKeySet> {
  if (as.jwks_uri === undefined) {
    throw new CliError(
      'metadata_invalid',
      'the metadata has no jwks_uri, so tokens cannot be verified',
      { stage: 'validate' },
    )
  }
  onFetch?.(as.jwks_uri)
  return processJwksResponse(await jwksRequest(as.jwks_uri, http))
}

/**
 * The issuer's keys as a source: fetched on first use, refetched at most once (security.md HC-5).
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 */
export function issuerKeys(
  as: AuthorizationServer,
  http: Http,
  onFetch?: (jwksUri: string) => void,
): JwksSource {
  return cachedJwks(() => fetchIssuerJwks(as, http, onFetch))
}
