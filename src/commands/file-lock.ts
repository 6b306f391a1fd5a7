import { lstat, open, readFile, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { CliError } from '../errors.js'
import { isPlainObject } from '../oauth/response.js'

/** What a lock file holds: who took it, on which machine, and when. */
export interface LockOwner {
  pid: number
  /** ISO 8601, from the taker's clock. */
  started_at: string
  host: string
}

export interface FileLockOptions {
  /**
   * Whether a process with this pid is running on this machine. The caller provides it, since
   * only `src/io/system.ts` may touch `process` (`process.kill(pid, 0)`, with `EPERM` meaning
   * alive).
   */
  isAlive: (pid: number) => boolean
  /** This process's pid, written into the lock. */
  pid: number
  /** The clock for the lock's start time and for judging a lock's age; the real one in use. */
  now: () => Date
  /** This machine's name, written into the lock; `os.hostname()` by default. */
  host?: string | undefined
  /** How long to wait for the lock before failing with `timeout`; 30 s by default. */
  timeoutMs?: number | undefined
  /**
   * A lock older than this is taken over even when its owner still runs; 30 s by default. It must
   * be longer than the work done under the lock can take (for a refresh, its HTTP deadline).
   */
  staleMs?: number | undefined
  /** The pause between two looks at a held lock; 50 ms by default. */
  pollMs?: number | undefined
  /** Aborting it ends the wait with `interrupted`. */
  signal?: AbortSignal | undefined
  /**
   * Called once, when the lock is held by another run and the wait begins, with that run's
   * record (undefined while it is still being written); the returned function ends the wait.
   */
  onWait?: ((owner: LockOwner | undefined) => () => void) | undefined
}

export interface HeldLock {
  readonly path: string
  readonly owner: LockOwner
  /**
   * Removes the lock, unless another run has taken it over meanwhile (it was stale). Never
   * throws: a lock it could not remove is taken over by the next run once this one has ended or
   * the lock is stale.
   */
  release(): Promise<void>
}

const DEFAULTS = { timeoutMs: 30_000, staleMs: 30_000, pollMs: 50 }
// The guard is held for a few file operations only; one this old was left by a crashed run.
const GUARD_STALE_MS = 10_000

interface Settings {
  isAlive: (pid: number) => boolean
  now: () => Date
  owner: LockOwner
  timeoutMs: number
  staleMs: number
  pollMs: number
  signal: AbortSignal | undefined
}

/**
 * Runs `fn` while holding an exclusive lock file at `path` (docs/security.md FS-3), and removes
 * the lock afterwards, in `finally`. Another run holding the lock is waited for, polling every
 * `pollMs` up to `timeoutMs` (then `timeout`, naming the file). A lock whose owner is no longer
 * running on this machine, or older than `staleMs`, is taken over.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions,
): Promise<T> {
  const lock = await acquireFileLock(path, options)
  try {
    return await fn()
  } finally {
    await lock.release()
  }
}

/**
 * Takes the lock at `path`: created with `wx` (exclusive), mode 0600, holding the owner's pid,
 * host and start time. See `withFileLock`, which also releases it.
 */
export async function acquireFileLock(path: string, options: FileLockOptions): Promise<HeldLock> {
  const settings = settingsOf(options)
  const deadline = deadlineOf(settings)
  let endWait: (() => void) | undefined
  try {
    for (;;) {
      const ino = await tryCreate(path, settings.owner)
      if (ino !== undefined) {
        return {
          path,
          owner: settings.owner,
          release: () => release(path, ino, settings).catch(() => undefined),
        }
      }
      const seen = await inspect(path, settings, settings.staleMs)
      if (seen === 'gone') continue
      if (seen.stale) {
        await breakStaleLock(path, settings)
        continue
      }
      if (endWait === undefined) endWait = options.onWait?.(seen.owner) ?? (() => undefined)
      await pause(path, seen.owner, settings, deadline)
    }
  } finally {
    endWait?.()
  }
}

function settingsOf(options: FileLockOptions): Settings {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs
  return {
    isAlive: options.isAlive,
    now: options.now,
    owner: {
      pid: options.pid,
      started_at: options.now().toISOString(),
      host: options.host ?? hostname(),
    },
    timeoutMs,
    staleMs: options.staleMs ?? DEFAULTS.staleMs,
    pollMs: options.pollMs ?? DEFAULTS.pollMs,
    signal: options.signal,
  }
}

/** Creates the file exclusively with the owner's record; its inode, or undefined if it exists. */
async function tryCreate(path: string, owner: LockOwner): Promise<bigint | undefined> {
  let handle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return undefined
    throw new CliError('usage_error', `cannot create the lock file ${path} (${errorCode(error)})`, {
      cause: error,
    })
  }
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`)
    return (await handle.stat({ bigint: true })).ino
  } catch (error) {
    await unlink(path).catch(() => undefined)
    throw new CliError('usage_error', `cannot write the lock file ${path} (${errorCode(error)})`, {
      cause: error,
    })
  } finally {
    await handle.close()
  }
}

interface Inspection {
  owner: LockOwner | undefined
  stale: boolean
}

/**
 * Reads a lock and judges it. A lock whose record is unreadable (being written, or left half
 * written by a crash) is judged by the file's age instead.
 */
async function inspect(
  path: string,
  settings: Settings,
  staleMs: number,
): Promise<Inspection | 'gone'> {
  let text: string
  let modifiedMs: number
  try {
    const stats = await lstat(path)
    if (!stats.isFile()) {
      // A dangling symlink makes the exclusive create fail while reading finds nothing.
      throw new CliError(
        'usage_error',
        `the lock file ${path} is ${stats.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; pkce never follows or replaces one`,
        { hint: `remove it: rm ${shellQuote(path)}` },
      )
    }
    modifiedMs = stats.mtimeMs
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof CliError) throw error
    if (errorCode(error) === 'ENOENT') return 'gone'
    throw new CliError('usage_error', `cannot read the lock file ${path} (${errorCode(error)})`, {
      cause: error,
    })
  }
  const owner = parseOwner(text)
  const started = owner === undefined ? modifiedMs : Date.parse(owner.started_at)
  const old = settings.now().getTime() - started > staleMs
  const gone =
    owner !== undefined && owner.host === settings.owner.host && !settings.isAlive(owner.pid)
  return { owner, stale: old || gone }
}

function parseOwner(text: string): LockOwner | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (
    !isPlainObject(value) ||
    typeof value.pid !== 'number' ||
    !Number.isSafeInteger(value.pid) ||
    value.pid <= 0 ||
    typeof value.started_at !== 'string' ||
    Number.isNaN(Date.parse(value.started_at)) ||
    typeof value.host !== 'string'
  ) {
    return undefined
  }
  return { pid: value.pid, started_at: value.started_at, host: value.host }
}

/**
 * Removes a stale lock so the next exclusive create can take it. Removing is done only under a
 * guard file (`<lock>.break`, itself taken with `wx`), after looking at the lock again: without
 * it, two runs that both saw the stale lock could each remove it, the second removing the fresh
 * lock the first had just created, and both would hold it.
 */
async function breakStaleLock(path: string, settings: Settings): Promise<void> {
  await underGuard(path, settings, async () => {
    const seen = await inspect(path, settings, settings.staleMs)
    if (seen !== 'gone' && seen.stale) await unlink(path).catch(ignoreMissing)
  })
}

async function release(path: string, ino: bigint, settings: Settings): Promise<void> {
  // Under the guard too: a run breaking this lock (stale by age) must not see it vanish and be
  // replaced between its look and its removal.
  await underGuard(path, settings, async () => {
    const current = await lstat(path, { bigint: true }).catch(ignoreMissing)
    if (current?.ino === ino) await unlink(path).catch(ignoreMissing)
  })
}

async function underGuard(path: string, settings: Settings, fn: () => Promise<void>) {
  const guard = `${path}.break`
  const deadline = deadlineOf(settings)
  for (;;) {
    const ino = await tryCreate(guard, settings.owner)
    if (ino !== undefined) break
    const seen = await inspect(guard, settings, GUARD_STALE_MS)
    if (seen === 'gone') continue
    if (seen.stale) {
      // Left by a run that crashed inside the guard, a few file operations long. Removed without
      // a guard of its own: two runs both doing this at that moment is the one race accepted.
      await unlink(guard).catch(ignoreMissing)
      continue
    }
    await pause(guard, seen.owner, settings, deadline)
  }
  try {
    await fn()
  } finally {
    await unlink(guard).catch(ignoreMissing)
  }
}

// Waits are measured on the monotonic clock: `now` may be fixed (tests) or jump.
function deadlineOf(settings: Settings): number {
  return performance.now() + settings.timeoutMs
}

async function pause(
  path: string,
  owner: LockOwner | undefined,
  settings: Settings,
  deadline: number,
): Promise<void> {
  if (performance.now() >= deadline) {
    const holder = owner === undefined ? '' : `, held by pid ${owner.pid} since ${owner.started_at}`
    throw new CliError(
      'timeout',
      `timed out after ${settings.timeoutMs / 1000}s waiting for the lock ${path}${holder}`,
      {
        hint: `another pkce run holds it; if none is running, remove the file: rm ${shellQuote(path)}`,
      },
    )
  }
  try {
    await sleep(settings.pollMs, undefined, { signal: settings.signal })
  } catch (error) {
    throw new CliError('interrupted', `interrupted while waiting for the lock ${path}`, {
      cause: error,
    })
  }
}

/** A path as one shell word, quoted only when it needs to be, for hints the user may paste. */
export function shellQuote(text: string): string {
  return /^[\w./:@%+,=-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : String(error)
}

function ignoreMissing(error: unknown): undefined {
  if (errorCode(error) === 'ENOENT') return undefined
  throw error
}
