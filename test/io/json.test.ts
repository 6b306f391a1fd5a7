import { Chalk } from 'chalk'
import { describe, expect, it } from 'vitest'
import type { IO } from '../../src/io/io.js'
import { toJson, writeJson } from '../../src/io/json.js'

function fakeIo(): { io: IO; out: string[]; err: string[] } {
  const out: string[] = []
  const err: string[] = []
  const plain = new Chalk({ level: 0 })
  return {
    io: {
      out: (text) => void out.push(text),
      err: (text) => void err.push(text),
      readStdin: () => Promise.resolve(''),
      readLine: () => Promise.resolve(''),
      stdoutIsTTY: false,
      stderrIsTTY: false,
      stdinIsTTY: false,
      color: { out: plain, err: plain },
    },
    out,
    err,
  }
}

describe('toJson()', () => {
  it('pretty-prints with two spaces', () => {
    expect(toJson({ ok: true, list: [1, 'a'], nested: { n: null } })).toBe(
      '{\n  "ok": true,\n  "list": [\n    1,\n    "a"\n  ],\n  "nested": {\n    "n": null\n  }\n}',
    )
  })

  it.each([
    ['DEL', '\u007f', '\\u007f'],
    ['C1 NEL', '\u0085', '\\u0085'],
    ['C1 CSI', '\u009b', '\\u009b'],
    ['C1 APC', '\u009f', '\\u009f'],
    ['Arabic letter mark', '\u061c', '\\u061c'],
    ['zero-width space', '\u200b', '\\u200b'],
    ['right-to-left mark', '\u200f', '\\u200f'],
    ['line separator', '\u2028', '\\u2028'],
    ['right-to-left override', '\u202e', '\\u202e'],
    ['word joiner', '\u2060', '\\u2060'],
    ['pop directional isolate', '\u2069', '\\u2069'],
    ['byte order mark', '\ufeff', '\\ufeff'],
  ])('SO-5: %s is escaped, in values and in keys', (_, char, escaped) => {
    expect(toJson({ [`k${char}`]: `v${char}` })).toBe(`{\n  "k${escaped}": "v${escaped}"\n}`)
  })

  it('C0 controls stay escaped as JSON.stringify escapes them', () => {
    expect(toJson('\u001b[31m\u0007\n')).toBe('"\\u001b[31m\\u0007\\n"')
  })

  it('leaves other non-ASCII text as it is', () => {
    expect(toJson({ name: 'Zoë 東京 \u00a0 \u2030' })).toBe(
      '{\n  "name": "Zoë 東京 \u00a0 \u2030"\n}',
    )
  })

  it('SO-5: the escaped document parses back to the same value', () => {
    const document = {
      error: {
        message: 'a\u202eb\u0085c\u2028d\u007f',
        ['key\u200b']: ['\ufeff', '\u2066x\u2069'],
      },
    }
    const text = toJson(document)
    expect(text).toMatch(
      /^[\n\u0020-\u007e\u00a0-\u061b\u061d-\u200a\u2010-\u2027\u202f-\u205f\u206a-\ufefe]*$/u,
    )
    expect(JSON.parse(text)).toEqual(document)
  })
})

describe('writeJson()', () => {
  it('writes exactly one document with a trailing newline to stdout, nothing to stderr', () => {
    const { io, out, err } = fakeIo()
    writeJson(io, { ok: false, error: { code: 'usage_error', message: 'x\u009b' } })
    expect(out).toEqual([
      '{\n  "ok": false,\n  "error": {\n    "code": "usage_error",\n    "message": "x\\u009b"\n  }\n}\n',
    ])
    expect(err).toEqual([])
  })
})
