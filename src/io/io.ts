import type { ChalkInstance } from 'chalk'

export interface IO {
  out(text: string): void
  err(text: string): void
  readStdin(): Promise<string>
  /** One line from stdin, after `prompt` on stderr; rejects when `signal` aborts (Ctrl-C). */
  readLine(prompt: string, signal: AbortSignal): Promise<string>
  stdoutIsTTY: boolean
  stderrIsTTY: boolean
  stdinIsTTY: boolean
  color: { out: ChalkInstance; err: ChalkInstance }
}
