import { describe, expect, it } from 'vitest'
import { excerpt, sanitize } from '../src/sanitize.js'
import { toJson } from '../src/io/json.js'

describe('sanitize() (security.md SO-4)', () => {
  it.each([
    ['plain text', 'plain text'],
    ['red \u001b[31mtext\u001b[0m', 'red text'],
    ['title \u001b]0;pwned\u0007 ok', 'title  ok'],
    ['lone \u001b escape', 'lone \\x1b escape'],
    ['bell\u0007 and del\u007f', 'bell\\x07 and del\\x7f'],
    ['c1 csi \u009b31m', 'c1 csi '],
    ['line\nforged: ok', 'line\\nforged: ok'],
    ['cr\roverwrite', 'cr\\roverwrite'],
    ['bidi \u202eevil\u202c', 'bidi \\u202eevil\\u202c'],
    ['::set-output name=x::y', '\\::set-output name=x::y'],
  ])('%j → %j', (input, output) => {
    expect(sanitize(input)).toBe(output)
  })

  it('excerpt() truncates and says how long the original was', () => {
    expect(excerpt('a'.repeat(250), 10)).toBe('aaaaaaaaaa… (truncated, 250 chars)')
  })
})

describe('toJson() (security.md SO-5)', () => {
  it('escapes C1 controls and bidi characters that JSON.stringify leaves raw', () => {
    expect(toJson({ a: 'x\u009by\u202ez' })).toBe('{\n  "a": "x\\u009by\\u202ez"\n}')
  })
})
