import type { Reporter } from '../context.js'
import { sanitize } from '../sanitize.js'
import type { IO } from './io.js'
import type { Redactor } from './redact.js'

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/**
 * The stderr conversation: plain lines, and on a TTY a spinner while waiting. Everything passes
 * through the redactor (docs/security.md SO-3), and every text is sanitised: steps quote server values
 * such as endpoints, which must not drive the terminal or start a line (SO-4).
 */
export function createReporter(io: IO, secrets: Redactor): Reporter {
  const c = io.color.err
  const write = (text: string): void => io.err(text)
  // Redact first, then sanitise: escaping first would hide a secret that holds a control
  // character from the redactor, which looks for it as registered (SO-2).
  const clean = (text: string): string => sanitize(secrets.redact(text))
  return {
    step(text) {
      write(`${c.dim('•')} ${clean(text)}\n`)
    },
    warn(code, message) {
      write(`${c.yellow('warning:')} ${clean(message)} ${c.dim(`(${clean(code)})`)}\n`)
    },
    notice(label, value) {
      write(`${c.bold(clean(label))}\n  ${clean(value)}\n`)
    },
    wait(raw) {
      const text = clean(raw)
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
