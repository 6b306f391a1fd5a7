import { CompactEncrypt, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose'
import type { CryptoKey, JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import type { Check } from '../../src/jwt/verify.js'
import {
  allowedJarmAlgorithms,
  jarmResponseParameter,
  verifyJarmResponse,
} from '../../src/oauth/jarm.js'

const ISSUER = 'https://as.example.com/'
const CLIENT = 'client-1'
const NOW = new Date('2026-12-04T12:00:00Z')
const now = Math.floor(NOW.getTime() / 1000)

let key: CryptoKey
let other: CryptoKey
let jwk: JWK

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true })
  key = pair.privateKey
  other = (await generateKeyPair('RS256')).privateKey
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
})

function sign(claims: Record<string, unknown>, signWith: CryptoKey = key): Promise<string> {
  return new SignJWT({
    iss: ISSUER,
    aud: CLIENT,
    exp: now + 60,
    code: 'the-code',
    state: 'the-state',
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .sign(signWith)
}

function verify(response: string, checks: Check[] = []) {
  return verifyJarmResponse(
    response,
    {
      issuer: ISSUER,
      clientId: CLIENT,
      supportedAlgorithms: ['RS256'],
      keys: () => Promise.resolve({ keys: [jwk] }),
      now: NOW,
      clockToleranceSeconds: 60,
    },
    checks,
  )
}

async function failure(response: Promise<string> | string): Promise<Record<string, unknown>> {
  const checks: Check[] = []
  try {
    await verify(await response, checks)
  } catch (error) {
    const { code, message, stage } = error as CliError
    return { code, message, stage, failed: checks.filter((c) => !c.ok).map((c) => c.name) }
  }
  throw new Error('expected a failure')
}

describe('verifyJarmResponse() https://openid.net/specs/oauth-v2-jarm.html#section-2.4', () => {
  it('verifies signature, iss, aud and exp, each a named check, and returns the response inside', async () => {
    const checks: Check[] = []
    const result = await verify(await sign({ iss: ISSUER }), checks)
    expect(checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}`)).toEqual([
      '✓ callback.jarm.format',
      '✓ callback.jarm.alg',
      '✓ callback.jarm.signature',
      '✓ callback.jarm.iss',
      '✓ callback.jarm.aud',
      '✓ callback.jarm.exp',
    ])
    expect([...result.params]).toEqual([
      ['iss', ISSUER],
      ['code', 'the-code'],
      ['state', 'the-state'],
    ])
    expect(result.header).toEqual({ alg: 'RS256', kid: 'k1' })
  })

  it('a bad signature is jarm_signature_invalid', async () => {
    expect(await failure(sign({}, other))).toEqual({
      code: 'jarm_signature_invalid',
      message:
        'callback.jarm: signature check failed: the signature does not verify with the issuer key',
      stage: 'callback',
      failed: ['callback.jarm.signature'],
    })
  })

  it('another issuer is jarm_issuer_invalid', async () => {
    expect(await failure(sign({ iss: 'https://evil.example.com/' }))).toMatchObject({
      code: 'jarm_issuer_invalid',
      message:
        'callback.jarm: iss check failed: iss is "https://evil.example.com/" (expected https://as.example.com/)',
      failed: ['callback.jarm.iss'],
    })
  })

  it('another audience is jarm_audience_invalid', async () => {
    expect(await failure(sign({ aud: 'someone-else' }))).toMatchObject({
      code: 'jarm_audience_invalid',
      message:
        'callback.jarm: aud check failed: aud is "someone-else" (expected to contain client-1)',
    })
  })

  it('several audiences are refused: aud must be the client id', async () => {
    expect(await failure(sign({ aud: [CLIENT, 'other'] }))).toMatchObject({
      code: 'jarm_audience_invalid',
      message: 'callback.jarm: aud check failed: aud has 2 audiences; JARM requires the client id',
    })
  })

  it('an expired response (past exp + tolerance) is jarm_expired', async () => {
    expect(await failure(sign({ exp: now - 61 }))).toMatchObject({
      code: 'jarm_expired',
      failed: ['callback.jarm.exp'],
    })
    // Within the tolerance it passes.
    await expect(verify(await sign({ exp: now - 59 }))).resolves.toBeDefined()
  })

  it('alg none is jarm_alg_not_allowed, whatever the metadata says', async () => {
    const unsecured = new UnsecuredJWT({
      iss: ISSUER,
      aud: CLIENT,
      exp: now + 60,
      code: 'c',
    }).encode()
    expect(await failure(unsecured)).toEqual({
      code: 'jarm_alg_not_allowed',
      message: 'callback.jarm: alg check failed: "none" is not one of RS256',
      stage: 'callback',
      failed: ['callback.jarm.alg'],
    })
    expect(allowedJarmAlgorithms(['none', 'HS256', 'ES256'])).toEqual(['ES256'])
    expect(allowedJarmAlgorithms(['none'])).toEqual(['RS256'])
    expect(allowedJarmAlgorithms(undefined)).toEqual(['RS256'])
  })

  it('an HS256 response is refused: a public key is never an HMAC secret', async () => {
    const hs = await new SignJWT({ iss: ISSUER, aud: CLIENT, exp: now + 60, code: 'c' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a'.repeat(32)))
    expect(await failure(hs)).toMatchObject({ code: 'jarm_alg_not_allowed' })
  })

  it('an encrypted (JWE) response with no decryption key is jarm_encrypted, exit 4', async () => {
    const pair = await generateKeyPair('RSA-OAEP-256')
    const jwe = await new CompactEncrypt(new TextEncoder().encode('{}'))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })
      .encrypt(pair.publicKey)
    expect(await failure(jwe)).toEqual({
      code: 'jarm_encrypted',
      message:
        'the JARM response is encrypted (JWE, alg RSA-OAEP-256, enc A256GCM) and pkce has no client decryption key',
      stage: 'callback',
      failed: ['callback.jarm.format'],
    })
  })

  it('a claim that is not a string is refused', async () => {
    expect(await failure(sign({ code: 42 }))).toMatchObject({
      code: 'jarm_invalid',
      message: 'callback.jarm: claims check failed: the claim "code" is not a string',
    })
  })
})

describe('jarmResponseParameter() (docs/security.md RM-3)', () => {
  function refusal(query: string): { code: string; message: string } {
    try {
      jarmResponseParameter(new URLSearchParams(query), 'jwt')
    } catch (error) {
      const { code, message } = error as CliError
      return { code, message }
    }
    throw new Error('expected a failure')
  }

  it('returns the one response parameter', () => {
    expect(jarmResponseParameter(new URLSearchParams('response=a.b.c'), 'jwt')).toBe('a.b.c')
  })

  it('code beside response is unexpected_response_parameter: outside the JWT nothing is signed', () => {
    expect(refusal('response=a.b.c&code=injected')).toEqual({
      code: 'unexpected_response_parameter',
      message:
        'the callback carries "code" beside the JARM response; with response_mode=jwt everything comes inside the signed JWT',
    })
  })

  it('a repeated response is duplicate_parameter; none at all is jarm_invalid', () => {
    expect(refusal('response=a&response=b').code).toBe('duplicate_parameter')
    // A plain response where JARM was asked for: the server ignored response_mode.
    expect(refusal('code=c&state=s').code).toBe('jarm_invalid')
    expect(refusal('')).toEqual({
      code: 'jarm_invalid',
      message:
        'the callback carries no JARM response parameter although response_mode=jwt was asked for',
    })
  })
})
