import { spawnSync } from 'node:child_process'
import { readdir, readFile, rename, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { acquireFileLock, shellQuote, withFileLock } from '../../src/commands/file-lock.js'
import type { FileLockOptions, LockOwner } from '../../src/commands/file-lock.js'
import { rejection } from '../helpers/cli-error.js'
import { withTempFiles } from '../helpers/temp-files.js'

/** The real check `pkce` gets from src/io/system.ts: signal 0 probes, EPERM means it exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '0']).pid
  expect(isAlive(pid)).toBe(false)
  return pid
}

const NOW = new Date('2026-11-24T12:00:00Z')
const HOST = hostname()

function options(extra: Partial<FileLockOptions> = {}): FileLockOptions {
  return { isAlive, pid: process.pid, now: () => NOW, timeoutMs: 5_000, pollMs: 5, ...extra }
}

function lockText(owner: LockOwner): string {
  return `${JSON.stringify(owner)}\n`
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}

describe('withFileLock (docs/security.md FS-3)', () => {
  const temp = withTempFiles('pkce-lock-')

  it('holds an exclusive 0600 file with the pid, start time and host, removed afterwards', async () => {
    const path = temp.path('held.lock')
    const seen = await withFileLock(
      path,
      async () => [await readFile(path, 'utf8'), (await stat(path)).mode & 0o777],
      options(),
    )
    expect(seen).toEqual([
      lockText({ pid: process.pid, started_at: NOW.toISOString(), host: HOST }),
      0o600,
    ])
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('is released when fn throws, and the error is the one fn threw', async () => {
    const path = temp.path('throws.lock')
    await expect(
      withFileLock(path, () => Promise.reject(new Error('refresh failed')), options()),
    ).rejects.toThrow('refresh failed')
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('serialises two holders in one process; the second reports its wait once, with the owner', async () => {
    const path = temp.path('serial.lock')
    const events: string[] = []
    const gate = deferred()
    const first = withFileLock(
      path,
      async () => {
        events.push('first in')
        await gate.promise
        events.push('first out')
      },
      options(),
    )
    const second = withFileLock(
      path,
      () => {
        events.push('second in')
        return Promise.resolve()
      },
      options({
        onWait: (owner) => {
          events.push(`waiting for ${owner?.pid}`)
          return () => events.push('wait over')
        },
      }),
    )
    await new Promise((done) => setTimeout(done, 100))
    expect(events).toEqual(['first in', `waiting for ${process.pid}`])
    gate.resolve()
    await Promise.all([first, second])
    expect(events).toEqual([
      'first in',
      `waiting for ${process.pid}`,
      'first out',
      'wait over',
      'second in',
    ])
  })

  it('takes over a lock whose owner has ended (a crashed run)', async () => {
    const path = await temp.file(
      'dead.lock',
      lockText({ pid: deadPid(), started_at: NOW.toISOString(), host: HOST }),
    )
    let waited = false
    const result = await withFileLock(
      path,
      async () => readFile(path, 'utf8'),
      options({ onWait: () => ((waited = true), () => undefined) }),
    )
    expect(result).toBe(lockText({ pid: process.pid, started_at: NOW.toISOString(), host: HOST }))
    expect(waited).toBe(false)
    expect((await readdir(temp.path(''))).filter((name) => name.startsWith('dead'))).toEqual([])
  })

  it('takes over a lock older than staleMs even though its owner still runs', async () => {
    const path = await temp.file(
      'old.lock',
      lockText({ pid: process.pid, started_at: '2026-11-24T11:59:29.999Z', host: HOST }),
    )
    expect(
      await withFileLock(path, () => Promise.resolve('ran'), options({ staleMs: 30_000 })),
    ).toBe('ran')
  })

  it('waits for a lock of exactly staleMs, and for a dead pid on another host', async () => {
    const atLimit = await temp.file(
      'limit.lock',
      lockText({ pid: process.pid, started_at: '2026-11-24T11:59:30.000Z', host: HOST }),
    )
    expect(
      (
        await rejection(
          withFileLock(
            atLimit,
            () => Promise.resolve(),
            options({ staleMs: 30_000, timeoutMs: 100 }),
          ),
        )
      ).code,
    ).toBe('timeout')
    // Another machine's pid says nothing about this one's processes: only the age counts.
    const remote = await temp.file(
      'remote.lock',
      lockText({ pid: deadPid(), started_at: NOW.toISOString(), host: `not-${HOST}` }),
    )
    expect(
      (await rejection(withFileLock(remote, () => Promise.resolve(), options({ timeoutMs: 100 }))))
        .code,
    ).toBe('timeout')
  })

  it('a live, fresh lock makes the waiter time out with `timeout`, naming the file and its owner', async () => {
    const path = await temp.file(
      'live.lock',
      lockText({ pid: process.pid, started_at: '2026-11-24T11:59:50.000Z', host: HOST }),
    )
    let ran = false
    const error = await rejection(
      withFileLock(path, () => Promise.resolve((ran = true)), options({ timeoutMs: 200 })),
    )
    expect(ran).toBe(false)
    expect([error.code, error.exitCode, error.message, error.hint]).toEqual([
      'timeout',
      5,
      `timed out after 0.2s waiting for the lock ${path}, held by pid ${process.pid} since 2026-11-24T11:59:50.000Z`,
      `another pkce run holds it; if none is running, remove the file: rm ${path}`,
    ])
    expect(await readFile(path, 'utf8')).toBe(
      lockText({ pid: process.pid, started_at: '2026-11-24T11:59:50.000Z', host: HOST }),
    )
  })

  it('an unreadable lock (being written, or half-written by a crash) is judged by its age', async () => {
    const path = await temp.file('blank.lock', '')
    const fresh = await rejection(
      withFileLock(
        path,
        () => Promise.resolve(),
        options({ now: () => new Date(), timeoutMs: 100 }),
      ),
    )
    expect(fresh.message).toBe(`timed out after 0.1s waiting for the lock ${path}`)
    const past = new Date(Date.now() - 60_000)
    await utimes(path, past, past)
    expect(
      await withFileLock(path, () => Promise.resolve('ran'), options({ now: () => new Date() })),
    ).toBe('ran')
  })

  it('two takers of one stale lock never both hold it', async () => {
    // Many rounds with staggered starts, so that some taker looks at the stale lock just before
    // another removes it and creates its own: without the guard, the first would then remove
    // the second's fresh lock, and both would hold it.
    const path = temp.path('race.lock')
    let inside = 0
    let most = 0
    let runs = 0
    const dead = lockText({ pid: deadPid(), started_at: NOW.toISOString(), host: HOST })
    for (let round = 0; round < 40; round++) {
      await writeFile(path, dead)
      await Promise.all(
        Array.from({ length: 8 }, async (_, taker) => {
          await new Promise((done) => setTimeout(done, (taker * 7 + round) % 3))
          await withFileLock(
            path,
            async () => {
              most = Math.max(most, ++inside)
              await new Promise((done) => setTimeout(done, 2))
              inside--
              runs++
            },
            options({ timeoutMs: 10_000, pollMs: 1 }),
          )
        }),
      )
    }
    expect([runs, most]).toEqual([320, 1])
    expect((await readdir(temp.path(''))).filter((name) => name.startsWith('race'))).toEqual([])
  })

  it('release leaves alone a lock that another run took over', async () => {
    const path = temp.path('taken.lock')
    const lock = await acquireFileLock(path, options())
    const other = lockText({ pid: process.pid, started_at: NOW.toISOString(), host: 'other' })
    // What a taker does to a stale lock: remove it, then create its own.
    await writeFile(`${path}.tmp`, other)
    await rename(`${path}.tmp`, path)
    await lock.release()
    expect(await readFile(path, 'utf8')).toBe(other)
  })

  it('FS-1: a symbolic link at the lock path, dangling or not, is refused and never followed', async () => {
    const target = await temp.file('lock-target.txt', 'precious\n')
    for (const [name, to] of [
      ['dangling.lock', temp.path('nowhere')],
      ['linked.lock', target],
    ] as const) {
      const path = temp.path(name)
      await symlink(to, path)
      const error = await rejection(withFileLock(path, () => Promise.resolve(), options()))
      expect([error.code, error.message, error.hint]).toEqual([
        'usage_error',
        `the lock file ${path} is a symbolic link; pkce never follows or replaces one`,
        `remove it: rm ${path}`,
      ])
    }
    expect(await readFile(target, 'utf8')).toBe('precious\n')
  })

  it('aborting the signal ends the wait with `interrupted`', async () => {
    const path = await temp.file(
      'abort.lock',
      lockText({ pid: process.pid, started_at: NOW.toISOString(), host: HOST }),
    )
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('interrupted')), 50)
    const error = await rejection(
      withFileLock(path, () => Promise.resolve(), options({ signal: controller.signal })),
    )
    expect([error.code, error.message]).toEqual([
      'interrupted',
      `interrupted while waiting for the lock ${path}`,
    ])
  })
})

describe('shellQuote', () => {
  it('leaves plain paths alone and single-quotes the rest', () => {
    expect(shellQuote('/home/ada/.cache/pkce/tokens')).toBe('/home/ada/.cache/pkce/tokens')
    expect(shellQuote('/Users/Ada Lovelace/cache')).toBe(`'/Users/Ada Lovelace/cache'`)
    expect(shellQuote(`/tmp/it's $(here)`)).toBe(`'/tmp/it'\\''s $(here)'`)
  })
})
