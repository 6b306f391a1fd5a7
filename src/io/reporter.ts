import type { Reporter } from '../context.js'
import { sanitize } from '../sanitize.js'
import type { IO } from './io.js'
import type { Redactor } from './redact.js'

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/**
 * The stderr conversation: plain lines, and on a TTY a spinner while waiting. Everything passes
 * through the redactor (security.md SO-3), and every text is sanitised: steps quote server values
 * such as endpoints, which must not drive the terminal or start a line (SO-4).
 */
export function createReporter(io: IO, secrets: Redactor): Reporter {
  const c = io.color.err
  const write = (text: string): void => io.err(secrets.redact(text))
  return {
    step(text) {
      write(`${c.dim('•')} ${sanitize(text)}\n`)
    },
    warn(code, message) {
      write(`${c.yellow('warning:')} ${sanitize(message)} ${c.dim(`(${sanitize(code)})`)}\n`)
    },
    notice(label, value) {
      write(`${c.bold(sanitize(label))}\n  ${sanitize(value)}\n`)
    },
    wait(raw) {
      const text = sanitize(raw)
      if (!io.stderrIsTTY) {
        write(`${c.dim('•')} ${text}\n`)
        return () => undefined
      }
      let frame = 0
      const draw = (): void => {
        frame = (frame + 1) % FRAMES.length
        write(`\r${c.cyan(FRAMES[frame] ?? '')} ${text}`)
      }
      draw()
      const timer = setInterval(draw, 100)
      timer.unref()
      return () => {
        clearInterval(timer)
        write('\r\u001b[2K')
      }
    },
  }
}
