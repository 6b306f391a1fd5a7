import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  cacheKey,
  deleteEntry,
  entryFromTokens,
  entryName,
  expiresAt,
  isFresh,
  listEntries,
  loadEntry,
  openStore,
  saveEntry,
  storeDirectory,
  withLock,
} from '../../src/commands/token-store.js'
import type { CacheKeyFields, StoreEntry, TokenStore } from '../../src/commands/token-store.js'
import { rejection } from '../helpers/cli-error.js'
import { testCtx } from '../helpers/test-ctx.js'
import type { TestCtx } from '../helpers/test-ctx.js'

// testCtx's clock.
const NOW = new Date('2026-11-24T12:00:00Z')

/** The real check `pkce` gets from src/io/system.ts. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const ACME: CacheKeyFields = {
  issuer: 'https://acme.eu.auth0.com/',
  clientId: 'k3Yc0ntr0l',
  audience: 'https://api.acme.test',
  resources: ['https://b.acme.test', 'https://a.acme.test'],
  scope: 'openid profile offline_access',
  organization: 'org_alice',
  dpop: false,
  params: [
    ['login_hint', 'alice@example.com'],
    ['acr_values', 'mfa'],
  ],
}

const TOKENS = {
  access_token: 'access-token-value-0001',
  token_type: 'Bearer',
  expires_in: 3600,
  refresh_token: 'refresh-token-value-0001',
  id_token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln',
  scope: 'openid profile offline_access',
}

let root: string
let ctx: TestCtx

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pkce-store-'))
  ctx = testCtx({ env: { PKCE_CACHE_DIR: join(root, 'tokens') } })
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

function mode(path: string): Promise<number> {
  return stat(path).then((stats) => stats.mode & 0o777)
}

function entry(fields: CacheKeyFields = ACME): StoreEntry {
  return entryFromTokens(cacheKey(fields), TOKENS, NOW, {
    id_token_claims: { sub: 'alice', iss: 'https://acme.eu.auth0.com/' },
  })
}

describe('token store location', () => {
  it('PKCE_CACHE_DIR, else $XDG_CACHE_HOME/pkce/tokens, else ~/.cache/pkce/tokens', () => {
    const all = { PKCE_CACHE_DIR: '/own/store', XDG_CACHE_HOME: '/xdg/cache' }
    expect(storeDirectory(all, '/home/ada')).toBe('/own/store')
    expect(storeDirectory({ ...all, PKCE_CACHE_DIR: '' }, '/home/ada')).toBe(
      '/xdg/cache/pkce/tokens',
    )
    expect(storeDirectory({ XDG_CACHE_HOME: '' }, '/home/ada')).toBe('/home/ada/.cache/pkce/tokens')
    // The XDG Base Directory specification: a relative path is invalid and ignored.
    expect(storeDirectory({ XDG_CACHE_HOME: 'cache' }, '/home/ada')).toBe(
      '/home/ada/.cache/pkce/tokens',
    )
    expect(storeDirectory({}, '/home/ada')).toBe('/home/ada/.cache/pkce/tokens')
  })

  it('SO-6: a relative PKCE_CACHE_DIR is refused (it would put tokens in the working directory)', async () => {
    const error = await rejection(
      Promise.resolve().then(() => storeDirectory({ PKCE_CACHE_DIR: 'tokens' }, '/home/ada')),
    )
    expect([error.code, error.exitCode, error.message, error.hint]).toEqual([
      'usage_error',
      2,
      'PKCE_CACHE_DIR must be an absolute path, not tokens',
      'the token store belongs in a private directory, never the working directory',
    ])
  })

  it('FS-3: the directory is created 0700 with its parents, and nothing is written in it', async () => {
    const dir = join(root, 'a', 'b', 'tokens')
    const store = await openStore(testCtx({ env: { PKCE_CACHE_DIR: dir } }))
    expect(store.dir).toBe(dir)
    expect([
      await mode(dir),
      await mode(join(root, 'a', 'b')),
      await mode(join(root, 'a')),
    ]).toEqual([0o700, 0o700, 0o700])
    expect(await readdir(dir)).toEqual([])

    const xdg = await openStore(testCtx({ env: { XDG_CACHE_HOME: join(root, 'xdg') } }))
    expect(xdg.dir).toBe(join(root, 'xdg', 'pkce', 'tokens'))
    expect(await mode(xdg.dir)).toBe(0o700)

    const home = await openStore(testCtx(), { home: join(root, 'home') })
    expect(home.dir).toBe(join(root, 'home', '.cache', 'pkce', 'tokens'))
    expect(await mode(home.dir)).toBe(0o700)
  })

  it('FS-3: a 0755 store directory is refused with the chmod that fixes it', async () => {
    const dir = join(root, 'tokens')
    await mkdir(dir, { mode: 0o755 })
    await chmod(dir, 0o755)
    const error = await rejection(openStore(ctx))
    expect([error.code, error.exitCode, error.message, error.hint]).toEqual([
      'usage_error',
      2,
      `the token store ${dir} can be read or written by other users (mode 0755)`,
      `chmod 700 ${dir}`,
    ])
    // Writable by the group is as bad as readable.
    await chmod(dir, 0o720)
    expect((await rejection(openStore(ctx))).message).toBe(
      `the token store ${dir} can be read or written by other users (mode 0720)`,
    )
    await chmod(dir, 0o700)
    expect((await openStore(ctx)).dir).toBe(dir)
  })

  it('FS-3: the chmod hint quotes a path with spaces', async () => {
    const dir = join(root, 'my tokens')
    await mkdir(dir, { mode: 0o700 })
    await chmod(dir, 0o750)
    const error = await rejection(openStore(testCtx({ env: { PKCE_CACHE_DIR: dir } })))
    expect(error.hint).toBe(`chmod 700 '${dir}'`)
  })

  it('a file where the store directory should be is refused', async () => {
    await writeFile(join(root, 'tokens'), 'not a directory')
    const error = await rejection(openStore(ctx))
    expect([error.code, error.message]).toEqual([
      'usage_error',
      `cannot create the token store ${join(root, 'tokens')} (EEXIST)`,
    ])
  })

  it('modes are not checked on Windows, where they mean nothing', async () => {
    const dir = join(root, 'tokens')
    await mkdir(dir, { mode: 0o755 })
    await chmod(dir, 0o755)
    expect((await openStore({ ...ctx, platform: 'win32' })).dir).toBe(dir)
  })
})

describe('cache key (FS-3)', () => {
  it('is canonical: sorted, deduplicated, absent values null', () => {
    expect(cacheKey(ACME)).toEqual({
      issuer: 'https://acme.eu.auth0.com/',
      client_id: 'k3Yc0ntr0l',
      audience: 'https://api.acme.test',
      resources: ['https://a.acme.test', 'https://b.acme.test'],
      scope: ['offline_access', 'openid', 'profile'],
      organization: 'org_alice',
      dpop: false,
      params: [
        ['acr_values', 'mfa'],
        ['login_hint', 'alice@example.com'],
      ],
    })
    expect(cacheKey({ issuer: 'https://as.test', clientId: 'c', dpop: true })).toEqual({
      issuer: 'https://as.test',
      client_id: 'c',
      audience: null,
      resources: [],
      scope: [],
      organization: null,
      dpop: true,
      params: [],
    })
  })

  it('scope order and repeats, resource order and parameter order give the same entry', () => {
    const name = entryName(cacheKey(ACME))
    const same: CacheKeyFields[] = [
      { ...ACME, scope: 'offline_access  openid profile openid' },
      { ...ACME, scope: ' profile offline_access openid ' },
      { ...ACME, resources: ['https://a.acme.test', 'https://b.acme.test', 'https://a.acme.test'] },
      { ...ACME, params: new URLSearchParams('acr_values=mfa&login_hint=alice%40example.com') },
    ]
    expect(same.map((fields) => entryName(cacheKey(fields)))).toEqual(same.map(() => name))
  })

  it('a different audience, organization, DPoP flag, client, issuer, scope, resource or parameter gives another entry', () => {
    const different: CacheKeyFields[] = [
      { ...ACME, audience: 'https://other-api.acme.test' },
      { ...ACME, audience: undefined },
      { ...ACME, organization: 'org_bob' },
      { ...ACME, organization: undefined },
      { ...ACME, dpop: true },
      { ...ACME, clientId: 'another-client' },
      { ...ACME, issuer: 'https://acme.eu.auth0.com' },
      { ...ACME, scope: 'openid profile' },
      { ...ACME, resources: ['https://a.acme.test'] },
      {
        ...ACME,
        params: [
          ['login_hint', 'bob@example.com'],
          ['acr_values', 'mfa'],
        ],
      },
      { ...ACME, params: [['login_hint', 'alice@example.com']] },
    ]
    const names = [ACME, ...different].map((fields) => entryName(cacheKey(fields)))
    expect(new Set(names).size).toBe(names.length)
  })

  it('the entry name is the SHA-256 of the canonical JSON: hex only, no issuer or user text', () => {
    const canonical =
      '{"issuer":"https://acme.eu.auth0.com/","client_id":"k3Yc0ntr0l",' +
      '"audience":"https://api.acme.test","resources":["https://a.acme.test","https://b.acme.test"],' +
      '"scope":["offline_access","openid","profile"],"organization":"org_alice","dpop":false,' +
      '"params":[["acr_values","mfa"],["login_hint","alice@example.com"]]}'
    const name = entryName(cacheKey(ACME))
    expect(name).toBe(`${createHash('sha256').update(canonical).digest('hex')}.json`)
    expect(name).toMatch(/^[0-9a-f]{64}\.json$/)
    for (const text of ['acme', 'alice', 'org_', 'auth0', 'k3Yc']) expect(name).not.toContain(text)
  })
})

describe('entries', () => {
  it('entryFromTokens: expires_at is saved_at plus expires_in; absent members stay absent', () => {
    const key = cacheKey(ACME)
    expect(entry()).toEqual({
      version: 1,
      key,
      saved_at: '2026-11-24T12:00:00.000Z',
      expires_at: '2026-11-24T13:00:00.000Z',
      token_type: 'Bearer',
      access_token: 'access-token-value-0001',
      refresh_token: 'refresh-token-value-0001',
      id_token: TOKENS.id_token,
      id_token_claims: { sub: 'alice', iss: 'https://acme.eu.auth0.com/' },
      scope: 'openid profile offline_access',
    })
    const bare = entryFromTokens(key, { access_token: 'a', token_type: 'DPoP' }, NOW, {
      dpop: { alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private-d-0001' } },
    })
    expect(bare).toEqual({
      version: 1,
      key,
      saved_at: '2026-11-24T12:00:00.000Z',
      expires_at: null,
      token_type: 'DPoP',
      access_token: 'a',
      dpop: { alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private-d-0001' } },
    })
    expect(expiresAt(NOW, 0)).toBe('2026-11-24T12:00:00.000Z')
  })

  it('isFresh: valid for at least minValidSeconds more; an unknown lifetime is never fresh', () => {
    const saved = entry()
    expect(isFresh(saved, new Date('2026-11-24T12:59:00.000Z'), 60)).toBe(true)
    expect(isFresh(saved, new Date('2026-11-24T12:59:00.001Z'), 60)).toBe(false)
    expect(isFresh(saved, new Date('2026-11-24T14:00:00Z'), 0)).toBe(false)
    expect(isFresh({ ...saved, expires_at: null }, NOW, 0)).toBe(false)
  })

  it('save then load: the same entry, in a 0600 file named by the key, no temporary file left', async () => {
    const store = await openStore(ctx)
    const saved = entry()
    const path = await saveEntry(store, saved)
    expect(path).toBe(join(store.dir, entryName(saved.key)))
    expect(await mode(path)).toBe(0o600)
    expect(await readdir(store.dir)).toEqual([entryName(saved.key)])
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(saved)
    expect(await loadEntry(store, cacheKey(ACME))).toEqual(saved)
    expect(ctx.stderr()).toBe('')
  })

  it('saving again replaces the entry (atomically, by rename) and fixes a loose mode', async () => {
    const store = await openStore(ctx)
    const path = await saveEntry(store, entry())
    await chmod(path, 0o644)
    const newer = { ...entry(), access_token: 'access-token-value-0002' }
    await saveEntry(store, newer)
    expect(await mode(path)).toBe(0o600)
    expect(await loadEntry(store, cacheKey(ACME))).toEqual(newer)
    expect(await readdir(store.dir)).toEqual([entryName(newer.key)])
  })

  it('the key is stored canonical even when the caller built it by hand', async () => {
    const store = await openStore(ctx)
    const saved = entry()
    const handMade = {
      ...saved,
      key: { ...saved.key, scope: ['profile', 'openid', 'offline_access'] },
    }
    await saveEntry(store, handMade)
    expect(await loadEntry(store, cacheKey(ACME))).toEqual(saved)
  })

  it('absent entry: undefined, no warning', async () => {
    const store = await openStore(ctx)
    expect(await loadEntry(store, cacheKey(ACME))).toBeUndefined()
    expect(ctx.stderr()).toBe('')
  })

  it('SO-3: loading registers the refresh token and the DPoP private key as secrets', async () => {
    const store = await openStore(ctx)
    const dpop = {
      alg: 'ES256',
      jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private-d-0001' },
    }
    await saveEntry(store, entryFromTokens(cacheKey(ACME), TOKENS, NOW, { dpop }))
    expect(ctx.secrets.redact('refresh-token-value-0001 private-d-0001')).toBe(
      'refresh-token-value-0001 private-d-0001',
    )
    await loadEntry(store, cacheKey(ACME))
    expect(ctx.secrets.redact('refresh-token-value-0001 private-d-0001')).toBe(
      '[redacted 24 chars] [redacted 14 chars]',
    )
  })

  it('FS-3: a 0644 entry is refused with the chmod that fixes it', async () => {
    const store = await openStore(ctx)
    const path = await saveEntry(store, entry())
    await chmod(path, 0o644)
    const error = await rejection(loadEntry(store, cacheKey(ACME)))
    expect([error.code, error.exitCode, error.message, error.hint]).toEqual([
      'usage_error',
      2,
      `the token store entry ${path} can be read or written by other users (mode 0644)`,
      `chmod 600 ${path}`,
    ])
    expect((await rejection(listEntries(store))).hint).toBe(`chmod 600 ${path}`)
  })

  describe('FS-3: a corrupt entry is reported and treated as absent, never a crash', () => {
    const cases: [string, (valid: string) => string, string][] = [
      ['not JSON', () => 'hello', 'it is not JSON (truncated?)'],
      ['truncated', (valid) => valid.slice(0, valid.length / 2), 'it is not JSON (truncated?)'],
      ['empty', () => '', 'it is empty'],
      ['not an object', () => '[1, 2]', 'it is not a JSON object'],
      [
        'another version',
        (valid) => valid.replace('"version": 1', '"version": 2'),
        'its version is 2, not 1',
      ],
      [
        'no version',
        (valid) => valid.replace('"version": 1,', ''),
        'its version is missing, not 1',
      ],
      [
        'no access token',
        (valid) => valid.replace('"access_token"', '"accessToken"'),
        '"access_token" is missing',
      ],
      [
        'a bad key',
        (valid) => valid.replace('"dpop": false', '"dpop": "no"'),
        '"key" is not a cache key',
      ],
      [
        'a bad expiry',
        (valid) => valid.replace('"2026-11-24T13:00:00.000Z"', '"soon"'),
        '"expires_at" is neither a date nor null',
      ],
      [
        'a refresh token that is not a string',
        (valid) => valid.replace('"refresh-token-value-0001"', '42'),
        '"refresh_token" is not a string',
      ],
      [
        'claims that are not an object',
        (valid) => valid.replace(/"id_token_claims": \{[^}]*\}/, '"id_token_claims": "x"'),
        '"id_token_claims" is not an object',
      ],
      [
        'another key',
        (valid) => valid.replace('"org_alice"', '"org_bob"'),
        'it holds the tokens of another cache key',
      ],
    ]
    it.each(cases)('%s', async (_, corrupt, why) => {
      const store = await openStore(ctx)
      const path = await saveEntry(store, entry())
      await writeFile(path, corrupt(await readFile(path, 'utf8')), { mode: 0o600 })
      expect(await loadEntry(store, cacheKey(ACME))).toBeUndefined()
      expect(ctx.stderr()).toBe(
        `warning: ignoring the token store entry ${path}: ${why} (token_store_corrupt)\n`,
      )
      expect(ctx.events).toEqual(['warn token_store_corrupt'])
      expect(await listEntries(store)).toEqual([])
      // A new save replaces the corrupt file.
      await saveEntry(store, entry())
      expect(await loadEntry(store, cacheKey(ACME))).toEqual(entry())
    })
  })

  it('FS-1: a symbolic link at the entry path is refused on save and on load; its target is untouched', async () => {
    const store = await openStore(ctx)
    const target = join(root, 'victim.txt')
    await writeFile(target, 'precious\n', { mode: 0o600 })
    const path = join(store.dir, entryName(cacheKey(ACME)))
    await symlink(target, path)

    const saving = await rejection(saveEntry(store, entry()))
    expect([saving.code, saving.message, saving.hint]).toEqual([
      'usage_error',
      `${path} in the token store is a symbolic link; pkce never follows or replaces one`,
      `remove it: rm ${path}`,
    ])
    const loading = await rejection(loadEntry(store, cacheKey(ACME)))
    expect([loading.code, loading.message]).toEqual([saving.code, saving.message])
    expect(await readFile(target, 'utf8')).toBe('precious\n')
    expect(await readdir(store.dir)).toEqual([entryName(cacheKey(ACME))])
  })

  it('a directory at the entry path is refused', async () => {
    const store = await openStore(ctx)
    const path = join(store.dir, entryName(cacheKey(ACME)))
    await mkdir(path)
    expect((await rejection(saveEntry(store, entry()))).message).toBe(
      `${path} in the token store is not a regular file; pkce never follows or replaces one`,
    )
    expect((await rejection(loadEntry(store, cacheKey(ACME)))).message).toBe(
      `${path} in the token store is not a regular file; pkce never follows or replaces one`,
    )
  })

  it('list: key fields and expiry, sorted by key, never a token; locks and temporary files skipped', async () => {
    const store = await openStore(ctx)
    const bob = { ...ACME, organization: 'org_bob', dpop: true }
    await saveEntry(store, entry(bob))
    await saveEntry(
      store,
      entryFromTokens(
        cacheKey(ACME),
        { access_token: 'access-token-value-0003', token_type: 'Bearer' },
        NOW,
      ),
    )
    await writeFile(join(store.dir, `${entryName(cacheKey(ACME))}.lock`), '{}', { mode: 0o600 })
    await writeFile(join(store.dir, '.0123456789abcdef.tmp'), 'partial', { mode: 0o600 })
    const listing = await listEntries(store)
    expect(listing).toEqual([
      {
        file: entryName(cacheKey(ACME)),
        key: cacheKey(ACME),
        saved_at: '2026-11-24T12:00:00.000Z',
        expires_at: null,
        refreshable: false,
      },
      {
        file: entryName(cacheKey(bob)),
        key: cacheKey(bob),
        saved_at: '2026-11-24T12:00:00.000Z',
        expires_at: '2026-11-24T13:00:00.000Z',
        refreshable: true,
      },
    ])
    const text = JSON.stringify(listing)
    for (const secret of ['access-token-value', 'refresh-token-value', TOKENS.id_token])
      expect(text).not.toContain(secret)
    expect(ctx.stderr()).toBe('')
  })

  it('delete: removes the entry (true), then there is nothing to remove (false)', async () => {
    const store = await openStore(ctx)
    await saveEntry(store, entry())
    const other = { ...ACME, audience: 'https://other-api.acme.test' }
    await saveEntry(store, entry(other))
    expect(await deleteEntry(store, cacheKey(ACME))).toBe(true)
    expect(await loadEntry(store, cacheKey(ACME))).toBeUndefined()
    expect(await deleteEntry(store, cacheKey(ACME))).toBe(false)
    expect(await readdir(store.dir)).toEqual([entryName(cacheKey(other))])
  })
})

describe('withLock: one refresh per entry at a time (FS-3)', () => {
  it('holds <entry>.lock while fn runs, then removes it', async () => {
    const store = await openStore(ctx)
    const lock = join(store.dir, `${entryName(cacheKey(ACME))}.lock`)
    const seen = await withLock(
      store,
      cacheKey(ACME),
      async () => [await mode(lock), JSON.parse(await readFile(lock, 'utf8')) as unknown],
      { isAlive, pid: 4242 },
    )
    expect(seen).toEqual([0o600, { pid: 4242, started_at: NOW.toISOString(), host: hostname() }])
    expect(existsSync(lock)).toBe(false)
  })

  it('two calls in one process serialise; the second re-reads the entry the first saved', async () => {
    const store = await openStore(ctx)
    const key = cacheKey(ACME)
    const refresh = () =>
      withLock(
        store,
        key,
        async () => {
          const current = await loadEntry(store, key)
          if (current !== undefined && isFresh(current, NOW, 60)) return 'store'
          await new Promise((done) => setTimeout(done, 50))
          await saveEntry(store, entry())
          return 'refresh'
        },
        { isAlive, pid: process.pid, pollMs: 5 },
      )
    expect(await Promise.all([refresh(), refresh()])).toEqual(['refresh', 'store'])
    const lock = join(store.dir, `${entryName(key)}.lock`)
    expect(ctx.events).toEqual([
      `wait Waiting for another pkce run (pid ${process.pid}) to finish with ${lock}`,
    ])
  })

  it('a lock left by a run that has ended is taken over', async () => {
    const store = await openStore(ctx)
    const lock = join(store.dir, `${entryName(cacheKey(ACME))}.lock`)
    const dead = spawnSync(process.execPath, ['-e', '0']).pid
    await writeFile(
      lock,
      JSON.stringify({ pid: dead, started_at: NOW.toISOString(), host: hostname() }),
      { mode: 0o600 },
    )
    expect(
      await withLock(store, cacheKey(ACME), () => Promise.resolve('ran'), {
        isAlive,
        pid: process.pid,
      }),
    ).toBe('ran')
    expect(existsSync(lock)).toBe(false)
    expect(ctx.events).toEqual([])
  })

  it('a lock older than the refresh timeout is taken over', async () => {
    const store = await openStore(ctx)
    const lock = join(store.dir, `${entryName(cacheKey(ACME))}.lock`)
    await writeFile(
      lock,
      JSON.stringify({
        pid: process.pid,
        started_at: '2026-11-24T11:58:00.000Z',
        host: hostname(),
      }),
      { mode: 0o600 },
    )
    expect(
      await withLock(store, cacheKey(ACME), () => Promise.resolve('ran'), {
        isAlive,
        pid: process.pid,
        staleMs: 60_000,
      }),
    ).toBe('ran')
  })

  it('a live, fresh lock makes the waiter time out with `timeout`', async () => {
    const store = await openStore(ctx)
    const lock = join(store.dir, `${entryName(cacheKey(ACME))}.lock`)
    await writeFile(
      lock,
      JSON.stringify({ pid: process.pid, started_at: NOW.toISOString(), host: hostname() }),
      { mode: 0o600 },
    )
    const error = await rejection(
      withLock(store, cacheKey(ACME), () => Promise.resolve('ran'), {
        isAlive,
        pid: process.pid,
        timeoutMs: 150,
      }),
    )
    expect([error.code, error.exitCode, error.message]).toEqual([
      'timeout',
      5,
      `timed out after 0.15s waiting for the lock ${lock}, held by pid ${process.pid} since ${NOW.toISOString()}`,
    ])
    expect(existsSync(lock)).toBe(true)
  })
})

describe('eight parallel processes refresh once', () => {
  const WORKER = fileURLToPath(new URL('../helpers/token-store-worker.mjs', import.meta.url))
  let bundle: string
  let bundleDir: string

  // Node 20 cannot load TypeScript, and dist/ is one bundle whose chunks are named by hash: the
  // children get this module (and what it imports) bundled on its own.
  beforeAll(async () => {
    bundleDir = await mkdtemp(join(tmpdir(), 'pkce-store-bundle-'))
    bundle = join(bundleDir, 'token-store.mjs')
    await build({
      entryPoints: [fileURLToPath(new URL('../../src/commands/token-store.ts', import.meta.url))],
      outfile: bundle,
      bundle: true,
      format: 'esm',
      platform: 'node',
      logLevel: 'silent',
    })
  })

  afterAll(async () => {
    await rm(bundleDir, { recursive: true, force: true })
  })

  interface WorkerRun {
    code: number | null
    stdout: string
    stderr: string
  }

  function worker(storeDir: string, workDir: string, startAt: number): Promise<WorkerRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [WORKER, bundle, storeDir, workDir, String(startAt)])
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    })
  }

  async function race(store: TokenStore, workDir: string): Promise<WorkerRun[]> {
    await writeFile(join(workDir, 'counter'), '0\n')
    // A common start, well after the children have loaded, so they reach the lock together.
    const startAt = Date.now() + 2_000
    return Promise.all(Array.from({ length: 8 }, () => worker(store.dir, workDir, startAt)))
  }

  function expectOneRefresh(runs: WorkerRun[]): void {
    expect(runs.map((run) => [run.code, run.stderr])).toEqual(runs.map(() => [0, '']))
    const results = runs.map((run) => JSON.parse(run.stdout) as { source: string; warnings: [] })
    expect(results.map((result) => result.source).sort()).toEqual([
      'refresh',
      ...Array<string>(7).fill('store'),
    ])
    expect(results.flatMap((result) => result.warnings)).toEqual([])
  }

  const WORKER_KEY = cacheKey({
    issuer: 'https://tenant.test/',
    clientId: 'client-1',
    scope: 'openid offline_access',
    dpop: false,
  })

  it('an expired entry: exactly one refresh, the others read what it saved', async () => {
    const store = await openStore(ctx)
    await saveEntry(
      store,
      entryFromTokens(
        WORKER_KEY,
        { access_token: 'old', token_type: 'Bearer', expires_in: 0 },
        new Date(),
      ),
    )
    const work = await mkdtemp(join(root, 'work-'))
    expectOneRefresh(await race(store, work))
    expect(await readFile(join(work, 'counter'), 'utf8')).toBe('1\n')
    expect(await readdir(store.dir)).toEqual([entryName(WORKER_KEY)])
    expect((await loadEntry(store, WORKER_KEY))?.access_token).toMatch(/^access-\d+$/)
  }, 30_000)

  it('a lock left by a crashed run: taken over once, still exactly one refresh', async () => {
    const store = await openStore(ctx)
    const lock = join(store.dir, `${entryName(WORKER_KEY)}.lock`)
    const dead = spawnSync(process.execPath, ['-e', '0']).pid
    await writeFile(
      lock,
      JSON.stringify({ pid: dead, started_at: new Date().toISOString(), host: hostname() }),
      { mode: 0o600 },
    )
    const work = await mkdtemp(join(root, 'work-'))
    expectOneRefresh(await race(store, work))
    expect(await readFile(join(work, 'counter'), 'utf8')).toBe('1\n')
    expect(await readdir(store.dir)).toEqual([entryName(WORKER_KEY)])
  }, 30_000)
})
