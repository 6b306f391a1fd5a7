import { createHash, randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import type { JWK } from 'jose'
import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import { isPlainObject } from '../oauth/response.js'
import type { TokenResponse } from '../oauth/token.js'
import { shellQuote, withFileLock } from './file-lock.js'
import type { FileLockOptions } from './file-lock.js'

/**
 * What makes two tokens different, as a command knows it (docs/security.md FS-3). Two runs share
 * a store entry only when every field agrees, so switching tenant, client, API, scope,
 * organization, DPoP or an extra parameter (a `login_hint`, say) never serves the wrong token.
 */
export interface CacheKeyFields {
  /** The issuer identifier, compared as an exact string (MD-1): no trailing-slash folding. */
  issuer: string
  clientId: string
  /** `--audience` (Auth0's API identifier). */
  audience?: string | undefined
  /** RFC 8707 resource indicators; order and repeats do not matter. */
  resources?: readonly string[] | undefined
  /** The requested scope, space-separated; order and repeats do not matter. */
  scope?: string | undefined
  /** `--organization` (Auth0 Organizations). */
  organization?: string | undefined
  /** Whether the tokens are DPoP-bound. */
  dpop: boolean
  /** The extra authorization parameters (`--param name=value`); order does not matter. */
  params?: Iterable<readonly [string, string]> | undefined
}

/**
 * The canonical cache key: every list sorted (by UTF-16 code units, never by locale), scope
 * tokens and resources deduplicated, absent values `null`. Its JSON, in this member order, is
 * what `entryName` hashes, and it is stored in the entry.
 */
export interface CacheKey {
  issuer: string
  client_id: string
  audience: string | null
  resources: string[]
  scope: string[]
  organization: string | null
  dpop: boolean
  params: [string, string][]
}

/** A DPoP key kept with the tokens bound to it: a DPoP-bound refresh token needs the same key. */
export interface StoredDpopKey {
  alg: string
  /** The private JWK. */
  jwk: JWK
}

/** One stored token response (docs/security.md SO-6, FS-3). */
export interface StoreEntry {
  version: 1
  key: CacheKey
  /** ISO 8601. */
  saved_at: string
  /** ISO 8601, `saved_at` plus `expires_in`; null when the server gave no lifetime. */
  expires_at: string | null
  token_type: string
  access_token: string
  refresh_token?: string
  id_token?: string
  id_token_claims?: Record<string, unknown>
  scope?: string
  dpop?: StoredDpopKey
}

/** What `listEntries` shows of an entry: never a token. */
export interface StoreListing {
  /** The entry's file name in the store. */
  file: string
  key: CacheKey
  saved_at: string
  expires_at: string | null
  /** Whether the entry holds a refresh token. */
  refreshable: boolean
}

/** The store's directory and the parts of the context its functions use. */
export interface TokenStore {
  readonly dir: string
  readonly ctx: StoreContext
}

export type StoreContext = Pick<Ctx, 'env' | 'reporter' | 'secrets' | 'now' | 'platform'>

/**
 * Where the store lives: `$PKCE_CACHE_DIR`, else `$XDG_CACHE_HOME/pkce/tokens`, else
 * `<home>/.cache/pkce/tokens`. Empty variables are ignored, and so is a relative
 * `XDG_CACHE_HOME` (the XDG Base Directory specification says so); a relative `PKCE_CACHE_DIR` is
 * refused, since it would put tokens in whatever directory `pkce` runs in, a CI job's checkout
 * included (SO-6).
 */
export function storeDirectory(
  env: Readonly<Record<string, string | undefined>>,
  home: string = homedir(),
): string {
  const own = env.PKCE_CACHE_DIR
  if (own !== undefined && own !== '') {
    if (!isAbsolute(own)) {
      throw new CliError('usage_error', `PKCE_CACHE_DIR must be an absolute path, not ${own}`, {
        hint: 'the token store belongs in a private directory, never the working directory',
      })
    }
    return own
  }
  const xdg = env.XDG_CACHE_HOME
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'pkce', 'tokens')
  return join(home, '.cache', 'pkce', 'tokens')
}

/**
 * Opens the token store, creating its directory (and missing parents) with mode 0700. A store
 * directory that group or others can read or write is refused with the `chmod` that fixes it
 * (FS-3). Nothing is written until a caller saves an entry. Modes are not checked on Windows.
 */
