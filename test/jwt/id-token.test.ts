import { CompactEncrypt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { JWK, JWTPayload } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { validateIdToken } from '../../src/jwt/id-token.js'
import type { IdTokenExpectations } from '../../src/jwt/id-token.js'
import { accessTokenHash, CheckList, ID_TOKEN_CODES } from '../../src/jwt/verify.js'
import type { Check } from '../../src/jwt/verify.js'

const issuer = 'https://tenant.example.com/'
const now = new Date('2026-11-24T12:00:00Z')
const seconds = Math.floor(now.getTime() / 1000)
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
let jwk: JWK

beforeAll(async () => {
  const pair = await generateKeyPair('RS256')
  privateKey = pair.privateKey
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
})

const claims = (extra: JWTPayload = {}): JWTPayload => ({
  iss: issuer,
  sub: 'auth0|user',
  aud: 'client-1',
  exp: seconds + 3600,
  iat: seconds - 10,
  nonce: 'n-1',
  ...extra,
})

function sign(payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1', ...header })
    .sign(privateKey)
}

function expectations(extra: Partial<IdTokenExpectations> = {}): IdTokenExpectations {
  return {
    issuer,
    clientId: 'client-1',
    nonce: 'n-1',
    algorithms: ['RS256'],
    keys: () => Promise.resolve({ keys: [jwk] }),
    now,
    clockToleranceSeconds: 60,
    accessToken: 'access-token-value',
    maxAgeSeconds: undefined,
    flowStartedAt: new Date(now.getTime() - 5000),
    ...extra,
  }
}

async function failure(
  token: string,
  extra: Partial<IdTokenExpectations> = {},
): Promise<{ error: CliError; last: Check | undefined }> {
  const checks: Check[] = []
  const error = await validateIdToken(
    token,
    expectations(extra),
    new CheckList(checks, ID_TOKEN_CODES, 'id_token'),
  ).then(
    () => {
      throw new Error('expected a failure')
    },
    (caught: unknown) => caught as CliError,
  )
  return { error, last: checks.at(-1) }
}

describe('validateIdToken() https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation', () => {
  it('passes a valid token, each check named in order', async () => {
    const checks: Check[] = []
    await validateIdToken(
      await sign(claims()),
      expectations(),
      new CheckList(checks, ID_TOKEN_CODES, 'id_token'),
    )
    expect(checks.map((check) => check.name)).toEqual([
      'id_token.format',
      'id_token.alg',
      'id_token.signature',
      'id_token.iss',
      'id_token.aud',
      'id_token.exp',
      'id_token.iat',
      'id_token.sub',
      'id_token.nonce',
    ])
    expect(checks.every((check) => check.ok)).toBe(true)
  })

  it('IT-4: an encrypted (JWE) ID token is id_token_malformed, not decrypted', async () => {
    const token = await new CompactEncrypt(new TextEncoder().encode('{}'))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(new Uint8Array(32))
    const { error, last } = await failure(token)
    expect(error.code).toBe('id_token_malformed')
    expect(last).toEqual({
      name: 'id_token.format',
      ok: false,
      detail: 'the ID token is encrypted (JWE); pkce does not decrypt ID tokens',
    })
  })

  it('IT-8: a sub over 255 characters fails the sub check', async () => {
    const { error, last } = await failure(await sign(claims({ sub: 'x'.repeat(256) })))
    expect(error.code).toBe('id_token_claim_invalid')
    expect(last?.name).toBe('id_token.sub')
  })

  it('IT-11: with max_age, a missing auth_time fails', async () => {
    const { error, last } = await failure(await sign(claims()), { maxAgeSeconds: 300 })
    expect(error.code).toBe('id_token_auth_time_invalid')
    expect(last).toEqual({
      name: 'id_token.auth_time',
      ok: false,
      detail: 'missing although max_age was sent',
    })
  })

  it('IT-11: an authentication older than max_age fails; a recent one passes', async () => {
    const old = await failure(await sign(claims({ auth_time: seconds - 1000 })), {
      maxAgeSeconds: 300,
    })
    expect(old.error.code).toBe('id_token_auth_time_invalid')
    const checks: Check[] = []
    await validateIdToken(
      await sign(claims({ auth_time: seconds - 100 })),
      expectations({ maxAgeSeconds: 300 }),
      new CheckList(checks, ID_TOKEN_CODES, 'id_token'),
    )
    expect(checks.at(-1)).toEqual({
      name: 'id_token.auth_time',
      ok: true,
      detail: 'within max_age 300s',
    })
  })

  it('IT-12: typ at+jwt (an access token passed off as an ID token) fails', async () => {
    const { error, last } = await failure(await sign(claims(), { typ: 'at+jwt' }))
    expect(error.code).toBe('id_token_typ_invalid')
    expect(last?.name).toBe('id_token.typ')
  })

  it('IT-10: an at_hash that does not match the access token fails; a matching one passes', async () => {
    const wrong = await failure(await sign(claims({ at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' })))
    expect(wrong.error.code).toBe('id_token_at_hash_invalid')
    const checks: Check[] = []
    const atHash = accessTokenHash('access-token-value', 'RS256')
    await validateIdToken(
      await sign(claims({ at_hash: atHash })),
      expectations(),
      new CheckList(checks, ID_TOKEN_CODES, 'id_token'),
    )
    expect(checks.at(-1)).toEqual({
      name: 'id_token.at_hash',
      ok: true,
      detail: 'matches the access token',
    })
  })

  it('IT-6: several audiences without azp fail; azp must be the client', async () => {
    const several = await failure(await sign(claims({ aud: ['client-1', 'other'] })))
    expect(several.error.code).toBe('id_token_audience_invalid')
    expect(several.last?.name).toBe('id_token.azp')
    const wrongAzp = await failure(await sign(claims({ azp: 'other' })))
    expect(wrongAzp.last).toEqual({
      name: 'id_token.azp',
      ok: false,
      detail: 'azp "other" is not the client id',
    })
  })

  it('SN-4: a nonce in the token when none was sent fails', async () => {
    const { error } = await failure(await sign(claims()), { nonce: undefined })
    expect(error.code).toBe('id_token_nonce_invalid')
  })

  it('D-5: an iat far in the future fails; an old one only warns', async () => {
    const future = await failure(await sign(claims({ iat: seconds + 3600 })))
    expect(future.last?.name).toBe('id_token.iat')
    const checks: Check[] = []
    const result = await validateIdToken(
      await sign(claims({ iat: seconds - 7200 })),
      expectations(),
      new CheckList(checks, ID_TOKEN_CODES, 'id_token'),
    )
    expect(result.warnings).toEqual([
      {
        code: 'id_token_iat_old',
        message: 'the ID token was issued 7195s before this run started',
      },
    ])
  })
})
