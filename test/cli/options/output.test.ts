import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addTokenOutputOptions, toTokenOutput } from '../../../src/cli/options/output.js'
import type { RawTokenOutputOptions } from '../../../src/cli/options/output.js'

describe('toTokenOutput()', () => {
  it.each<[RawTokenOutputOptions, ReturnType<typeof toTokenOutput>]>([
    [{}, { kind: 'human', showTokens: false }],
    [{ showTokens: true }, { kind: 'human', showTokens: true }],
    [{ json: true }, { kind: 'json' }],
    [{ json: true, showTokens: true }, { kind: 'json' }],
    [{ print: 'id_token' }, { kind: 'print', token: 'id_token' }],
    // --print is the narrower request: it wins over --json.
    [
      { print: 'refresh_token', json: true },
      { kind: 'print', token: 'refresh_token' },
    ],
    [
      { print: 'access_token', json: true, showTokens: true },
      { kind: 'print', token: 'access_token' },
    ],
  ])('%j → %j', (raw, output) => {
    expect(toTokenOutput(raw)).toEqual(output)
  })
})

describe('addTokenOutputOptions()', () => {
  function parse(argv: string[]): RawTokenOutputOptions {
    const command = addTokenOutputOptions(new Command())
      .exitOverride()
      .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    command.parse(argv, { from: 'user' })
    return command.opts<RawTokenOutputOptions>()
  }

  it('takes --print and --show-tokens', () => {
    expect(parse(['--print', 'id_token', '--show-tokens'])).toEqual({
      print: 'id_token',
      showTokens: true,
    })
  })

  it('refuses a --print that is not a token', () => {
    expect(() => parse(['--print', 'code'])).toThrow(
      "option '--print <token>' argument 'code' is invalid. Allowed choices are access_token, id_token, refresh_token.",
    )
  })
})
