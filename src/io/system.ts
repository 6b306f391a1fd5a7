import type { Ctx } from '../context.js'
import { colorsFor } from './color.js'
import type { ColorLevel } from './color.js'
import type { IO } from './io.js'
import { createRedactor } from './redact.js'
import { createReporter } from './reporter.js'

/** The sole reader of `process` in `src/`: streams, TTY flags, environment and signals. */
export async function systemContext(version: string): Promise<Ctx> {
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

  const io = await systemIO(env)
  const secrets = createRedactor()
  return {
    io,
    dispatcher: undefined,
    openBrowser: async (url, command) => {
      const { openBrowser } = await import('../net/browser.js')
      await openBrowser(url, { command, env })
    },
    now: () => new Date(),
    // Web Crypto's CSPRNG is a global: no module to load for commands that never draw from it.
    random: (bytes) => crypto.getRandomValues(new Uint8Array(bytes)),
    env,
    platform: process.platform,
    processes: {
      pid: process.pid,
      isAlive: (pid) => {
        try {
          // Signal 0 checks existence only; EPERM means it exists under another user.
          process.kill(pid, 0)
          return true
        } catch (error) {
          return (error as { code?: string }).code === 'EPERM'
        }
      },
    },
    uid: process.geteuid?.(),
    signal: controller.signal,
    secrets,
    reporter: createReporter(io, secrets),
    version,
  }
}

/**
 * 0 off a TTY, with NO_COLOR or TERM=dumb; otherwise the terminal's own depth (Node reads
 * COLORTERM, TERM and FORCE_COLOR), so chalk is loaded only for a stream that gets colour.
 */
function colorLevel(env: NodeJS.ProcessEnv, stream: NodeJS.WriteStream): ColorLevel {
  if (stream.isTTY !== true || (env.NO_COLOR ?? '') !== '' || env.TERM === 'dumb') return 0
  const depth = stream.getColorDepth(env)
  return depth >= 24 ? 3 : depth >= 8 ? 2 : depth >= 4 ? 1 : 0
}

async function systemIO(env: NodeJS.ProcessEnv): Promise<IO> {
  const stdoutIsTTY = process.stdout.isTTY === true
  const stderrIsTTY = process.stderr.isTTY === true
  let stdoutClosed = false
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // A reader that stops early (`pkce help login | head`) closes the pipe: the rest of the
    // output has nowhere to go, and that is no failure of pkce's. Anything else still throws.
    if (error.code !== 'EPIPE') throw error
    stdoutClosed = true
  })
  return {
    out: (text) => {
      if (!stdoutClosed) process.stdout.write(text)
    },
    err: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    },
    readLine: async (prompt, signal) => {
      const { createInterface } = await import('node:readline/promises')
      const lines = createInterface({
        input: process.stdin,
        output: process.stderr,
        terminal: process.stdin.isTTY === true,
      })
      try {
        return await lines.question(prompt, { signal })
      } finally {
        lines.close()
      }
    },
    stdoutIsTTY,
    stderrIsTTY,
    stdinIsTTY: process.stdin.isTTY === true,
    color: {
      out: await colorsFor(colorLevel(env, process.stdout)),
      err: await colorsFor(colorLevel(env, process.stderr)),
    },
  }
}
