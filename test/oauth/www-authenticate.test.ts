import { describe, expect, it } from 'vitest'
import {
  isResourceUseDpopNonce,
  parseWwwAuthenticate,
  primaryChallenge,
} from '../../src/oauth/www-authenticate.js'

describe('parseWwwAuthenticate() https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1', () => {
  it('reads the RFC 9110 §11.6.1 example: two challenges, a token value, an escaped quote', () => {
    expect(
      parseWwwAuthenticate(
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
      ),
    ).toEqual([
      { scheme: 'Newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'Basic', params: { realm: 'simple' } },
    ])
  })

  it('https://www.rfc-editor.org/rfc/rfc6750#section-3: the expired-token example', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
      ),
    ).toEqual([
      {
        scheme: 'Bearer',
        params: {
          realm: 'example',
          error: 'invalid_token',
          error_description: 'The access token expired',
        },
      },
    ])
  })

  it('https://www.rfc-editor.org/rfc/rfc9449#section-7.1: a DPoP challenge beside a Bearer one', () => {
    expect(
      parseWwwAuthenticate(
        'DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256", Bearer',
      ),
    ).toEqual([
      {
        scheme: 'DPoP',
        params: {
          error: 'invalid_token',
          error_description: 'Invalid DPoP key binding',
          algs: 'ES256',
        },
      },
      { scheme: 'Bearer', params: {} },
    ])
  })

  it('lowercases parameter names, skips a token68, and stops at an unterminated quote', () => {
    expect(parseWwwAuthenticate('Bearer ERROR=invalid_token')).toEqual([
      { scheme: 'Bearer', params: { error: 'invalid_token' } },
    ])
    expect(parseWwwAuthenticate('Basic dXNlcjpwYXNz==, Bearer realm="x"')).toEqual([
      { scheme: 'Basic', params: {} },
      { scheme: 'Bearer', params: { realm: 'x' } },
    ])
    expect(parseWwwAuthenticate('Bearer realm="x", error="invalid')).toEqual([
      { scheme: 'Bearer', params: { realm: 'x' } },
    ])
    expect(parseWwwAuthenticate('')).toEqual([])
  })
})

describe('primaryChallenge() https://www.rfc-editor.org/rfc/rfc6750#section-3.1', () => {
  it('is the challenge with an error, else the first', () => {
    expect(primaryChallenge('Bearer realm="x", DPoP error="use_dpop_nonce"')).toEqual({
      scheme: 'DPoP',
      params: { error: 'use_dpop_nonce' },
    })
    expect(primaryChallenge('Bearer realm="x", DPoP algs="ES256"')).toEqual({
      scheme: 'Bearer',
      params: { realm: 'x' },
    })
    expect(primaryChallenge('=')).toBeUndefined()
  })
})

describe('isResourceUseDpopNonce() https://www.rfc-editor.org/rfc/rfc9449#section-9', () => {
  const answer = (status: number, header?: string): Response =>
    new Response(null, {
      status,
      headers: header === undefined ? {} : { 'www-authenticate': header },
    })

  it('is true for the RFC 9449 §9 example only', () => {
    expect(
      isResourceUseDpopNonce(
        answer(
          401,
          'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
        ),
      ),
    ).toBe(true)
    expect(isResourceUseDpopNonce(answer(403, 'DPoP error="use_dpop_nonce"'))).toBe(false)
    expect(isResourceUseDpopNonce(answer(401, 'Bearer error="use_dpop_nonce"'))).toBe(false)
    expect(isResourceUseDpopNonce(answer(401, 'DPoP error="invalid_token"'))).toBe(false)
    expect(isResourceUseDpopNonce(answer(401))).toBe(false)
  })
})
