import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  curveAlgorithm,
  joseCurve,
  jwkAlgorithms,
  keyObjectAlgorithms,
  MIN_RSA_BITS,
  SIGNING_ALGORITHMS,
  PRIVATE_MEMBERS,
  publicPart,
  RSA_ALGORITHMS,
} from '../../src/jwt/algorithms.js'

describe('curveAlgorithm()', () => {
  it('https://www.rfc-editor.org/rfc/rfc7518#section-3.4: one ECDSA algorithm per curve', () => {
    expect(curveAlgorithm('P-256')).toBe('ES256')
    expect(curveAlgorithm('P-384')).toBe('ES384')
    expect(curveAlgorithm('P-521')).toBe('ES512')
  })

  it('OpenSSL names, other curves, inherited keys and non-strings have none', () => {
    expect(curveAlgorithm('secp384r1')).toBeUndefined()
    expect(curveAlgorithm('secp256k1')).toBeUndefined()
    expect(curveAlgorithm('constructor')).toBeUndefined()
    expect(curveAlgorithm(undefined)).toBeUndefined()
    expect(curveAlgorithm(256)).toBeUndefined()
  })
})

describe('joseCurve()', () => {
  it('https://www.rfc-editor.org/rfc/rfc4492#appendix-A: OpenSSL names to JOSE names', () => {
    expect(joseCurve('prime256v1')).toBe('P-256')
    expect(joseCurve('secp384r1')).toBe('P-384')
    expect(joseCurve('secp521r1')).toBe('P-521')
  })

  it('what Node reports for each generated curve', () => {
    const named = (curve: string): string | undefined =>
      generateKeyPairSync('ec', { namedCurve: curve }).privateKey.asymmetricKeyDetails?.namedCurve
    expect(['P-256', 'P-384', 'P-521'].map((curve) => joseCurve(named(curve)))).toEqual([
      'P-256',
      'P-384',
      'P-521',
    ])
  })

  it('JOSE names, secp256k1 and no curve map to nothing', () => {
    expect(joseCurve('P-256')).toBeUndefined()
    expect(joseCurve('secp256k1')).toBeUndefined()
    expect(joseCurve(undefined)).toBeUndefined()
  })
})

describe('jwkAlgorithms()', () => {
  it('https://www.rfc-editor.org/rfc/rfc7518#section-3.1: RSA signs with RS* and PS*, RS256 first', () => {
    expect(jwkAlgorithms({ kty: 'RSA' })).toEqual([
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
    ])
    expect(RSA_ALGORITHMS).toEqual(jwkAlgorithms({ kty: 'RSA' }))
  })

  it('EC keys sign with their curve’s algorithm only', () => {
    expect(jwkAlgorithms({ kty: 'EC', crv: 'P-256' })).toEqual(['ES256'])
    expect(jwkAlgorithms({ kty: 'EC', crv: 'P-384' })).toEqual(['ES384'])
    expect(jwkAlgorithms({ kty: 'EC', crv: 'P-521' })).toEqual(['ES512'])
  })

  it('https://www.rfc-editor.org/rfc/rfc8037#section-3.1: Ed25519 signs with EdDSA (and Ed25519, RFC 9864)', () => {
    expect(jwkAlgorithms({ kty: 'OKP', crv: 'Ed25519' })).toEqual(['EdDSA', 'Ed25519'])
  })

  it('keys pkce does not sign with have none', () => {
    expect(jwkAlgorithms({ kty: 'EC', crv: 'secp256k1' })).toEqual([])
    expect(jwkAlgorithms({ kty: 'EC', crv: 'secp384r1' })).toEqual([])
    expect(jwkAlgorithms({ kty: 'EC' })).toEqual([])
    expect(jwkAlgorithms({ kty: 'OKP', crv: 'Ed448' })).toEqual([])
    expect(jwkAlgorithms({ kty: 'OKP', crv: 'X25519' })).toEqual([])
    expect(jwkAlgorithms({ kty: 'oct' })).toEqual([])
    expect(jwkAlgorithms({})).toEqual([])
  })
})

