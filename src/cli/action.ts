import type { Command } from 'commander'

/** Replaces a command's action, so CLI tests can capture parsed options (gh's runF). */
export type RunOverride = (command: string, options: unknown, args: unknown[]) => Promise<void>

/** Makes a commander action: options merged with the global ones, the `run` override honoured. */
export type ActionFactory = <T>(
  name: string,
  run: (options: T, args: unknown[]) => Promise<void>,
) => (...params: unknown[]) => Promise<void>

export function actionFactory(program: Command, override: RunOverride | undefined): ActionFactory {
  return <T>(name: string, run: (options: T, args: unknown[]) => Promise<void>) =>
    async (...params: unknown[]): Promise<void> => {
      const command = params.at(-1) as Command
      const options = { ...program.opts(), ...command.opts() } as T
      const args = params.slice(0, -2)
      if (override !== undefined) return override(name, options, args)
      return run(options, args)
    }
}
