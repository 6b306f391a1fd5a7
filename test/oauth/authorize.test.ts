import { describe, expect, it } from 'vitest'
import {
  authorizationParams,
  buildAuthorizationUrl,
  buildParAuthorizationUrl,
  isJarm,
  responseChannel,
  validateAuthorizationResponse,
} from '../../src/oauth/authorize.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'
import { RESPONSE_MODES } from '../../src/oauth/parameters.js'

const issuer = 'https://tenant.example.com/'
const as: AuthorizationServer = {
  issuer,
  authorization_endpoint: 'https://tenant.example.com/authorize?p=policy',
  token_endpoint: 'https://tenant.example.com/oauth/token',
}
const expected = { state: 'S1', issuer, issRequired: false }

function failure(url: string, expectations = expected): { code: string; message: string } {
  try {
    validateAuthorizationResponse(new URL(url), expectations)
  } catch (error) {
    const { code, message } = error as { code: string; message: string }
    return { code, message }
  }
  throw new Error('expected a failure')
}

describe('buildAuthorizationUrl()', () => {
  const params = authorizationParams({
    client_id: 'abc',
    redirect_uri: 'http://127.0.0.1:8484/callback',
    scope: 'openid profile',
    state: 'S1',
    nonce: 'N1',
    code_challenge: 'C1',
    dpop_jkt: undefined,
    extra: [
      ['audience', 'https://api.example.com/'],
      ['organization', 'org & co'],
    ],
  })

  it('AR-1, PK-3: keeps the endpoint query, percent-encodes every value, always S256 (RFC 6749 §3.1)', () => {
    expect(buildAuthorizationUrl(as, new URL(issuer), params).href).toBe(
      'https://tenant.example.com/authorize?p=policy&response_type=code&client_id=abc' +
        '&redirect_uri=http%3A%2F%2F127.0.0.1%3A8484%2Fcallback&scope=openid+profile&state=S1&nonce=N1' +
        '&code_challenge=C1&code_challenge_method=S256&audience=https%3A%2F%2Fapi.example.com%2F' +
        '&organization=org+%26+co',
    )
  })

  it('refuses an endpoint that already carries a protected parameter (security.md AR-1)', () => {
    const bad = { ...as, authorization_endpoint: 'https://tenant.example.com/authorize?state=x' }
    expect(() => buildAuthorizationUrl(bad, new URL(issuer), params)).toThrow(
      expect.objectContaining({ code: 'conflicting_authorization_endpoint_param' }),
    )
  })

  it.each([
    'javascript:alert(1)',
    'file:///etc/passwd',
    '-https://tenant.example.com/authorize',
    'http://tenant.example.com/authorize',
  ])('refuses the endpoint %s before any browser sees it (AR-2)', (endpoint) => {
    expect(() =>
      buildAuthorizationUrl({ ...as, authorization_endpoint: endpoint }, new URL(issuer), params),
    ).toThrow(expect.objectContaining({ code: 'unsafe_authorization_endpoint' }))
  })

  it('builds the PAR front-channel URL with client_id and request_uri only (RFC 9126 §4)', () => {
    const url = buildParAuthorizationUrl(
      as,
      new URL(issuer),
      'abc',
      'urn:ietf:params:oauth:request_uri:x',
    )
    expect(url.href).toBe(
      'https://tenant.example.com/authorize?p=policy&client_id=abc&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax',
    )
  })
})

describe('validateAuthorizationResponse() https://www.rfc-editor.org/rfc/rfc9207#section-2.4', () => {
  const cb = 'http://127.0.0.1:8484/callback'

  it('returns the code when state matches', () => {
    expect(validateAuthorizationResponse(new URL(`${cb}?code=C&state=S1`), expected)).toEqual({
      code: 'C',
      issUnadvertised: false,
    })
  })

  it('accepts an equal but unadvertised iss, flagging it (security.md RH-3)', () => {
    const url = new URL(`${cb}?code=C&state=S1&iss=${encodeURIComponent(issuer)}`)
    expect(validateAuthorizationResponse(url, expected)).toEqual({
      code: 'C',
      issUnadvertised: true,
    })
  })

  it.each([
    [
      `${cb}`,
      'empty_authorization_response',
      'the callback carried none of code, state, error or iss',
    ],
    [
      `${cb}?code=C&state=S1&state=S1`,
      'duplicate_parameter',
      'the callback repeats the parameter "state"',
    ],
    [`${cb}?code=C&state=S2`, 'state_mismatch', 'the callback state "S2" does not match'],
    [`${cb}?code=C`, 'state_missing', 'the callback has no state'],
    [`${cb}?state=S1`, 'code_missing', 'the callback has neither code nor error'],
    [
      `${cb}?code=C&state=S1&iss=https%3A%2F%2Fevil.example%2F`,
      'iss_mismatch',
      'the callback iss "https://evil.example/" is not the issuer "https://tenant.example.com/"',
    ],
    [
      `${cb}?code=C&state=S1&id_token=x`,
      'unexpected_response_parameter',
      'the callback carries "id_token", which the code flow never asks for',
    ],
    [
      `${cb}?error=access_denied&error_description=User%20did%20not%20authorize%1b%5B31m&state=S1`,
      'authorization_error',
      'authorization failed: access_denied: User did not authorize',
    ],
  ])('%s → %s', (url, code, message) => {
    expect(failure(url)).toEqual({ code, message })
  })

  it('checks state before error: a forged error redirect is a state failure (security.md SN-2, RH-4)', () => {
    expect(failure(`${cb}?error=access_denied&state=forged`).code).toBe('state_mismatch')
  })

  it('requires iss when the metadata advertises it', () => {
    expect(failure(`${cb}?code=C&state=S1`, { ...expected, issRequired: true }).code).toBe(
      'iss_missing',
    )
  })

  it('never shows the expected state (security.md SN-5)', () => {
    expect(failure(`${cb}?code=C&state=wrong`).message).not.toContain('S1')
  })
})

describe('response modes https://openid.net/specs/oauth-v2-jarm.html#section-2.3', () => {
  it('each mode has its channel; jwt alone is query.jwt for the code flow (JARM §2.3.4)', () => {
    expect(RESPONSE_MODES.map((mode) => [mode, responseChannel(mode), isJarm(mode)])).toEqual([
      ['query', 'query', false],
      ['form_post', 'form_post', false],
      ['fragment', 'fragment', false],
      ['jwt', 'query', true],
      ['query.jwt', 'query', true],
      ['form_post.jwt', 'form_post', true],
      ['fragment.jwt', 'fragment', true],
    ])
  })

  it('a form body or relayed fragment is validated exactly as a query (RM-1)', () => {
    expect(
      validateAuthorizationResponse(new URLSearchParams('code=c&state=S1'), expected).code,
    ).toBe('c')
    expect(() =>
      validateAuthorizationResponse(new URLSearchParams('code=c&state=S1&state=S1'), expected),
    ).toThrow('the callback repeats the parameter "state"')
    expect(() =>
      validateAuthorizationResponse(new URLSearchParams('code=c&state=forged'), expected),
    ).toThrow('the callback state "forged" does not match')
  })
})
