import type { Command } from 'commander'
import { integer, withDefault } from './values.js'

// How strictly tokens are checked: the clock skew allowed on exp, nbf and iat (docs/security.md D-5).

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 60

export interface RawValidationOptions {
  clockTolerance?: number
}

export function addValidationOptions(command: Command): Command {
  return command.option(
    '--clock-tolerance <seconds>',
    withDefault('allowed clock skew for exp, nbf and iat', DEFAULT_CLOCK_TOLERANCE_SECONDS),
    integer(0, 3600),
  )
}

export function toClockToleranceSeconds(raw: RawValidationOptions): number {
  return raw.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE_SECONDS
}
