// One of the parallel runs in test/commands/token-store.test.ts: the body `pkce token` runs under
// the entry's lock, with the refresh replaced by "count it and save a fresh entry". Node 20 cannot
// load TypeScript, so the test bundles src/commands/token-store.ts to JavaScript first and passes
// its path.
//
//   node token-store-worker.mjs <bundled module> <store dir> <work dir> <start at, epoch ms>
//
// Prints one JSON line: { source: "store" | "refresh", warnings }. The work dir holds `counter`
// (the number of refreshes) and, while a run is inside the lock, `inside`: created with `wx`, so a
// second run inside at the same time fails.
import { open, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'

const [modulePath, storeDir, workDir, startAt] = process.argv.slice(2)
const { cacheKey, entryFromTokens, isFresh, loadEntry, openStore, saveEntry, withLock } =
  await import(pathToFileURL(modulePath).href)

const warnings = []
const ctx = {
  env: { PKCE_CACHE_DIR: storeDir },
  reporter: {
    step: () => undefined,
    warn: (code, message) => warnings.push(`${code}: ${message}`),
    notice: () => undefined,
    wait: () => () => undefined,
  },
  secrets: { add: () => undefined, redact: (text) => text, enabled: true },
  now: () => new Date(),
  platform: process.platform,
}

function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return error.code === 'EPERM'
  }
}

const store = await openStore(ctx)
const key = cacheKey({
  issuer: 'https://tenant.test/',
  clientId: 'client-1',
  scope: 'openid offline_access',
  dpop: false,
})
await sleep(Math.max(0, Number(startAt) - Date.now()))

const source = await withLock(
  store,
  key,
  async () => {
    const inside = join(workDir, 'inside')
    await (await open(inside, 'wx')).close()
    try {
      const entry = await loadEntry(store, key)
      if (entry !== undefined && isFresh(entry, new Date(), 60)) return 'store'
      const count = Number(await readFile(join(workDir, 'counter'), 'utf8'))
      // A refresh takes a while; parallel runs pile up on the lock meanwhile.
      await sleep(100)
      await writeFile(join(workDir, 'counter'), `${count + 1}\n`)
      const tokens = {
        access_token: `access-${process.pid}`,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: 'refresh-1',
      }
      await saveEntry(store, entryFromTokens(key, tokens, new Date()))
      return 'refresh'
    } finally {
      await unlink(inside)
    }
  },
  { pid: process.pid, isAlive, timeoutMs: 20_000, pollMs: 10 },
)
process.stdout.write(`${JSON.stringify({ source, warnings })}\n`)
