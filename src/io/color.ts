import type { ChalkInstance } from 'chalk'

/**
 * A `ChalkInstance` that styles nothing, for pipes, `NO_COLOR` and `--no-color`: chaining works
 * (`c.green.bold(text)`) and calls join their arguments as chalk does, without loading chalk.
 */
export const plain: ChalkInstance = new Proxy(() => undefined, {
  // Not a thenable: `await` must not mistake it for a promise.
  get: (_target, key) => (key === 'then' ? undefined : plain),
  apply: (_target, _this, args: unknown[]) => args.join(' '),
}) as unknown as ChalkInstance

export type ColorLevel = 0 | 1 | 2 | 3

/** A stream's colours: chalk, loaded only when the stream gets any. */
export async function colorsFor(level: ColorLevel): Promise<ChalkInstance> {
  if (level === 0) return plain
  const { Chalk } = await import('chalk')
  return new Chalk({ level })
}
