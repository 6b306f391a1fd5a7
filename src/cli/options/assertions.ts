import { InvalidArgumentError } from 'commander'
import type { Command } from 'commander'
import { parseDuration, parseExpectClaim } from '../../commands/assertions.js'
import type { Assertions, ClaimExpectation } from '../../commands/assertions.js'
import { isCliError } from '../../errors.js'

/** What commander hands over for the assertion flags, already parsed. */
export interface RawAssertionOptions {
  expectClaim?: ClaimExpectation[]
  requireScope?: string[]
  expectValidFor?: number
}

export function parser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text)
    } catch (error) {
      if (!isCliError(error)) throw error
      throw new InvalidArgumentError(
        error.hint === undefined ? error.message : `${error.message} (${error.hint})`,
      )
    }
  }
}

const expectClaim = parser(parseExpectClaim)

function collectClaim(text: string, previous: ClaimExpectation[] = []): ClaimExpectation[] {
  return [...previous, expectClaim(text)]
}

function collectScope(text: string, previous: string[] = []): string[] {
  if (text === '' || /\s/u.test(text)) {
    throw new InvalidArgumentError('one scope per --require-scope (repeat the flag)')
  }
  return [...previous, text]
}

/**
 * The CI assertion flags, shared by `decode` and `login`: each becomes a named check, and any
 * failure exits 4 with `assertion_failed`.
 */
export function addAssertionOptions(command: Command): Command {
  return command
    .option(
      '--expect-claim <name=value>',
      'fail unless the claim equals (or, for an array, contains) the value; JSON values, dotted paths, quoted names (repeatable)',
      collectClaim,
    )
    .option(
      '--require-scope <scope>',
      'fail unless the scope (or permissions) claim grants it (repeatable)',
      collectScope,
    )
    .option(
      '--expect-valid-for <duration>',
      'fail unless exp is at least this far away: 90s, 5m, 1h, 2d',
      parser(parseDuration),
    )
}

export function toAssertions(raw: RawAssertionOptions): Assertions {
  return {
    claims: raw.expectClaim ?? [],
    scopes: raw.requireScope ?? [],
    validForSeconds: raw.expectValidFor,
  }
}
