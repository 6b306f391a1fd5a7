import type { JSONWebKeySet } from 'jose'
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
