import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import type { TokenResponse } from '../oauth/token.js'
import type { AuthorizationRequest, Target } from './authorize-step.js'
import type { ValidatedTokens } from './exchange-step.js'
import type { DpopOptions } from './flow.js'
import type { CacheKey, StoreEntry } from './token-store.js'

// The token store as the commands use it: which entry a run's flags name, saving what a login,
// exchange or refresh obtained, and loading what refresh and userinfo take from the store.

/** What makes two stored tokens different: the target and the request (issue 13's cache key). */
export function storeKeyFor(target: Target, request: AuthorizationRequest, dpop: boolean) {
  return {
    issuer: target.issuer,
    clientId: target.client.client_id,
    ...(request.audience === undefined ? {} : { audience: request.audience }),
    resources: request.resources,
    scope: request.scope,
    ...(request.organization === undefined ? {} : { organization: request.organization }),
    dpop,
    params: request.params,
  }
}

/**
 * Keeps what a login, exchange or refresh obtained (`--save`): one 0600 entry per cache key, with
 * the DPoP private key when the tokens are bound to one (docs/security.md SO-6, FS-3).
 */
export async function saveTokens(
  key: CacheKey,
  validated: ValidatedTokens,
  dpopJwk: StoreEntry['dpop'] | undefined,
  ctx: Ctx,
): Promise<string> {
  const { openStore, entryFromTokens, saveEntry } = await import('./token-store.js')
  const store = await openStore(ctx)
  const { tokens } = validated
  const response: TokenResponse = {
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    ...(tokens.expires_in === null ? {} : { expires_in: tokens.expires_in }),
    ...(tokens.refresh_token === null ? {} : { refresh_token: tokens.refresh_token }),
    ...(tokens.id_token === null ? {} : { id_token: tokens.id_token }),
    ...(tokens.scope === null ? {} : { scope: tokens.scope }),
  }
  const entry = entryFromTokens(key, response, ctx.now(), {
    ...(validated.id_token === null ? {} : { id_token_claims: { ...validated.id_token.payload } }),
    ...(dpopJwk === undefined ? {} : { dpop: dpopJwk }),
  })
  const path = await saveEntry(store, entry)
  ctx.reporter.step(`Saved the tokens in the token store (${path})`)
  return path
}

/**
 * The stored entry the login flags name (`refresh` and `userinfo` without a token file): absent
 * is `token_unavailable`, with the command that stores one.
 */
export async function loadStoredEntry(
  target: Target,
  request: AuthorizationRequest,
  dpop: boolean,
  ctx: Ctx,
): Promise<{ key: CacheKey; entry: StoreEntry }> {
  const { cacheKey, loadEntry, openStore } = await import('./token-store.js')
  const key = cacheKey(storeKeyFor(target, request, dpop))
  const entry = await loadEntry(await openStore(ctx), key)
  if (entry === undefined) {
    throw new CliError('token_unavailable', 'no stored token for this issuer, client and request', {
      hint: 'run pkce login --save with the same flags, or pass the token in a file',
    })
  }
  return { key, entry }
}

/** A run's given DPoP key as the store keeps it (`exchange`, `refresh`: the key came from a file). */
export function storedDpopKey(dpop: DpopOptions | undefined): StoreEntry['dpop'] | undefined {
  if (dpop?.key === undefined || dpop.alg === undefined) return undefined
  return { alg: dpop.alg, jwk: dpop.key }
}
