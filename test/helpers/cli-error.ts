import { CliError } from '../../src/errors.js'

/** The CliError a promise rejects with; anything else (or fulfilment) fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<CliError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => {
      if (!(error instanceof CliError)) throw error
      return error
    },
  )
}

/** The CliError a function throws; anything else (or returning) fails the test. */
export function caught(run: () => unknown): CliError {
  try {
    run()
  } catch (error) {
    if (error instanceof CliError) return error
    throw error
  }
  throw new Error('expected a CliError')
}