describe('keyObjectAlgorithms()', () => {
  it('maps each node:crypto key type and OpenSSL curve', () => {
    expect(keyObjectAlgorithms('rsa', undefined)).toEqual(RSA_ALGORITHMS)
    expect(keyObjectAlgorithms('ec', 'prime256v1')).toEqual(['ES256'])
    expect(keyObjectAlgorithms('ec', 'secp384r1')).toEqual(['ES384'])
    expect(keyObjectAlgorithms('ec', 'secp521r1')).toEqual(['ES512'])
    expect(keyObjectAlgorithms('ed25519', undefined)).toEqual(['EdDSA', 'Ed25519'])
  })

  it('types and curves pkce does not sign with have none', () => {
    expect(keyObjectAlgorithms('rsa-pss', undefined)).toEqual([])
    expect(keyObjectAlgorithms('ec', 'secp256k1')).toEqual([])
    expect(keyObjectAlgorithms('ec', undefined)).toEqual([])
    expect(keyObjectAlgorithms('ed448', undefined)).toEqual([])
    expect(keyObjectAlgorithms('x25519', undefined)).toEqual([])
    expect(keyObjectAlgorithms('dsa', undefined)).toEqual([])
    expect(keyObjectAlgorithms(undefined, undefined)).toEqual([])
  })
})

describe('publicPart() and PRIVATE_MEMBERS', () => {
  it('https://www.rfc-editor.org/rfc/rfc7518#section-6.2: keeps kty, crv, x, y of an EC key', () => {
    expect(
      publicPart({
        kty: 'EC',
        crv: 'P-384',
        x: 'the-x',
        y: 'the-y',
        d: 'the-d',
        kid: 'k1',
        alg: 'ES384',
        use: 'sig',
      }),
    ).toEqual({ kty: 'EC', crv: 'P-384', x: 'the-x', y: 'the-y' })
  })

  it('https://www.rfc-editor.org/rfc/rfc7518#section-6.3: keeps n and e of an RSA key, none of its private members', () => {
    const jwk = {
      kty: 'RSA',
      n: 'the-n',
      e: 'AQAB',
      d: 'd',
      p: 'p',
      q: 'q',
      dp: 'dp',
      dq: 'dq',
      qi: 'qi',
    }
    expect(publicPart(jwk)).toEqual({ kty: 'RSA', n: 'the-n', e: 'AQAB' })
    expect(
      Object.keys(jwk).filter((name) => (PRIVATE_MEMBERS as readonly string[]).includes(name)),
    ).toEqual(['d', 'p', 'q', 'dp', 'dq', 'qi'])
  })

  it('https://www.rfc-editor.org/rfc/rfc8037#section-2: keeps kty, crv, x of an OKP key', () => {
    expect(publicPart({ kty: 'OKP', crv: 'Ed25519', x: 'the-x', d: 'the-d' })).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: 'the-x',
    })
  })

  it('a symmetric key has no public part, and its k is private', () => {
    expect(publicPart({ kty: 'oct', k: 'shared' })).toEqual({ kty: 'oct' })
    expect(PRIVATE_MEMBERS).toContain('k')
  })
})

describe('SIGNING_ALGORITHMS', () => {
  it('https://www.rfc-editor.org/rfc/rfc9449#section-4.2: asymmetric JWS algorithms only', () => {
    expect(SIGNING_ALGORITHMS).toEqual([
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
      'ES256',
      'ES384',
      'ES512',
      'EdDSA',
      'Ed25519',
    ])
  })
})

describe('MIN_RSA_BITS', () => {
  it('https://www.rfc-editor.org/rfc/rfc7518#section-3.3: 2048', () => {
    expect(MIN_RSA_BITS).toBe(2048)
  })
})
