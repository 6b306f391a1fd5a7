import type { ChalkInstance } from 'chalk'

export interface IO {
  out(text: string): void
  err(text: string): void
  readStdin(): Promise<string>
  stdoutIsTTY: boolean
  stderrIsTTY: boolean
  stdinIsTTY: boolean
  color: { out: ChalkInstance; err: ChalkInstance }
}