export async function openStore(
  ctx: StoreContext,
  options: { home?: string } = {},
): Promise<TokenStore> {
  const dir = storeDirectory(ctx.env, options.home)
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw new CliError(
      'usage_error',
      `cannot create the token store ${dir} (${errorCode(error)})`,
      storeHint(),
    )
  }
  const stats = await stat(dir)
  if (!stats.isDirectory()) {
    throw new CliError('usage_error', `the token store ${dir} is not a directory`, storeHint())
  }
  if (ctx.platform !== 'win32' && (stats.mode & 0o066) !== 0) {
    throw new CliError(
      'usage_error',
      `the token store ${dir} can be read or written by other users (mode ${octal(stats.mode)})`,
      { hint: `chmod 700 ${shellQuote(dir)}` },
    )
  }
  return { dir, ctx }
}

function storeHint(): { hint: string } {
  return { hint: 'set PKCE_CACHE_DIR to a private directory of yours' }
}

/** The canonical cache key of a command's target (see `CacheKeyFields` for what goes in). */
export function cacheKey(fields: CacheKeyFields): CacheKey {
  return {
    issuer: fields.issuer,
    client_id: fields.clientId,
    audience: fields.audience ?? null,
    resources: sortedSet(fields.resources ?? []),
    scope: sortedSet((fields.scope ?? '').split(' ').filter((token) => token !== '')),
    organization: fields.organization ?? null,
    dpop: fields.dpop,
    params: [...(fields.params ?? [])]
      .map(([name, value]): [string, string] => [name, value])
      .sort(([a, x], [b, y]) => compare(a, b) || compare(x, y)),
  }
}

function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compare)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The key as JSON, members in a fixed order and lists re-sorted: equal keys, equal text. */
function canonicalJson(key: CacheKey): string {
  return JSON.stringify(cacheKey(keyFields(key)))
}

/**
 * The entry's file name: the SHA-256 (hex) of the key's canonical JSON, plus `.json`. Issuer,
 * tenant and user names never appear in file names (FS-3).
 */
export function entryName(key: CacheKey): string {
  return `${createHash('sha256').update(canonicalJson(key)).digest('hex')}.json`
}

const ENTRY_NAME = /^[0-9a-f]{64}\.json$/
// Entries are a few kilobytes; anything far larger is not one of ours.
const MAX_ENTRY_BYTES = 1024 * 1024

/** `saved_at` plus `expires_in` seconds, as ISO 8601; null without `expires_in`. */
export function expiresAt(savedAt: Date, expiresIn: number | undefined): string | null {
  return expiresIn === undefined
    ? null
    : new Date(savedAt.getTime() + expiresIn * 1000).toISOString()
}

/**
 * Builds the entry for a token response received now. Pass `dpop` only for DPoP-bound tokens,
 * with the private JWK they are bound to.
 */
export function entryFromTokens(
  key: CacheKey,
  tokens: TokenResponse,
  now: Date,
  extra: { id_token_claims?: Record<string, unknown>; dpop?: StoredDpopKey } = {},
): StoreEntry {
  const entry: StoreEntry = {
    version: 1,
    key,
    saved_at: now.toISOString(),
    expires_at: expiresAt(now, tokens.expires_in),
    token_type: tokens.token_type,
    access_token: tokens.access_token,
  }
  if (tokens.refresh_token !== undefined) entry.refresh_token = tokens.refresh_token
  if (tokens.id_token !== undefined) entry.id_token = tokens.id_token
  if (extra.id_token_claims !== undefined) entry.id_token_claims = extra.id_token_claims
  if (tokens.scope !== undefined) entry.scope = tokens.scope
  if (extra.dpop !== undefined) entry.dpop = extra.dpop
  return entry
}

/**
 * Whether the entry's access token is valid for at least `minValidSeconds` more at `now`. An
 * entry without `expires_at` is never fresh: its lifetime is unknown.
 */
export function isFresh(entry: StoreEntry, now: Date, minValidSeconds: number): boolean {
  if (entry.expires_at === null) return false
  return Date.parse(entry.expires_at) - now.getTime() >= minValidSeconds * 1000
}

/**
 * Saves an entry atomically (FS-1): a temporary file in the store created with `wx` and mode
 * 0600, written, flushed to disk, then renamed over the entry, so a reader sees the old entry or
 * the new one, never half of one. A symbolic link at the entry's path is refused, never followed
 * (rename replaces the link itself in any case). Returns the entry's path.
 */
