import { beforeAll, describe, expect, it } from 'vitest'
import { cleanToken, readTokenInputs, splitTokens } from '../../src/commands/decode-input.js'
import type { CliError } from '../../src/errors.js'
import { CLAIMS, generateTestKeys, runCli, runCliJson } from '../helpers/jwt-fixtures.js'
import { testCtx } from '../helpers/test-ctx.js'

let rs256 = ''

beforeAll(async () => {
  ;({ rs256 } = await generateTestKeys())
})

describe('pkce decode: forgiving input', () => {
  const pasted: [string, string, string][] = [
    ['a Bearer prefix', `Bearer ${'TOKEN'}`, 'a "Bearer " prefix'],
    ['a DPoP prefix', 'DPoP TOKEN', 'a "DPoP " prefix'],
    [
      'a whole Authorization header line',
      'Authorization: Bearer TOKEN',
      'an "Authorization:" header name and a "Bearer " prefix',
    ],
    [
      'a lower-case header line',
      'authorization:bearer TOKEN',
      'an "Authorization:" header name and a "Bearer " prefix',
    ],
    ['double quotes', '"TOKEN"', 'quotes'],
    ['single quotes and whitespace', "  'TOKEN'\n\n", 'quotes'],
    [
      'a quoted header line',
      '"Authorization: Bearer TOKEN"',
      'quotes, an "Authorization:" header name and a "Bearer " prefix',
    ],
    ['a JSON member', '  "access_token": "TOKEN",', 'a JSON member name and quotes'],
  ]
  for (const [label, text, what] of pasted) {
    it(`strips ${label} and says so`, async () => {
      const { code, doc, stderr } = await runCliJson(['decode', text.replace('TOKEN', rs256)])
      expect(code).toBe(0)
      expect(doc.payload).toEqual(CLAIMS)
      expect((doc.warnings as unknown[])[0]).toEqual({
        code: 'input_stripped',
        message: `stripped ${what} from the input`,
      })
      expect(stderr).toContain(`warning: stripped ${what} from the input (input_stripped)\n`)
    })
  }

  it('surrounding whitespace and newlines alone are not worth a warning', async () => {
    const { doc } = await runCliJson(['decode', `\n  ${rs256}  \n`])
    expect((doc.warnings as { code: string }[]).map((w) => w.code)).toEqual([
      'signature_not_verified',
    ])
  })

  it('reads stdin when no token is given, or with -', async () => {
    for (const argv of [['decode'], ['decode', '-']]) {
      const { code, doc } = await runCliJson(argv, { stdin: `${rs256}\n` })
      expect(code).toBe(0)
      expect(doc.kind).toBe('jws')
    }
  })

  it('several tokens on stdin, one a line: an array under --json, a section each', async () => {
    const stdin = `Bearer ${rs256}\n\nKBSxkmG-OcpA6-cg\r\n`
    const { code, doc, stderr } = await runCliJson(['decode'], { stdin })
    expect(code).toBe(0)
    expect(Array.isArray(doc)).toBe(true)
    const docs = doc as unknown as Record<string, unknown>[]
    expect(docs.map((d) => d.kind)).toEqual(['jws', 'opaque'])
    expect(stderr).toBe(
      'warning: token 1: stripped a "Bearer " prefix from the input (input_stripped)\n' +
        'warning: token 1: signature not verified: the claims are what the token says, not proven (add --verify) (signature_not_verified)\n' +
        'warning: token 2: the token is opaque, not a JWT (16 characters): call /userinfo or introspection with it, or on Auth0 send --audience <your API identifier> to get a JWT access token (token_opaque)\n',
    )
    const human = await runCli(['decode'], { stdin })
    expect(human.stdout).toMatch(/^\nToken 1 of 2: JWS \(signed JWT\)\n/u)
    expect(human.stdout).toContain('\nToken 2 of 2: Opaque token (not a JWT)\n')
  })

  it('several tokens as arguments, or on one line', async () => {
    const args = await runCliJson(['decode', rs256, 'KBSxkmG-OcpA6-cg'])
    expect((args.doc as unknown as { kind: string }[]).map((d) => d.kind)).toEqual([
      'jws',
      'opaque',
    ])
    const line = await runCliJson(['decode', `${rs256} KBSxkmG-OcpA6-cg`])
    expect((line.doc as unknown as { kind: string }[]).map((d) => d.kind)).toEqual([
      'jws',
      'opaque',
    ])
  })

  it('a TTY on stdin and no token: usage on stderr, exit 2, no hang', async () => {
    const { code, stdout, stderr } = await runCli(['decode'], { stdinIsTTY: true })
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^Usage: pkce decode \[options\] \[token\.\.\.\]\n/u)
    expect(stderr).toContain(
      'error: no token given, and stdin is a terminal\nhint: pkce decode <token>, or pipe it: pbpaste | pkce decode\n',
    )
    const doc = await runCliJson(['decode'], { stdinIsTTY: true })
    expect(doc.code).toBe(2)
    expect(doc.doc).toEqual({
      ok: false,
      error: {
        code: 'usage_error',
        message: 'no token given, and stdin is a terminal',
        hint: 'pkce decode <token>, or pipe it: pbpaste | pkce decode',
      },
    })
  })

  it('empty stdin, or only wrappers, is a usage error', async () => {
    for (const stdin of ['\n \n', '""\n', "Authorization: ''\n"]) {
      const { code, stderr } = await runCli(['decode'], { stdin })
      expect(code).toBe(2)
      expect(stderr).toContain('error: no token given\n')
    }
  })
})

