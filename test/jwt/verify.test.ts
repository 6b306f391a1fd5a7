import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { CheckList, ID_TOKEN_CODES, verifyJwt } from '../../src/jwt/verify.js'
import type { Check } from '../../src/jwt/verify.js'
import { signRs256 } from '../helpers/jwt-fixtures.js'

describe('verifyJwt()', () => {
  it('MD-5: an RSA key under 2048 bits is weak_key, exit 4, not a crash', async () => {
    // jose refuses to sign with such a key too, so the token is signed by hand.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const header = { alg: 'RS256', kid: 'small' }
    const payload = {
      iss: 'https://as.example/',
      sub: 'u',
      aud: 'c',
      exp: 2_000_000_000,
      iat: 1_795_521_600,
    }
    const token = signRs256(header, payload, privateKey)
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'small', alg: 'RS256', use: 'sig' }
    const checks: Check[] = []
    const error = await verifyJwt(
      token,
      header,
      payload,
      {
        keys: () => Promise.resolve({ keys: [jwk] }),
        algorithms: ['RS256'],
        issuer: 'https://as.example/',
        audience: 'c',
        now: new Date('2026-11-24T12:00:00Z'),
        clockToleranceSeconds: 60,
        typ: [undefined],
        requiredClaims: [],
      },
      new CheckList(checks, ID_TOKEN_CODES, 'id_token'),
    ).catch((caught: unknown) => caught as CliError)
    expect((error as CliError).code).toBe('weak_key')
    expect((error as CliError).exitCode).toBe(4)
    expect(checks.at(-1)).toEqual({
      name: 'id_token.key_size',
      ok: false,
      detail: 'the RSA key is shorter than 2048 bits',
    })
  })
})
