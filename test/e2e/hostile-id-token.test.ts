import { describe, expect, it } from 'vitest'
import { expectFailure, loginAgainst, sendJson } from '../helpers/hostile-server.js'
import type { HostileOptions, IdTokenTamper, LoginRun } from '../helpers/hostile-server.js'

const JWKS = '/.well-known/jwks.json'

interface Check {
  name: string
  ok: boolean
  detail: string
}

/** The failure document's checks end with the failed one; every earlier one passed. */
function expectFailedCheckLast(run: LoginRun, name: string, detail: string | RegExp): void {
  const checks = run.doc.checks as Check[]
  const last = checks.at(-1)
  expect(last?.name).toBe(name)
  expect(last?.ok).toBe(false)
  if (typeof detail === 'string') expect(last?.detail).toBe(detail)
  else expect(last?.detail).toMatch(detail)
  expect(checks.slice(0, -1).every((check) => check.ok)).toBe(true)
  expect(checks[0]?.name).toBe('callback.state')
  expect(run.server.count('POST', '/oauth/token')).toBe(1)
}

const idToken = (tamper: IdTokenTamper): HostileOptions => ({ idToken: tamper })

describe.concurrent('pkce login against a hostile server: the ID token', () => {
  it('IT-1: signed with another key under the published kid is id_token_signature_invalid, exit 4', async () => {
    const run = await loginAgainst(idToken({ signWith: 'other-key' }))
    expectFailure(
      run,
      4,
      'id_token_signature_invalid',
      'id_token: signature check failed: the signature does not verify with the issuer key',
    )
    expectFailedCheckLast(
      run,
      'id_token.signature',
      'the signature does not verify with the issuer key',
    )
  })

  it('IT-2: alg none is id_token_alg_not_allowed, exit 4', async () => {
    const run = await loginAgainst(idToken({ signWith: 'none' }))
    expectFailure(
      run,
      4,
      'id_token_alg_not_allowed',
      'id_token: alg check failed: "none" is not one of RS256',
    )
    expectFailedCheckLast(run, 'id_token.alg', '"none" is not one of RS256')
    expect(run.server.count('GET', JWKS)).toBe(0)
  })

  for (const signWith of ['hs256-pem', 'hs256-jwk'] as const) {
    it(`IT-2: HS256 keyed with the issuer's public key (${signWith.slice(6).toUpperCase()}) is id_token_alg_not_allowed, exit 4`, async () => {
      const run = await loginAgainst({
        idToken: { signWith },
        // Even a server that lists HS256 never gets its public key used as an HMAC secret.
        metadata: (m) => ({ ...m, id_token_signing_alg_values_supported: ['RS256', 'HS256'] }),
      })
      expectFailure(
        run,
        4,
        'id_token_alg_not_allowed',
        'id_token: alg check failed: "HS256" is not one of RS256',
      )
      expectFailedCheckLast(run, 'id_token.alg', '"HS256" is not one of RS256')
    })
  }

  it('IT-6: another audience is id_token_audience_invalid, exit 4', async () => {
    const run = await loginAgainst(idToken({ claims: { aud: 'someone-else' } }))
    expectFailure(
      run,
      4,
      'id_token_audience_invalid',
      'id_token: aud check failed: aud is "someone-else" (expected to contain c1)',
    )
    expectFailedCheckLast(run, 'id_token.aud', 'aud is "someone-else" (expected to contain c1)')
  })

  it('IT-5: another issuer (no trailing slash) is id_token_issuer_invalid, exit 4', async () => {
    const run = await loginAgainst(idToken({ claims: (origin) => ({ iss: origin }) }))
    const detail = `iss is "${run.server.origin}" (expected ${run.server.issuer})`
    expectFailure(run, 4, 'id_token_issuer_invalid', `id_token: iss check failed: ${detail}`)
    expectFailedCheckLast(run, 'id_token.iss', detail)
  })

  it('IT-9, SN-4: another nonce is id_token_nonce_invalid, exit 4', async () => {
    const run = await loginAgainst(idToken({ claims: { nonce: 'replayed-nonce' } }))
    expectFailure(
      run,
      4,
      'id_token_nonce_invalid',
      'id_token: nonce check failed: does not equal the nonce sent',
    )
    expectFailedCheckLast(run, 'id_token.nonce', 'does not equal the nonce sent')
  })

  it('IT-9, SN-4: a missing nonce is id_token_nonce_invalid, exit 4', async () => {
    const run = await loginAgainst(idToken({ claims: { nonce: undefined } }))
    expectFailure(run, 4, 'id_token_nonce_invalid', 'id_token: nonce check failed: missing')
    expectFailedCheckLast(run, 'id_token.nonce', 'missing')
  })

  it('IT-7, D-5: expired beyond the 60 s tolerance is id_token_expired, exit 4', async () => {
    const exp = Math.floor(Date.now() / 1000) - 3600
    const run = await loginAgainst(idToken({ claims: { exp, iat: exp - 60 } }))
    const expired = new Date(exp * 1000).toISOString().replace('.000Z', 'Z')
    const error = expectFailure(
      run,
      4,
      'id_token_expired',
      new RegExp(
        `^id_token: exp check failed: expired at ${expired} \\(now \\S+Z, tolerance 60s\\)$`,
        'u',
      ),
    )
    expect(error.hint).toBe('raise --clock-tolerance only if your clock is off')
    expectFailedCheckLast(run, 'id_token.exp', new RegExp(`^expired at ${expired} `, 'u'))
  })

  it('MD-4, HC-5: an unknown kid refetches the JWKS exactly once, then no_matching_key, exit 4', async () => {
    const run = await loginAgainst(idToken({ kid: 'rotated-away' }))
    expectFailure(
      run,
      4,
      'no_matching_key',
      'id_token: key check failed: no key in the issuer JWKS matches the token (kid, kty, alg), even after a refetch',
    )
    expect(run.server.count('GET', JWKS)).toBe(2)
    expectFailedCheckLast(
      run,
      'id_token.key',
      'no key in the issuer JWKS matches the token (kid, kty, alg), even after a refetch',
    )
  })

  it('MD-4, HC-5: a key that appears on the refetch (rotation) verifies after exactly one refetch', async () => {
    let served = 0
    const run = await loginAgainst({
      jwks: (_request, response, server) => {
        served += 1
        // The first answer predates the rotation.
        sendJson(response, 200, served === 1 ? { keys: [] } : server.jwks())
      },
    })
    expect(run.code).toBe(0)
    expect(run.server.count('GET', JWKS)).toBe(2)
    expect(run.doc.checks).toContainEqual({
      name: 'id_token.signature',
      ok: true,
      detail: "verified with the issuer's RS256 key (kid hostile-key-1)",
    })
  })

  it('HC-3, MD-3: a redirect from jwks_uri is unexpected_redirect, exit 4, not followed', async () => {
    const run = await loginAgainst({
      jwks: (_request, response, server) => {
        response.writeHead(302, { location: `${server.origin}/elsewhere.json` }).end()
      },
    })
    expectFailure(
      run,
      4,
      'unexpected_redirect',
      `the JWKS endpoint answered HTTP 302 redirecting to ${run.server.origin}/elsewhere.json; redirects are not followed`,
    )
    expect(run.server.count('GET', '/elsewhere.json')).toBe(0)
  })

  it('JD-3: validly signed claims nested 12 000 deep are id_token_malformed, exit 4, not a crash', async () => {
    const deep = `${'['.repeat(12_000)}${']'.repeat(12_000)}`
    const run = await loginAgainst(
      idToken({ payloadText: (json) => json.replace(/\}$/u, `,"deep":${deep}}`) }),
    )
    expectFailure(
      run,
      4,
      'id_token_malformed',
      'id_token: format check failed: the payload nests deeper than 64 levels',
    )
    expectFailedCheckLast(run, 'id_token.format', 'the payload nests deeper than 64 levels')
  })

  it('TK-2: no id_token although openid was requested is id_token_missing, exit 4', async () => {
    const run = await loginAgainst(idToken({ omit: true }))
    expectFailure(
      run,
      4,
      'id_token_missing',
      'the token response has no id_token although openid was requested',
    )
    expect(run.doc.checks).toEqual([
      { name: 'callback.state', ok: true, detail: 'equals the state sent' },
      {
        name: 'id_token.present',
        ok: false,
        detail: 'the token response has no id_token although openid was requested',
      },
    ])
    expect(run.server.count('GET', JWKS)).toBe(0)
  })
})
