import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import type { IO } from '../io/io.js'
import { sanitize } from '../sanitize.js'
import type { AuthorizationRequest, Target } from './authorize-step.js'
import type { DpopOptions } from './flow.js'
import type { LoginOptions } from './login.js'
import type { HttpSettings } from './http-settings.js'
import { NO_ASSERTIONS } from './assertions.js'
import { storeKeyFor } from './token-cache.js'
import type { CacheKey, StoreEntry, StoreListing, TokenStore } from './token-store.js'

function lockOptions(ctx: Ctx, http: HttpSettings) {
  return {
    isAlive: (pid: number) => ctx.processes.isAlive(pid),
    pid: ctx.processes.pid,
    signal: ctx.signal,
    // A whole refresh (discovery, JWKS, token) may take a few requests' time: longer than one.
    staleMs: http.timeoutMs * 4,
    timeoutMs: http.timeoutMs * 4,
  }
}

export interface TokenOptions {
  target: Target
  request: AuthorizationRequest
  dpop: DpopOptions | undefined
  http: HttpSettings
  clockToleranceSeconds: number
  /** A stored token must stay valid at least this long, else it is refreshed. */
  minValidSeconds: number
  forceRefresh: boolean
  /** `--login`: with nothing usable stored, sign in (a browser) and save; never otherwise. */
  login: LoginOptions | undefined
}

export interface TokenResult {
  access_token: string
  token_type: string
  expires_at: string | null
  source: 'store' | 'refresh' | 'login'
}

function fromEntry(entry: StoreEntry, source: TokenResult['source']): TokenResult {
  return {
    access_token: entry.access_token,
    token_type: entry.token_type,
    expires_at: entry.expires_at,
    source,
  }
}

/**
 * `pkce token`: a valid access token, from the store when it is valid for long enough, else
 * refreshed with the stored refresh token (once, however many runs ask at the same time: they
 * queue on the entry's lock). Never a browser.
 */
export async function runToken(opts: TokenOptions, ctx: Ctx): Promise<TokenResult> {
  const { cacheKey, isFresh, loadEntry, openStore, withLock } = await import('./token-store.js')
  const store = await openStore(ctx)
  const key = cacheKey(storeKeyFor(opts.target, opts.request, opts.dpop !== undefined))
  const usable = (entry: StoreEntry): boolean =>
    !opts.forceRefresh && isFresh(entry, ctx.now(), opts.minValidSeconds)
  const stored = await loadEntry(store, key)
  if (stored !== undefined && usable(stored)) return fromEntry(stored, 'store')
  if (stored?.refresh_token === undefined && opts.login !== undefined) {
    const { runLogin } = await import('./login.js')
    const { tokens } = await runLogin({ ...opts.login, save: true }, ctx)
    return {
      access_token: tokens.access_token,
      token_type: tokens.token_type,
      expires_at:
        tokens.expires_in === null
          ? null
          : new Date(ctx.now().getTime() + tokens.expires_in * 1000).toISOString(),
      source: 'login',
    }
  }
  if (stored?.refresh_token === undefined) {
    throw new CliError(
      'token_unavailable',
      stored === undefined
        ? 'no stored token for this issuer, client and request'
        : 'the stored token is too close to expiry and there is no refresh token to renew it',
      {
        hint: 'run pkce login --save with the same flags (offline_access in --scope renews it without a browser), or pkce token --login',
      },
    )
  }
  return withLock(
    store,
    key,
    async () => {
      // Another run may have refreshed while this one waited for the lock.
      const current = await loadEntry(store, key)
      if (current !== undefined && usable(current)) return fromEntry(current, 'store')
      return fromEntry(await refreshStored(store, key, current ?? stored, opts, ctx), 'refresh')
    },
    lockOptions(ctx, opts.http),
  )
}

