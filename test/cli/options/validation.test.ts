import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import {
  addValidationOptions,
  toClockToleranceSeconds,
} from '../../../src/cli/options/validation.js'
import type { RawValidationOptions } from '../../../src/cli/options/validation.js'

function program(): Command {
  return addValidationOptions(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
}

function parse(argv: string[]): RawValidationOptions {
  return program().parse(argv, { from: 'user' }).opts<RawValidationOptions>()
}

describe('toClockToleranceSeconds() (docs/security.md D-5)', () => {
  it('defaults to 60 s when not given', () => {
    expect(toClockToleranceSeconds({})).toBe(60)
  })

  it.each([0, 1, 3600])('keeps %i', (clockTolerance) => {
    expect(toClockToleranceSeconds({ clockTolerance })).toBe(clockTolerance)
  })
})

describe('addValidationOptions()', () => {
  it('leaves --clock-tolerance undefined when not given, and names the default in help', () => {
    expect(parse([])).toEqual({})
    const option = program().options.find((o) => o.long === '--clock-tolerance')
    expect(option?.description).toBe('allowed clock skew for exp, nbf and iat (default: 60)')
    expect(option?.defaultValue).toBeUndefined()
  })

  it('parses whole seconds from 0 to 3600', () => {
    expect(parse(['--clock-tolerance', '0'])).toEqual({ clockTolerance: 0 })
    expect(parse(['--clock-tolerance', '3600'])).toEqual({ clockTolerance: 3600 })
  })

  it.each(['3601', '-1', '1.5', '1m'])('refuses --clock-tolerance %s', (value) => {
    expect(() => parse(['--clock-tolerance', value])).toThrow(
      `option '--clock-tolerance <seconds>' argument '${value}' is invalid. expected a whole number from 0 to 3600`,
    )
  })
})
