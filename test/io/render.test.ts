import { Chalk } from 'chalk'
import { describe, expect, it } from 'vitest'
import {
  claimLines,
  formatClaimLines,
  formatNumericDate,
  formatRelative,
  heading,
  TIME_CLAIMS,
} from '../../src/io/render.js'
import type { ClaimLine } from '../../src/io/render.js'

const NOW = new Date('2026-11-24T12:00:00Z')
const NOW_S = NOW.getTime() / 1000 // 1795521600
const plain = new Chalk({ level: 0 })
const colour = new Chalk({ level: 1 })

describe('formatRelative()', () => {
  it.each([
    [0, 'now'],
    [0.4, 'now'],
    [-0.49, 'now'],
    [0.5, 'in 1s'],
    [1, 'in 1s'],
    [-1, '1s ago'],
    [59, 'in 59s'],
    [60, 'in 1m'],
    [90, 'in 1m 30s'],
    [-90, '1m 30s ago'],
    [3_600, 'in 1h'],
    [3_601, 'in 1h'],
    [3_660, 'in 1h 1m'],
    [3_661, 'in 1h 1m'],
    [86_399, 'in 23h 59m'],
    [86_400, 'in 1d'],
    [86_400 + 5, 'in 1d'],
    [90_061, 'in 1d 1h'],
    [-(2 * 86_400 + 3 * 3_600), '2d 3h ago'],
    [365 * 86_400, 'in 365d'],
  ])('%d s → %s', (seconds, text) => {
    expect(formatRelative(seconds)).toBe(text)
  })
})

describe('formatNumericDate() (security.md JD-3)', () => {
  it.each([
    [NOW_S + 3_600, '2026-11-24T13:00:00Z (in 1h)'],
    [NOW_S - 90, '2026-11-24T11:58:30Z (1m 30s ago)'],
    [NOW_S, '2026-11-24T12:00:00Z (now)'],
    [0, '1970-01-01T00:00:00Z (20781d 12h ago)'],
    [1.5, '1970-01-01T00:00:01.500Z (20781d 11h ago)'],
    [8.64e12, '+275760-09-13T00:00:00Z (in 99979218d 12h)'],
    [-8.64e12, '-271821-04-20T00:00:00Z (100020781d 12h ago)'],
  ])('%d → %s', (value, text) => {
    expect(formatNumericDate(value, NOW)).toBe(text)
  })

  it.each([
    ['a numeric string', '1795521600'],
    ['NaN', Number.NaN],
    ['Infinity ({"exp":1e400})', Infinity],
    ['-Infinity', -Infinity],
    ['past the last Date', 8.64e12 + 1],
    ['before the first Date', -8.64e12 - 1],
    ['1e20', 1e20],
    ['null', null],
    ['a boolean', true],
    ['an object', { exp: NOW_S }],
  ])('%s is not a usable date, and nothing throws', (_, value) => {
    expect(formatNumericDate(value, NOW)).toBeUndefined()
  })
})