async function refreshStored(
  store: TokenStore,
  key: CacheKey,
  entry: StoreEntry,
  opts: TokenOptions,
  ctx: Ctx,
): Promise<StoreEntry> {
  const { runRefresh } = await import('./refresh.js')
  const { entryFromTokens, saveEntry } = await import('./token-store.js')
  const refreshed = await runRefresh(
    {
      target: opts.target,
      refreshToken: entry.refresh_token ?? '',
      scope: undefined,
      audience: opts.request.audience,
      dpop:
        entry.dpop === undefined
          ? undefined
          : { alg: entry.dpop.alg, key: entry.dpop.jwk, allowDowngrade: false },
      http: opts.http,
      clockToleranceSeconds: opts.clockToleranceSeconds,
      assertions: NO_ASSERTIONS,
      storeKey: undefined,
    },
    ctx,
  )
  const { tokens } = refreshed
  const next = entryFromTokens(
    key,
    {
      access_token: tokens.access_token,
      token_type: tokens.token_type,
      ...(tokens.expires_in === null ? {} : { expires_in: tokens.expires_in }),
      // Rotation replaces the refresh token; without it the one used stays valid (RFC 6749 §6).
      refresh_token: tokens.refresh_token ?? entry.refresh_token ?? '',
      ...(tokens.id_token === null ? {} : { id_token: tokens.id_token }),
      ...(tokens.scope === null ? {} : { scope: tokens.scope }),
    },
    ctx.now(),
    {
      ...(refreshed.id_token === null
        ? entry.id_token_claims === undefined
          ? {}
          : { id_token_claims: entry.id_token_claims }
        : { id_token_claims: { ...refreshed.id_token.payload } }),
      ...(entry.dpop === undefined ? {} : { dpop: entry.dpop }),
    },
  )
  await saveEntry(store, next)
  return next
}

/** `pkce token --list`: the stored entries, never a token. */
export async function runTokenList(ctx: Ctx): Promise<StoreListing[]> {
  const { listEntries, openStore } = await import('./token-store.js')
  return listEntries(await openStore(ctx))
}

export function renderTokenList(entries: StoreListing[], io: IO, now: Date): void {
  if (entries.length === 0) {
    io.out('No stored tokens (pkce login --save stores them).\n')
    return
  }
  for (const entry of entries) {
    const { key } = entry
    const expiry =
      entry.expires_at === null
        ? 'no expiry given'
        : new Date(entry.expires_at) <= now
          ? `expired ${entry.expires_at}`
          : `valid until ${entry.expires_at}`
    const line = `${key.issuer}  client ${key.client_id}${key.audience === null ? '' : `  audience ${key.audience}`}  scope "${key.scope.join(' ')}"${key.dpop ? '  DPoP' : ''}`
    io.out(`${sanitize(line)}\n  ${expiry}${entry.refreshable ? ', refreshable' : ''}\n`)
  }
}

export interface LogoutOptions {
  /** The target and client: the entry to remove, and how to authenticate the revocation. */
  target: Target | undefined
  request: AuthorizationRequest | undefined
  dpop: boolean
  /** Every entry in the store, instead of the one the flags name. */
  all: boolean
  /** Revoke each entry's refresh token first, where the server has a revocation endpoint. */
  revoke: boolean
  http: HttpSettings
}

export interface LogoutResult {
  removed: number
  revoked: number
  warnings: { code: string; message: string }[]
}

/**
 * `pkce logout`: removes stored entries, revoking their refresh tokens first (RFC 7009) unless
 * told not to. A failed revocation is a warning: the entry goes all the same.
 */
export async function runLogout(opts: LogoutOptions, ctx: Ctx): Promise<LogoutResult> {
  const { cacheKey, deleteEntry, listEntries, loadEntry, openStore } =
    await import('./token-store.js')
  const { isCliError } = await import('../errors.js')
  const { Flow } = await import('./flow.js')
  const { revokeToken } = await import('./revoke.js')
  const store = await openStore(ctx)
  const keys = opts.all
    ? (await listEntries(store)).map((listing) => listing.key)
    : opts.target === undefined || opts.request === undefined
      ? []
      : [cacheKey(storeKeyFor(opts.target, opts.request, opts.dpop))]
  const result: LogoutResult = { removed: 0, revoked: 0, warnings: [] }
  for (const key of keys) {
    const entry = await loadEntry(store, key)
    if (entry === undefined) continue
    if (opts.revoke && entry.refresh_token !== undefined) {
      // The flags' client authentication for their own client; a public client's otherwise.
      const auth =
        opts.target?.client.client_id === key.client_id && opts.target.issuer === key.issuer
          ? opts.target.client.auth
          : { method: 'none' as const }
      const flow = new Flow(opts.http, ctx)
      try {
        await revokeToken(
          {
            target: { issuer: key.issuer, client: { client_id: key.client_id, auth } },
            token: entry.refresh_token,
            tokenTypeHint: 'refresh_token',
            http: opts.http,
          },
          flow,
          ctx,
        )
        result.revoked += 1
      } catch (error) {
        if (!isCliError(error)) throw error
        const warning = {
          code: 'revocation_failed',
          message: `the refresh token for ${key.issuer} (client ${key.client_id}) was not revoked: ${error.message}`,
        }
        result.warnings.push(warning)
        ctx.reporter.warn(warning.code, warning.message)
      }
    }
    if (await deleteEntry(store, key)) result.removed += 1
  }
  ctx.reporter.step(
    `Removed ${result.removed} stored ${result.removed === 1 ? 'entry' : 'entries'}`,
  )
  return result
}
