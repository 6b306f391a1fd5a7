import type { Dispatcher } from 'undici'
import type { IO } from './io/io.js'
import type { Redactor } from './io/redact.js'

/** Starts the user's browser on a URL (the `open` package, or `--browser <command>`). */
export type OpenBrowser = (url: URL, command?: readonly string[]) => Promise<void>

/** Everything a command touches outside itself, built once in `main()`; tests fake it. */
export interface Ctx {
  io: IO
  /** undici dispatcher for every request; tests pass a MockAgent or an Agent trusting a test CA. */
  dispatcher: Dispatcher | undefined
  openBrowser: OpenBrowser
  now: () => Date
  random: (bytes: number) => Uint8Array
  env: Readonly<Record<string, string | undefined>>
  platform: NodeJS.Platform
  /** This process, and whether another is still running: for the owners of lock files (FS-3). */
  processes: { pid: number; isAlive(pid: number): boolean }
  /** The effective user id, `undefined` where there is none (Windows): Chromium's sandbox needs a non-root user (FS-5). */
  uid: number | undefined
  signal: AbortSignal
  secrets: Redactor
  reporter: Reporter
  version: string
}

/**
 * The conversation on stderr while a command runs. Commands report through it; `src/io/` decides
 * how it looks (a spinner on a TTY, plain lines otherwise).
 */
export interface Reporter {
  step(text: string): void
  warn(code: string, message: string): void
  /** Something the user must see and may need to copy, like the authorization URL. */
  notice(label: string, value: string): void
  /** A long wait; the returned function ends it. */
  wait(text: string): () => void
}