describe('cleanToken()', () => {
  it('https://www.rfc-editor.org/rfc/rfc6750#section-2.1 a header line with the Bearer scheme', () => {
    expect(cleanToken('  Authorization: Bearer abc.def.ghi  ')).toEqual({
      token: 'abc.def.ghi',
      stripped: ['an "Authorization:" header name', 'a "Bearer " prefix'],
    })
  })

  it('https://www.rfc-editor.org/rfc/rfc9449#section-7.1 the DPoP scheme, and a DPoP: proof header', () => {
    expect(cleanToken('DPoP abc')).toEqual({ token: 'abc', stripped: ['a "DPoP " prefix'] })
    expect(cleanToken('dpop: abc')).toEqual({ token: 'abc', stripped: ['a "DPoP:" header name'] })
  })

  it('a JSON member with its trailing comma, and backquotes', () => {
    expect(cleanToken('"id_token": "abc",')).toEqual({
      token: 'abc',
      stripped: ['a JSON member name', 'quotes'],
    })
    expect(cleanToken('`abc`')).toEqual({ token: 'abc', stripped: ['quotes'] })
  })

  it('a bare token is left alone; unbalanced quotes are not quotes', () => {
    expect(cleanToken('abc')).toEqual({ token: 'abc', stripped: [] })
    expect(cleanToken('"abc')).toEqual({ token: '"abc', stripped: [] })
  })
})

describe('splitTokens()', () => {
  it('one token a non-empty line, CRLF or LF', () => {
    expect(splitTokens('a\r\n\n  \nb\n')).toEqual([
      { token: 'a', stripped: [] },
      { token: 'b', stripped: [] },
    ])
  })

  it('several on one line share what the line had stripped', () => {
    expect(splitTokens('Bearer a "b"')).toEqual([
      { token: 'a', stripped: ['a "Bearer " prefix'] },
      { token: 'b', stripped: ['a "Bearer " prefix', 'quotes'] },
    ])
  })

  it('a line that is only wrappers gives no token', () => {
    expect(splitTokens("Authorization: ''\n")).toEqual([])
  })
})

describe('readTokenInputs()', () => {
  it('arguments in order, stdin read once where - stands', async () => {
    const ctx = testCtx({ stdin: 'c\n' })
    const inputs = await readTokenInputs(['a', '-', 'b', '-'], ctx.io)
    expect(inputs.map((input) => input.token)).toEqual(['a', 'c', 'b'])
  })

  it('no argument reads stdin', async () => {
    const ctx = testCtx({ stdin: 'Bearer x\n' })
    expect(await readTokenInputs([], ctx.io)).toEqual([
      { token: 'x', stripped: ['a "Bearer " prefix'] },
    ])
  })

  it('a terminal on stdin is a usage error, not a wait', async () => {
    const ctx = testCtx({ stdinIsTTY: true })
    const error = (await readTokenInputs(['-'], ctx.io).catch(
      (caught: unknown) => caught,
    )) as CliError
    expect([error.code, error.message, error.hint]).toEqual([
      'usage_error',
      'no token given, and stdin is a terminal',
      'pkce decode <token>, or pipe it: pbpaste | pkce decode',
    ])
  })

  it('nothing left after cleaning is a usage error', async () => {
    const ctx = testCtx({ stdin: '""\n' })
    const error = (await readTokenInputs([], ctx.io).catch((caught: unknown) => caught)) as CliError
    expect([error.code, error.message, error.hint]).toEqual([
      'usage_error',
      'no token given',
      'pkce decode <token>, or pipe it: pbpaste | pkce decode',
    ])
  })
})
