import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import { collect, integer, withDefault } from '../../../src/cli/options/values.js'

describe('integer()', () => {
  const seconds = integer(1, 600)

  it.each([
    ['1', 1],
    ['600', 600],
    ['30', 30],
    ['007', 7],
  ])('accepts %j as %i', (text, value) => {
    expect(seconds(text)).toBe(value)
  })

  it.each(['0', '601', '-1', '1.5', '1e2', ' 30', '30 ', '', '0x10', '٣'])('refuses %j', (text) => {
    expect(() => seconds(text)).toThrow(InvalidArgumentError)
    expect(() => seconds(text)).toThrow('expected a whole number from 1 to 600')
  })

  it('includes both bounds, including 0 for a port', () => {
    const port = integer(0, 65535)
    expect(port('0')).toBe(0)
    expect(port('65535')).toBe(65535)
    expect(() => port('65536')).toThrow('expected a whole number from 0 to 65535')
  })
})

describe('collect()', () => {
  it('appends to the previous values without changing them', () => {
    const first = collect('a')
    expect(first).toEqual(['a'])
    expect(collect('b', first)).toEqual(['a', 'b'])
    expect(first).toEqual(['a'])
  })
})

describe('withDefault()', () => {
  it("names the default in commander's own format", () => {
    expect(withDefault('timeout for each HTTP request', 30)).toBe(
      'timeout for each HTTP request (default: 30)',
    )
    expect(withDefault('space-separated scopes', 'openid profile email')).toBe(
      'space-separated scopes (default: "openid profile email")',
    )
  })
})
