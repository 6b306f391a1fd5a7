import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import {
  challengeS256,
  checkCodeVerifier,
  generateCodeVerifier,
  generateRandomValue,
} from '../../src/oauth/pkce.js'

describe('PKCE', () => {
  it('challengeS256() https://www.rfc-editor.org/rfc/rfc7636#appendix-B', () => {
    expect(challengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    )
  })

  it('PK-1: generateCodeVerifier() makes 43 unreserved characters from 32 random bytes', () => {
    const asked: number[] = []
    const verifier = generateCodeVerifier((n) => {
      asked.push(n)
      return new Uint8Array(n).fill(0xfb)
    })
    expect(asked).toEqual([32])
    expect(verifier).toBe('-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s')
    expect(verifier).toMatch(/^[A-Za-z0-9\-._~]{43}$/)
  })

  it.each([
    [43, 32],
    [44, 33],
    [64, 48],
    [128, 96],
  ])(
    'generateCodeVerifier() of length %i draws %i random bytes, all of them used',
    (length, bytes) => {
      const asked: number[] = []
      const verifier = generateCodeVerifier((n) => {
        asked.push(n)
        return new Uint8Array(n).fill(7)
      }, length)
      expect(asked).toEqual([bytes])
      expect(verifier).toHaveLength(length)
      expect(verifier).toBe(
        Buffer.from(new Uint8Array(bytes).fill(7)).toString('base64url').slice(0, length),
      )
    },
  )

  it.each([42, 129, 50.5])('generateCodeVerifier() refuses length %s', (length) => {
    expect(() => generateCodeVerifier((n) => new Uint8Array(n), length)).toThrow(
      expect.objectContaining({ code: 'code_verifier_invalid' }),
    )
  })

  it('PK-2: checkCodeVerifier() rejects characters outside the unreserved set (RFC 7636 §4.1)', () => {
    const error = (() => {
      try {
        checkCodeVerifier(`${'a'.repeat(42)}+`)
      } catch (caught) {
        return caught as CliError
      }
      return undefined
    })()
    expect(error?.code).toBe('code_verifier_invalid')
    expect(error?.exitCode).toBe(2)
    expect(error?.message).toBe('a code_verifier may contain only A-Z, a-z, 0-9 and "-._~"')
  })

  it('checkCodeVerifier() accepts all four unreserved punctuation marks', () => {
    const verifier = `${'a'.repeat(39)}-._~`
    expect(checkCodeVerifier(verifier)).toBe(verifier)
  })
})

describe('generateRandomValue()', () => {
  it('SN-1: state and nonce are 32 CSPRNG bytes, base64url (43 characters)', () => {
    const asked: number[] = []
    const value = generateRandomValue((n) => {
      asked.push(n)
      return new Uint8Array(n).fill(255)
    })
    expect(asked).toEqual([32])
    expect(value).toBe('__________________________________________8')
  })
})