describe('claimLines()', () => {
  it('TIME_CLAIMS are the NumericDate claims rendered as dates', () => {
    expect([...TIME_CLAIMS]).toEqual(['exp', 'iat', 'nbf', 'auth_time', 'updated_at'])
  })

  it('one line per member, in order: dates for time claims, JSON for non-strings', () => {
    expect(
      claimLines(
        {
          iss: 'https://as.example/',
          aud: ['a', 'b'],
          exp: NOW_S + 60,
          iat: NOW_S,
          email_verified: true,
          address: { country: 'NL' },
          nothing: null,
          n: 1.5,
        },
        NOW,
      ),
    ).toEqual([
      { key: 'iss', value: 'https://as.example/', note: undefined },
      { key: 'aud', value: '["a","b"]', note: undefined },
      { key: 'exp', value: '2026-11-24T12:01:00Z (in 1m)', note: undefined },
      { key: 'iat', value: '2026-11-24T12:00:00Z (now)', note: undefined },
      { key: 'email_verified', value: 'true', note: undefined },
      { key: 'address', value: '{"country":"NL"}', note: undefined },
      { key: 'nothing', value: 'null', note: undefined },
      { key: 'n', value: '1.5', note: undefined },
    ])
  })

  it('JD-3: a time claim that is no usable NumericDate is shown raw with a note', () => {
    expect(
      claimLines({ exp: true, nbf: 8.64e12 + 1, auth_time: null, updated_at: [1] }, NOW),
    ).toEqual([
      { key: 'exp', value: 'true', note: 'not a valid NumericDate' },
      { key: 'nbf', value: '8640000000001', note: 'not a valid NumericDate' },
      { key: 'auth_time', value: 'null', note: 'not a valid NumericDate' },
      { key: 'updated_at', value: '[1]', note: 'not a valid NumericDate' },
    ])
  })

  it('a time claim given as a string is shown as the string, with the gloss', () => {
    expect(claimLines({ exp: '2026-11-24' }, NOW, (key) => `gloss for ${key}`)).toEqual([
      { key: 'exp', value: '2026-11-24', note: 'gloss for exp' },
    ])
  })

  it('the gloss gets key and value; the invalid-date note wins over it', () => {
    const seen: [string, unknown][] = []
    const lines = claimLines({ sub: 'u1', exp: 'x', iat: Infinity }, NOW, (key, value) => {
      seen.push([key, value])
      return key === 'sub' ? 'the user' : undefined
    })
    expect(lines.map((line) => line.note)).toEqual([
      'the user',
      undefined,
      'not a valid NumericDate',
    ])
    expect(seen).toEqual([
      ['sub', 'u1'],
      ['exp', 'x'],
    ])
  })

  it('SO-4: remote keys and values are sanitised', () => {
    expect(
      claimLines({ 'k\u202e': 'v\n::error::x\u0007', nested: { 'a\u0085': 'b\u200b' } }, NOW),
    ).toEqual([
      { key: 'k\\u202e', value: 'v\\n::error::x\\x07', note: undefined },
      { key: 'nested', value: '{"a\\x85":"b\\u200b"}', note: undefined },
    ])
  })

  it('SO-4: a value starting with "::" cannot pass for a workflow command', () => {
    expect(claimLines({ name: '::add-mask::x' }, NOW)[0]?.value).toBe('\\::add-mask::x')
  })
})

describe('formatClaimLines()', () => {
  const line = (key: string, value: string, note?: string): ClaimLine => ({ key, value, note })

  it('aligns keys to the longest and glossed values to the widest glossed value', () => {
    expect(
      formatClaimLines(
        [
          line('iss', 'https://as.example/'),
          line('sub', 'u1', 'the user'),
          line('email', 'a@b.c', 'x'),
        ],
        plain,
      ),
    ).toBe(
      [
        '  iss    https://as.example/',
        '  sub    u1     # the user',
        '  email  a@b.c  # x',
        '',
      ].join('\n'),
    )
  })

  it('takes an indent', () => {
    expect(formatClaimLines([line('alg', 'RS256')], plain, '    ')).toBe('    alg  RS256\n')
  })

  it('no lines, no output', () => {
    expect(formatClaimLines([], plain)).toBe('')
  })

  it('keys wider than 32 characters do not widen the column', () => {
    const long = 'k'.repeat(40)
    expect(formatClaimLines([line(long, '1'), line('a', '2')], plain)).toBe(
      `  ${long}  1\n  a${' '.repeat(31)}  2\n`,
    )
  })

  it('a glossed value over 40 characters is not padded to and does not set the gloss column', () => {
    const long = 'v'.repeat(41)
    expect(formatClaimLines([line('a', long, 'long'), line('b', 'short', 'gloss')], plain)).toBe(
      `  a  ${long}  # long\n  b  short  # gloss\n`,
    )
  })

  it('colours keys cyan and glosses dim', () => {
    expect(formatClaimLines([line('sub', 'u1', 'the user')], colour)).toBe(
      '  \u001b[36msub\u001b[39m  u1  \u001b[2m# the user\u001b[22m\n',
    )
  })
})

describe('heading()', () => {
  it('a blank line, then the text bold and underlined', () => {
    expect(heading('Tokens', plain)).toBe('\nTokens\n')
    expect(heading('Tokens', colour)).toBe('\n\u001b[1m\u001b[4mTokens\u001b[24m\u001b[22m\n')
  })
})
