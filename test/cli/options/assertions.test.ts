import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addAssertionOptions, toAssertions } from '../../../src/cli/options/assertions.js'
import type { RawAssertionOptions } from '../../../src/cli/options/assertions.js'

const CLAIM_HINT =
  'e.g. --expect-claim azp=abc123, --expect-claim cnf.jkt=…, --expect-claim \'"https://example.com/roles"=admin\''

function program(): Command {
  return addAssertionOptions(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
}

function parse(argv: string[]): RawAssertionOptions {
  return program().parse(argv, { from: 'user' }).opts<RawAssertionOptions>()
}

describe('addAssertionOptions()', () => {
  it('gives no defaults', () => {
    expect(parse([])).toEqual({})
    const options = program().options
    expect(options.map((o) => o.long)).toEqual([
      '--expect-claim',
      '--require-scope',
      '--expect-valid-for',
    ])
    expect(options.map((o) => o.defaultValue as unknown)).toEqual([undefined, undefined, undefined])
  })

  it('--expect-claim repeats, in order, each parsed into a path and a value', () => {
    expect(
      parse([
        '--expect-claim',
        'azp=abc123',
        '--expect-claim',
        'cnf.jkt=0ZcOCORZNYy',
        '--expect-claim',
        '"https://example.com/roles"=admin',
      ]).expectClaim,
    ).toStrictEqual([
      {
        name: 'azp',
        path: [{ key: 'azp', quoted: false }],
        text: 'abc123',
        expected: 'abc123',
      },
      {
        name: 'cnf.jkt',
        path: [
          { key: 'cnf', quoted: false },
          { key: 'jkt', quoted: false },
        ],
        text: '0ZcOCORZNYy',
        expected: '0ZcOCORZNYy',
      },
      {
        name: '"https://example.com/roles"',
        path: [{ key: 'https://example.com/roles', quoted: true }],
        text: 'admin',
        expected: 'admin',
      },
    ])
  })

  it.each([
    ['exp=3600', 3600],
    ['email_verified=true', true],
    ['roles=["admin"]', ['admin']],
    ['sub=', ''],
    ['x=a=b', 'a=b'],
  ])('--expect-claim %s compares %j', (text, expected) => {
    expect(parse(['--expect-claim', text]).expectClaim?.[0]?.expected).toStrictEqual(expected)
  })

  it.each([
    ['azp', '--expect-claim azp: expected name=value'],
    ['=x', '--expect-claim =x: empty claim name'],
    ['"roles=x', '--expect-claim "roles=x: unbalanced "'],
  ])('refuses --expect-claim %s with the message and hint', (text, message) => {
    expect(() => parse(['--expect-claim', text])).toThrow(
      `option '--expect-claim <name=value>' argument '${text}' is invalid. ${message} (${CLAIM_HINT})`,
    )
  })

  it('--require-scope takes one scope per flag, in order', () => {
    expect(
      parse(['--require-scope', 'read:orders', '--require-scope', 'write:orders']),
    ).toStrictEqual({ requireScope: ['read:orders', 'write:orders'] })
  })

  it.each(['read:orders write:orders', '', 'read:orders\twrite:orders'])(
    'refuses --require-scope %j',
    (scope) => {
      expect(() => parse(['--require-scope', scope])).toThrow(
        `option '--require-scope <scope>' argument '${scope}' is invalid. one scope per --require-scope (repeat the flag)`,
      )
    },
  )

  it.each([
    ['90', 90],
    ['90s', 90],
    ['5m', 300],
    ['1h', 3600],
    ['2d', 172_800],
    ['1h30m', 5400],
    ['0', 0],
  ])('--expect-valid-for %s is %i s', (text, seconds) => {
    expect(parse(['--expect-valid-for', text])).toStrictEqual({ expectValidFor: seconds })
  })

  it.each(['5x', '1.5h', '-5m', 'm'])('refuses --expect-valid-for %s', (text) => {
    expect(() => parse(['--expect-valid-for', text])).toThrow(
      `option '--expect-valid-for <duration>' argument '${text}' is invalid. "${text}" is not a duration (use a number with a unit: 90s, 5m, 1h, 2d (or 1h30m))`,
    )
  })
})

describe('toAssertions()', () => {
  it('none given: no checks', () => {
    expect(toAssertions({})).toStrictEqual({ claims: [], scopes: [], validForSeconds: undefined })
  })

  it('carries every flag as parsed', () => {
    const raw = parse([
      '--expect-claim',
      'org_id=org_123',
      '--require-scope',
      'read:orders',
      '--expect-valid-for',
      '5m',
    ])
    expect(toAssertions(raw)).toStrictEqual({
      claims: [
        {
          name: 'org_id',
          path: [{ key: 'org_id', quoted: false }],
          text: 'org_123',
          expected: 'org_123',
        },
      ],
      scopes: ['read:orders'],
      validForSeconds: 300,
    })
  })
})
