import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The repository root, and the built bin every end-to-end test runs (`npm run build` first). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/pkce.js', import.meta.url))
const BUILT = fileURLToPath(new URL('../../dist/main.js', import.meta.url))

export interface CliRun {
  /** The exit code; `null` when a signal ended the process. */
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** The helper killed the process after `timeoutMs`. */
  timedOut: boolean
}

export interface StartCliOptions {
  /** Working directory of the child; the repository root by default. */
  cwd?: string
  /** Merged over this process's environment, which loses every `PKCE_*` variable first. */
  env?: Record<string, string | undefined>
  /** Node flags before the bin, e.g. `['--import', hook]`. */
  nodeArgs?: string[]
  /** Written to stdin, which is then closed. Without it stdin is closed at once. */
  stdin?: string
  /** Leave stdin open for the test to write to (`child.stdin`) while the CLI runs. */
  keepStdinOpen?: boolean
  /** SIGKILL after this long; 20 s by default. */
  timeoutMs?: number
}

export interface CliProcess {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves once the stream's text so far matches; rejects if the process ends first. */
  waitFor(
    stream: 'stdout' | 'stderr',
    pattern: RegExp,
    timeoutMs?: number,
  ): Promise<RegExpExecArray>
  done: Promise<CliRun>
}

function childEnv(overrides: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('PKCE_')) delete env[name]
  Object.assign(env, { NO_COLOR: '1', FORCE_COLOR: '0' }, overrides)
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  )
}

/** Spawns `node bin/pkce.js …args` and lets the test talk to it while it runs. */
export function startCli(args: string[], options: StartCliOptions = {}): CliProcess {
  if (!existsSync(BUILT)) throw new Error('dist/ is missing: run `npm run build` first')
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: childEnv(options.env ?? {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const text = { stdout: '', stderr: '' }
  const listeners = new Set<() => void>()
  const notify = (): void => {
    for (const listener of [...listeners]) listener()
  }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    text.stdout += chunk
    notify()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    text.stderr += chunk
    notify()
  })
  child.stdin.on('error', () => undefined)
  if (options.keepStdinOpen !== true) child.stdin.end(options.stdin)

  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 20_000)
  let exited = false
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      exited = true
      notify()
      resolve({ code, signal, stdout: text.stdout, stderr: text.stderr, timedOut })
    })
  })

  const waitFor = (
    stream: 'stdout' | 'stderr',
    pattern: RegExp,
    timeoutMs = 10_000,
  ): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const stop = setTimeout(() => {
        listeners.delete(check)
        reject(
          new Error(`no ${String(pattern)} on ${stream} within ${timeoutMs} ms:\n${text[stream]}`),
        )
      }, timeoutMs)
      const check = (): void => {
        const match = pattern.exec(text[stream])
        if (match === null && !exited) return
        listeners.delete(check)
        clearTimeout(stop)
        if (match !== null) resolve(match)
        else
          reject(
            new Error(`the CLI exited before ${String(pattern)} on ${stream}:\n${text[stream]}`),
          )
      }
      listeners.add(check)
      check()
    })

  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitFor,
    done,
  }
}

/** Runs the bin to completion and collects exit code, stdout and stderr. */
export function runCli(args: string[], options: StartCliOptions = {}): Promise<CliRun> {
  return startCli(args, options).done
}

/** The one `--json` document on stdout. */
export function jsonOf(run: Pick<CliRun, 'stdout'>): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>
}

/** A V8 stack frame line (`    at fn (file:1:2)`): never on stderr without --debug. */
export const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/mu