export async function saveEntry(store: TokenStore, entry: StoreEntry): Promise<string> {
  const key = cacheKey(keyFields(entry.key))
  const target = join(store.dir, entryName(key))
  const temporary = join(store.dir, `.${randomBytes(8).toString('hex')}.tmp`)
  try {
    await refuseLink(target)
    const handle = await open(temporary, 'wx', 0o600)
    try {
      await handle.writeFile(`${JSON.stringify({ ...entry, key }, null, 2)}\n`)
      await handle.sync()
    } finally {
      await handle.close()
    }
    // Looked at again just before the rename: the file was being written meanwhile.
    await refuseLink(target)
    await rename(temporary, target)
  } catch (error) {
    await unlink(temporary).catch(() => undefined)
    if (error instanceof CliError) throw error
    throw new CliError(
      'usage_error',
      `cannot write the token store entry ${target} (${errorCode(error)})`,
      storeHint(),
    )
  }
  await syncDirectory(store)
  return target
}

function keyFields(key: CacheKey): CacheKeyFields {
  return {
    issuer: key.issuer,
    clientId: key.client_id,
    audience: key.audience ?? undefined,
    resources: key.resources,
    scope: key.scope.join(' '),
    organization: key.organization ?? undefined,
    dpop: key.dpop,
    params: key.params,
  }
}

async function refuseLink(path: string): Promise<void> {
  const stats = await lstat(path).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  })
  if (stats === undefined || stats.isFile()) return
  throw new CliError(
    'usage_error',
    `${path} in the token store is ${stats.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; pkce never follows or replaces one`,
    { hint: `remove it: rm ${shellQuote(path)}` },
  )
}

// The rename is durable only once the directory is flushed too; not possible on Windows.
async function syncDirectory(store: TokenStore): Promise<void> {
  if (store.ctx.platform === 'win32') return
  const handle = await open(store.dir, 'r').catch(() => undefined)
  if (handle === undefined) return
  await handle
    .sync()
    .catch(() => undefined)
    .finally(() => handle.close())
}

/**
 * Loads the entry for `key`: undefined when there is none. A file that is not a valid entry
 * (not JSON, truncated, another version, a wrong shape, or holding another key) is reported with
 * the warning `token_store_corrupt`, naming the file, and treated as absent, never a crash (FS-3).
 * An entry that group or others can read or write is refused with the `chmod` that fixes it, and
 * a symbolic link is refused, not followed. The refresh token and the DPoP private key join the
 * secrets that stderr redacts (SO-3).
 */
export async function loadEntry(store: TokenStore, key: CacheKey): Promise<StoreEntry | undefined> {
  const name = entryName(key)
  const entry = await readEntry(store, name)
  if (entry === undefined) return undefined
  if (entryName(entry.key) !== name) {
    corrupt(store, name, 'it holds the tokens of another cache key')
    return undefined
  }
  store.ctx.secrets.add(entry.refresh_token)
  for (const member of PRIVATE_JWK_MEMBERS) {
    const value = entry.dpop?.jwk[member]
    if (typeof value === 'string') store.ctx.secrets.add(value)
  }
  return entry
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const

async function readEntry(store: TokenStore, name: string): Promise<StoreEntry | undefined> {
  const path = join(store.dir, name)
  let handle
  try {
    // O_NOFOLLOW: a symbolic link fails (ELOOP) instead of being read through.
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0))
  } catch (error) {
    const code = errorCode(error)
    if (code === 'ENOENT') return undefined
    if (code === 'ELOOP') await refuseLink(path)
    throw new CliError('usage_error', `cannot read the token store entry ${path} (${code})`, {
      cause: error,
    })
  }
  let text: string
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) await refuseLink(path)
    if (store.ctx.platform !== 'win32' && (stats.mode & 0o066) !== 0) {
      throw new CliError(
        'usage_error',
        `the token store entry ${path} can be read or written by other users (mode ${octal(stats.mode)})`,
        { hint: `chmod 600 ${shellQuote(path)}` },
      )
    }
    if (stats.size > MAX_ENTRY_BYTES) {
      corrupt(store, name, `it is ${stats.size} bytes long`)
      return undefined
    }
    text = await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    corrupt(store, name, text.trim() === '' ? 'it is empty' : 'it is not JSON (truncated?)')
    return undefined
  }
  const problem = entryProblem(value)
  if (problem !== undefined) {
    corrupt(store, name, problem)
    return undefined
  }
  return value as StoreEntry
}

function corrupt(store: TokenStore, name: string, why: string): void {
  store.ctx.reporter.warn(
    'token_store_corrupt',
    `ignoring the token store entry ${join(store.dir, name)}: ${why}`,
  )
}

