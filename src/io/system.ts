import { randomBytes } from 'node:crypto'
import { Chalk, supportsColor, supportsColorStderr } from 'chalk'
import type { Ctx } from '../context.js'
import type { IO } from './io.js'
import { createRedactor } from './redact.js'
import { createReporter } from './reporter.js'

/** The sole reader of `process` in `src/`: streams, TTY flags, environment and signals. */
export function systemContext(version: string): Ctx {
  const env = { ...process.env }
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (): void => {
    interrupts += 1
    // A second Ctrl-C while shutting down means "now".
    if (interrupts > 1) process.kill(process.pid, 'SIGKILL')
    controller.abort(new Error('interrupted'))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const io = systemIO(env)
  const secrets = createRedactor()
  return {
    io,
    dispatcher: undefined,
    openBrowser: async (url, command) => {
      const { openBrowser } = await import('../net/browser.js')
      await openBrowser(url, { command, env })
    },
    now: () => new Date(),
    random: (bytes) => new Uint8Array(randomBytes(bytes)),
    env,
    platform: process.platform,
    signal: controller.signal,
    secrets,
    reporter: createReporter(io, secrets),
    version,
  }
}

function colorLevel(env: NodeJS.ProcessEnv, isTTY: boolean, detected: false | { level: number }) {
  if (!isTTY || (env.NO_COLOR ?? '') !== '' || env.TERM === 'dumb' || detected === false) return 0
  return detected.level as 0 | 1 | 2 | 3
}

function systemIO(env: NodeJS.ProcessEnv): IO {
  const stdoutIsTTY = process.stdout.isTTY === true
  const stderrIsTTY = process.stderr.isTTY === true
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    },
    stdoutIsTTY,
    stderrIsTTY,
    stdinIsTTY: process.stdin.isTTY === true,
    color: {
      out: new Chalk({ level: colorLevel(env, stdoutIsTTY, supportsColor) }),
      err: new Chalk({ level: colorLevel(env, stderrIsTTY, supportsColorStderr) }),
    },
  }
}
