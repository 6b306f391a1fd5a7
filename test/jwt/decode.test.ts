import { CompactEncrypt } from 'jose'
import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import {
  decodeToken,
  KEY_HEADERS,
  MAX_CLAIM_DEPTH,
  MAX_TOKEN_LENGTH,
  nestsTooDeep,
} from '../../src/jwt/decode.js'
import { b64, unsecured } from '../helpers/jwt-fixtures.js'

const HEADER = b64({ alg: 'RS256', kid: 'k' })
const PAYLOAD = b64({ sub: 'x', exp: 1 })

function failure(token: string, code?: 'id_token_malformed'): CliError {
  try {
    decodeToken(token, code)
  } catch (error) {
    return error as CliError
  }
  throw new Error(`decodeToken(${token}) did not throw`)
}

describe('decodeToken()', () => {
  it('https://www.rfc-editor.org/rfc/rfc7519#section-7.2 a JWS: header, claims and the signature size', () => {
    expect(decodeToken(`${HEADER}.${PAYLOAD}.${b64('sig')}`)).toEqual({
      kind: 'jws',
      header: { alg: 'RS256', kid: 'k' },
      payload: { sub: 'x', exp: 1 },
      signature: { alg: 'RS256', bytes: 3 },
    })
  })

  it('https://www.rfc-editor.org/rfc/rfc7519#section-6.1 an unsecured JWT: alg none, empty signature', () => {
    expect(decodeToken(unsecured({ sub: 'x' }))).toEqual({
      kind: 'unsecured',
      header: { alg: 'none' },
      payload: { sub: 'x' },
      signature: { alg: 'none', bytes: 0 },
    })
  })

  it('https://www.rfc-editor.org/rfc/rfc7516#section-9 a JWE: only its protected header', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode('{}'))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(new Uint8Array(32))
    expect(decodeToken(jwe)).toEqual({
      kind: 'jwe',
      header: { alg: 'dir', enc: 'A256GCM' },
      payload: null,
      signature: null,
    })
  })

  it('anything not JWT-shaped is opaque: no dot, or not starting eyJ', () => {
    for (const token of ['KBSxkmG-OcpA6-cg', 'abc.def.ghi', 'eyJhbGciOiJSUzI1NiJ9']) {
      expect(decodeToken(token)).toEqual({
        kind: 'opaque',
        length: token.length,
        header: null,
        payload: null,
        signature: null,
      })
    }
  })

  it('security.md JD-2: 64 KiB is decoded, one character more is token_too_large', () => {
    expect(decodeToken('a'.repeat(MAX_TOKEN_LENGTH)).kind).toBe('opaque')
    const error = failure('a'.repeat(MAX_TOKEN_LENGTH + 1))
    expect([error.code, error.message, error.stage]).toEqual([
      'token_too_large',
      'the token is 65537 characters; the limit is 65536',
      'decode',
    ])
  })

  it('security.md JD-1: the example that lenient base64url decodes to {"alg":"none"} is refused', () => {
    const error = failure(`eyJh!!bGc*iOiJ@ub25lIn0.${PAYLOAD}.`)
    expect([error.code, error.message, error.stage]).toEqual([
      'token_malformed',
      'the header segment (#1) is not base64url',
      'decode',
    ])
  })

  it('each malformed shape names the segment and the reason', () => {
    const cases: [string, string][] = [
      [`${HEADER}.${PAYLOAD}`, 'the token has 2 segments; a JWS has 3 and a JWE 5'],
      [`${HEADER}.${PAYLOAD}.c2ln.eHg`, 'the token has 4 segments; a JWS has 3 and a JWE 5'],
      [`${b64({ alg: 'dir' })}.a.b.c.d`, 'the 5-segment token has no "enc" in its header'],
      [`${b64({ typ: 'JWT' })}.${PAYLOAD}.c2ln`, 'the header has no "alg"'],
      [
        `${HEADER}.${b64('"x"')}.c2ln`,
        'the payload segment is not a base64url-encoded JSON object',
      ],
      [`${HEADER}.${PAYLOAD}.`, 'the signature segment is empty although alg is "RS256"'],
      [
        `${b64({ alg: 'none' })}.${PAYLOAD}.c2ln`,
        'an alg "none" token must have an empty signature',
      ],
      [
        `${b64({ alg: 'none', x: JSON.parse('['.repeat(65) + ']'.repeat(65)) as unknown })}.${PAYLOAD}.`,
        'the header nests deeper than 64 levels',
      ],
    ]
    for (const [token, message] of cases) {
      expect([failure(token).code, failure(token).message]).toEqual(['token_malformed', message])
    }
  })

  it('a caller names its own code for a malformed token (an ID token is id_token_malformed)', () => {
    expect(failure(`${HEADER}.${PAYLOAD}`, 'id_token_malformed').code).toBe('id_token_malformed')
    expect(failure('a'.repeat(MAX_TOKEN_LENGTH + 1), 'id_token_malformed').code).toBe(
      'token_too_large',
    )
  })
})

describe('nestsTooDeep()', () => {
  const nest = (levels: number): unknown => {
    let value: unknown = 1
    for (let level = 0; level < levels; level++) value = [value]
    return value
  }

  it(`security.md JD-3: ${MAX_CLAIM_DEPTH} levels pass, one more does not`, () => {
    expect(nestsTooDeep(nest(MAX_CLAIM_DEPTH))).toBe(false)
    expect(nestsTooDeep(nest(MAX_CLAIM_DEPTH + 1))).toBe(true)
    expect(nestsTooDeep({ a: { b: nest(MAX_CLAIM_DEPTH - 1) } })).toBe(true)
  })

  it('200 000 levels, which JSON.stringify cannot print, are measured without overflowing', () => {
    expect(nestsTooDeep(nest(200_000))).toBe(true)
  })
})

describe('KEY_HEADERS', () => {
  it('https://www.rfc-editor.org/rfc/rfc7515#section-4.1.2 the four members that name or carry a key', () => {
    expect(KEY_HEADERS).toEqual(['jku', 'x5u', 'jwk', 'x5c'])
  })
})