/** What is wrong with a parsed entry, or undefined when it has the shape of `StoreEntry`. */
function entryProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'it is not a JSON object'
  if (value.version !== 1)
    return `its version is ${JSON.stringify(value.version) ?? 'missing'}, not 1`
  const keyProblem = cacheKeyProblem(value.key)
  if (keyProblem !== undefined) return keyProblem
  for (const field of ['saved_at', 'token_type', 'access_token'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') return `"${field}" is missing`
  }
  if (Number.isNaN(Date.parse(value.saved_at as string))) return '"saved_at" is not a date'
  if (
    value.expires_at !== null &&
    (typeof value.expires_at !== 'string' || Number.isNaN(Date.parse(value.expires_at)))
  ) {
    return '"expires_at" is neither a date nor null'
  }
  for (const field of ['refresh_token', 'id_token', 'scope'] as const) {
    if (value[field] !== undefined && typeof value[field] !== 'string')
      return `"${field}" is not a string`
  }
  if (value.id_token_claims !== undefined && !isPlainObject(value.id_token_claims))
    return '"id_token_claims" is not an object'
  if (
    value.dpop !== undefined &&
    (!isPlainObject(value.dpop) ||
      typeof value.dpop.alg !== 'string' ||
      !isPlainObject(value.dpop.jwk) ||
      typeof value.dpop.jwk.kty !== 'string')
  ) {
    return '"dpop" is not an algorithm and a JWK'
  }
  return undefined
}

function cacheKeyProblem(key: unknown): string | undefined {
  const strings = (list: unknown): list is string[] =>
    Array.isArray(list) && list.every((item) => typeof item === 'string')
  if (
    !isPlainObject(key) ||
    typeof key.issuer !== 'string' ||
    typeof key.client_id !== 'string' ||
    (key.audience !== null && typeof key.audience !== 'string') ||
    !strings(key.resources) ||
    !strings(key.scope) ||
    (key.organization !== null && typeof key.organization !== 'string') ||
    typeof key.dpop !== 'boolean' ||
    !Array.isArray(key.params) ||
    !key.params.every((pair) => strings(pair) && pair.length === 2)
  ) {
    return '"key" is not a cache key'
  }
  return undefined
}

/**
 * The store's entries, sorted by key: key fields, save time and expiry, and whether a refresh
 * token is kept; never a token. Corrupt entries are reported (`token_store_corrupt`) and left
 * out; files that are not entries (locks, temporary files) are skipped.
 */
export async function listEntries(store: TokenStore): Promise<StoreListing[]> {
  const names = (await readdir(store.dir)).filter((name) => ENTRY_NAME.test(name)).sort()
  const listings: StoreListing[] = []
  for (const name of names) {
    const entry = await readEntry(store, name)
    if (entry === undefined) continue
    if (entryName(entry.key) !== name) {
      corrupt(store, name, 'it holds the tokens of another cache key')
      continue
    }
    listings.push({
      file: name,
      key: cacheKey(keyFields(entry.key)),
      saved_at: entry.saved_at,
      expires_at: entry.expires_at,
      refreshable: entry.refresh_token !== undefined,
    })
  }
  return listings.sort((a, b) => compare(canonicalJson(a.key), canonicalJson(b.key)))
}

/** Deletes the entry for `key`; whether there was one. Its lock, if any, is left alone. */
export async function deleteEntry(store: TokenStore, key: CacheKey): Promise<boolean> {
  try {
    await unlink(join(store.dir, entryName(key)))
    return true
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false
    throw new CliError(
      'usage_error',
      `cannot delete the token store entry ${join(store.dir, entryName(key))} (${errorCode(error)})`,
    )
  }
}

export type StoreLockOptions = Omit<FileLockOptions, 'now'> & {
  /** The lock's clock; the store context's `now` by default. */
  now?: (() => Date) | undefined
}

/**
 * Runs `fn` while holding the entry's lock, `<entry>.lock` beside it, so parallel runs refresh
 * one entry once, not once each (FS-3). See `withFileLock` for the wait (`timeout` after
 * `timeoutMs`, naming the lock file) and for stale-lock recovery; the lock is released in
 * `finally`. While it waits, the reporter shows a wait line naming the other run, unless
 * `onWait` says otherwise.
 *
 * `fn` must load the entry itself, after the lock is taken: another run may have refreshed it
 * while this one waited. The usual body is: `loadEntry`; if it is fresh, use it; otherwise
 * refresh, `saveEntry`, and use that.
 */
export function withLock<T>(
  store: TokenStore,
  key: CacheKey,
  fn: () => Promise<T>,
  options: StoreLockOptions,
): Promise<T> {
  const path = `${join(store.dir, entryName(key))}.lock`
  return withFileLock(path, fn, {
    ...options,
    now: options.now ?? store.ctx.now,
    onWait:
      options.onWait ??
      ((owner) =>
        store.ctx.reporter.wait(
          `Waiting for another pkce run${owner === undefined ? '' : ` (pid ${owner.pid})`} to finish with ${path}`,
        )),
  })
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0')
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : String(error)
}
