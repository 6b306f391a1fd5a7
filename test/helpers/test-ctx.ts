import { Chalk } from 'chalk'
import type { Dispatcher } from 'undici'
import type { Ctx, Reporter } from '../../src/context.js'
import type { IO } from '../../src/io/io.js'
import { createRedactor } from '../../src/io/redact.js'
import { createReporter } from '../../src/io/reporter.js'

export interface TestCtx extends Ctx {
  stdout: () => string
  stderr: () => string
  opened: URL[]
  events: string[]
}

export interface TestCtxOptions {
  now?: Date
  env?: Record<string, string | undefined>
  stdin?: string
  stdinIsTTY?: boolean
  tty?: boolean
  dispatcher?: Dispatcher
  signal?: AbortSignal
  openBrowser?: Ctx['openBrowser']
}

/**
 * A fake context: buffered stdout/stderr, a fixed clock, deterministic "random" bytes (a counter,
 * so values are stable across runs), a browser stub that records URLs, no colour unless `tty`.
 */
export function testCtx(options: TestCtxOptions = {}): TestCtx {
  let out = ''
  let err = ''
  const level = options.tty === true ? 1 : 0
  const io: IO = {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    readStdin: () => Promise.resolve(options.stdin ?? ''),
    readLine: (prompt) => {
      err += prompt
      return Promise.resolve((options.stdin ?? '').split('\n')[0] ?? '')
    },
    stdoutIsTTY: options.tty === true,
    stderrIsTTY: options.tty === true,
    stdinIsTTY: options.stdinIsTTY ?? false,
    color: { out: new Chalk({ level }), err: new Chalk({ level }) },
  }
  let counter = 0
  const opened: URL[] = []
  const events: string[] = []
  const secrets = createRedactor()
  const base = createReporter(io, secrets)
  const reporter: Reporter = {
    step: (text) => {
      events.push(`step ${text}`)
      base.step(text)
    },
    warn: (code, message) => {
      events.push(`warn ${code}`)
      base.warn(code, message)
    },
    notice: (label, value) => {
      events.push(`notice ${label}`)
      base.notice(label, value)
    },
    wait: (text) => {
      events.push(`wait ${text}`)
      return base.wait(text)
    },
  }
  return {
    io,
    dispatcher: options.dispatcher,
    openBrowser:
      options.openBrowser ??
      ((url) => {
        opened.push(url)
        return Promise.resolve()
      }),
    now: () => options.now ?? new Date('2026-11-24T12:00:00Z'),
    random: (bytes) => Uint8Array.from({ length: bytes }, () => counter++ % 256),
    env: options.env ?? {},
    platform: 'linux',
    processes: { pid: 4242, isAlive: () => false },
    uid: 1000,
    signal: options.signal ?? new AbortController().signal,
    secrets,
    reporter,
    version: '0.0.0-test',
    stdout: () => out,
    stderr: () => err,
    opened,
    events,
  }
}
