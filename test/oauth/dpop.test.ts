import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
} from 'jose'
import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { createDpopKey, createDpopProof, DpopNonces, sendWithDpop } from '../../src/oauth/dpop.js'

const now = new Date('2026-11-24T12:00:00Z')
const url = new URL('https://tenant.example.com/oauth/token?x=1#frag')

function nonceDemand(nonce: string | undefined): Response {
  return new Response(
    JSON.stringify({
      error: 'use_dpop_nonce',
      error_description: 'Authorization server requires nonce in DPoP proof',
    }),
    {
      status: 400,
      headers: {
        'content-type': 'application/json',
        ...(nonce === undefined ? {} : { 'dpop-nonce': nonce }),
      },
    },
  )
}
const ok = (): Response =>
  new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })

describe('createDpopProof() https://www.rfc-editor.org/rfc/rfc9449#section-4.2', () => {
  it('DP-1, DP-2, DP-3: exactly the header and claims of RFC 9449 §4.2, public key only, signed', async () => {
    const key = await createDpopKey('ES256')
    const { proof, record } = await createDpopProof(
      key,
      { method: 'POST', url, nonce: 'n-1', accessToken: 'AT' },
      now,
      'jti-1',
    )
    expect(decodeProtectedHeader(proof)).toEqual({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: key.publicJwk,
    })
    expect(Object.keys(key.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y'])
    expect(decodeJwt(proof)).toEqual({
      jti: 'jti-1',
      htm: 'POST',
      htu: 'https://tenant.example.com/oauth/token',
      iat: 1_795_521_600,
      nonce: 'n-1',
      // base64url(SHA-256("AT"))
      ath: '61RCcFlp3I2l36yPlljcaKzatbt2Nbp8xVHjiUFqw04',
    })
    expect(record.claims.htu).toBe('https://tenant.example.com/oauth/token')
    await expect(
      jwtVerify(proof, await importJWK(key.publicJwk, 'ES256'), { typ: 'dpop+jwt' }),
    ).resolves.toBeDefined()
    expect(key.jkt).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'))
  })

  it('omits nonce and ath when there are none', async () => {
    const key = await createDpopKey('ES256')
    const { proof } = await createDpopProof(key, { method: 'GET', url, nonce: undefined }, now, 'j')
    expect(Object.keys(decodeJwt(proof))).toEqual(['jti', 'htm', 'htu', 'iat'])
  })
})

describe('sendWithDpop() https://www.rfc-editor.org/rfc/rfc9449#section-8', () => {
  const clock = (() => {
    let n = 0
    return { now: () => now, jti: () => `jti-${++n}` }
  })()

  it('DP-4, DP-5: retries exactly once with the nonce the server sent, and a new jti', async () => {
    const key = await createDpopKey('ES256')
    const proofs: string[] = []
    const answers = [nonceDemand('server-nonce'), ok()]
    const result = await sendWithDpop(
      key,
      new DpopNonces(),
      { method: 'POST', url, stage: 'token' },
      (proof) => {
        proofs.push(proof)
        return Promise.resolve(answers.shift() as Response)
      },
      clock,
    )
    expect(result.nonceRetries).toBe(1)
    expect(proofs).toHaveLength(2)
    expect(decodeJwt(proofs[0] ?? '').nonce).toBeUndefined()
    expect(decodeJwt(proofs[1] ?? '').nonce).toBe('server-nonce')
    expect(decodeJwt(proofs[0] ?? '').jti).not.toBe(decodeJwt(proofs[1] ?? '').jti)
  })

  it('a second demand after the retry is dpop_nonce_loop, exit 3, after two requests only', async () => {
    const key = await createDpopKey('ES256')
    let sent = 0
    const answers = [nonceDemand('a'), nonceDemand('b'), ok()]
    const error = await sendWithDpop(
      key,
      new DpopNonces(),
      { method: 'POST', url, stage: 'token' },
      () => {
        sent += 1
        return Promise.resolve(answers.shift() as Response)
      },
      clock,
    ).catch((caught: unknown) => caught as CliError)
    expect(sent).toBe(2)
    expect((error as CliError).code).toBe('dpop_nonce_loop')
    expect((error as CliError).exitCode).toBe(3)
  })

  it.each([
    ['no DPoP-Nonce header', undefined, 'sent no DPoP-Nonce header'],
    ['the same nonce again', 'same', 'sent the same nonce again'],
  ])('a demand with %s fails with dpop_nonce_invalid', async (_case, nonce, message) => {
    const key = await createDpopKey('ES256')
    const nonces = new DpopNonces()
    if (nonce !== undefined)
      nonces.remember(url, new Response(null, { headers: { 'dpop-nonce': nonce } }))
    const error = (await sendWithDpop(
      key,
      nonces,
      { method: 'POST', url, stage: 'par' },
      () => Promise.resolve(nonceDemand(nonce)),
      clock,
    ).catch((caught: unknown) => caught)) as CliError
    expect(error.code).toBe('dpop_nonce_invalid')
    expect(error.stage).toBe('par')
    expect(error.message).toBe(
      `https://tenant.example.com/oauth/token demanded a DPoP nonce but ${message}`,
    )
  })

  it('remembers a nonce from a successful response for the next request to that origin', () => {
    const nonces = new DpopNonces()
    nonces.remember(url, new Response(null, { headers: { 'dpop-nonce': 'fresh' } }))
    expect(nonces.get(new URL('https://tenant.example.com/oauth/par'))).toBe('fresh')
    expect(nonces.get(new URL('https://other.example.com/'))).toBeUndefined()
  })
})
