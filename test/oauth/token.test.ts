import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { clientCredentials } from '../../src/oauth/client-auth.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'
import type { HttpRequest } from '../../src/oauth/http.js'
import { processTokenResponse, refreshTokenGrant, tokenRequest } from '../../src/oauth/token.js'

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  })

async function failure(response: Response, idToken = false): Promise<CliError> {
  try {
    await processTokenResponse(response, { idToken })
  } catch (error) {
    return error as CliError
  }
  throw new Error('expected a failure')
}

describe('processTokenResponse() https://www.rfc-editor.org/rfc/rfc6749#section-5.1', () => {
  it('returns the members of a conforming response', async () => {
    const result = await processTokenResponse(
      json({
        access_token: 'AT',
        token_type: 'Bearer',
        expires_in: 86400,
        scope: 'openid',
        id_token: 'x.y.z',
        refresh_token: 'RT',
        extra: 1,
      }),
      { idToken: true },
    )
    expect(result).toEqual({
      tokens: {
        access_token: 'AT',
        token_type: 'Bearer',
        expires_in: 86400,
        scope: 'openid',
        id_token: 'x.y.z',
        refresh_token: 'RT',
      },
      warnings: [],
    })
  })

  it('warns on a missing Cache-Control: no-store and odd casing, and accepts a numeric string expires_in', async () => {
    const response = new Response(
      JSON.stringify({ access_token: 'AT', token_type: 'bearer', expires_in: '60' }),
      {
        headers: { 'content-type': 'application/json; charset=utf-8' },
      },
    )
    const result = await processTokenResponse(response, { idToken: false })
    expect(result.tokens.expires_in).toBe(60)
    expect(result.warnings.map((w) => w.code)).toEqual([
      'expires_in_string',
      'token_response_cacheable',
      'token_type_case',
    ])
  })

  it('an OAuth error body is exit 3 with every member and the status (RFC 6749 §5.2)', async () => {
    const error = await failure(
      json(
        {
          error: 'invalid_grant',
          error_description: 'Invalid authorization code',
          error_uri: 'https://e/x',
        },
        403,
      ),
    )
    expect(error.code).toBe('token_error')
    expect(error.exitCode).toBe(3)
    expect(error.status).toBe(403)
    expect(error.oauth).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
      error_uri: 'https://e/x',
    })
    expect(error.message).toBe('token request rejected: invalid_grant: Invalid authorization code')
  })

  it("names Auth0's 'Unauthorized' for a PKCE exchange with a confidential app", async () => {
    const error = await failure(
      json({ error: 'access_denied', error_description: 'Unauthorized' }, 401),
    )
    expect(error.hint).toContain("Token Endpoint Authentication Method to 'None'")
  })

  it('a 500 HTML page is exit 4 with status, type and a short excerpt (security.md D-3)', async () => {
    const page = `<html><body>${'Bad gateway '.repeat(50)}</body></html>`
    const error = await failure(
      new Response(page, { status: 500, headers: { 'content-type': 'text/html' } }),
    )
    expect(error.code).toBe('token_response_not_json')
    expect(error.exitCode).toBe(4)
    expect(error.message).toBe(
      `the token endpoint did not answer JSON (HTTP 500, text/html, body: ${page.slice(0, 200)}… (truncated, ${page.length} chars))`,
    )
  })

  it('JSON under a non-JSON content type fails, its secrets masked (security.md D-3)', async () => {
    const accessToken = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    const body = JSON.stringify({
      access_token: accessToken,
      refresh_token: 'RT-0123456789',
      token_type: 'Bearer',
    })
    const error = await failure(new Response(body, { headers: { 'content-type': 'text/plain' } }))
    expect(error.code).toBe('token_response_not_json')
    expect(error.message).toBe(
      'the token endpoint did not answer JSON (HTTP 200, text/plain, body: ' +
        '{"access_token":"eyJhbGciOiJS… (49 chars)","refresh_token":"[redacted 13 chars]","token_type":"Bearer"})' +
        '; the body looks like JSON',
    )
  })

  it.each([
    [
      '{"access_token":"AT","token_ty',
      'token_response_invalid',
      'the token response is not valid JSON (HTTP 200, application/json, body: {"access_token":"… (2 chars)","token_ty)',
    ],
    [
      '[1]',
      'token_response_invalid',
      'the token response is not a JSON object (HTTP 200, application/json, body: [1])',
    ],
    [{ token_type: 'Bearer' }, 'token_response_invalid', 'the token response has no access_token'],
    [
      { access_token: 'AT', token_type: 'mac' },
      'token_response_invalid',
      'the token response has token_type "mac"; expected Bearer or DPoP',
    ],
    [
      { access_token: 'AT', token_type: 'Bearer', expires_in: -1 },
      'token_response_invalid',
      'the token response has an expires_in that is not a non-negative number',
    ],
    [
      { access_token: 'AT', token_type: 'Bearer', refresh_token: 5 },
      'token_response_invalid',
      'the token response has a refresh_token that is not a string',
    ],
    [
      { access_token: 'AT\u001b]8;;https://evil.example\u0007', token_type: 'Bearer' },
      'token_response_invalid',
      'the token response has an access_token with characters outside printable ASCII (RFC 6749 Appendix A: 1*VSCHAR)',
    ],
    [
      { access_token: 'AT', token_type: 'Bearer', refresh_token: 'RT\n::warning::injected' },
      'token_response_invalid',
      'the token response has a refresh_token with characters outside printable ASCII (RFC 6749 Appendix A: 1*VSCHAR)',
    ],
    [
      { access_token: 'AT', token_type: 'Bearer', refresh_token: '' },
      'token_response_invalid',
      'the token response has a refresh_token with characters outside printable ASCII (RFC 6749 Appendix A: 1*VSCHAR)',
    ],
    [
      { access_token: 'AT', token_type: 'Bearer', id_token: 'a.b.c\u00e9' },
      'token_response_invalid',
      'the token response has an id_token with characters outside printable ASCII (RFC 6749 Appendix A: 1*VSCHAR)',
    ],
  ])('%j → %s', async (body, code, message) => {
    const error = await failure(json(body))
    expect({ code: error.code, message: error.message }).toEqual({ code, message })
  })

  it('requires an id_token when openid was requested (OIDC Core §3.1.3.3)', async () => {
    const error = await failure(json({ access_token: 'AT', token_type: 'Bearer' }), true)
    expect(error.code).toBe('id_token_missing')
  })

  it('reports a redirect instead of following it (security.md TR-4)', async () => {
    const error = await failure(
      new Response(null, { status: 307, headers: { location: 'https://evil.example/token' } }),
    )
    expect(error.code).toBe('unexpected_redirect')
    expect(error.message).toBe(
      'the token endpoint answered HTTP 307 redirecting to https://evil.example/token; redirects are not followed',
    )
  })
})

describe('refreshTokenGrant() https://www.rfc-editor.org/rfc/rfc6749#section-6', () => {
  const as: AuthorizationServer = {
    issuer: 'https://server.example.com/',
    authorization_endpoint: 'https://server.example.com/authorize',
    token_endpoint: 'https://server.example.com/token',
  }

  it('https://www.rfc-editor.org/rfc/rfc6749#section-6: the example request, sent with tokenRequest', async () => {
    const credentials = await clientCredentials(
      { client_id: 's6BhdRkqt3', auth: { method: 'client_secret_basic', secret: 'gX1fBat3bV' } },
      as.issuer,
      new Date('2026-11-24T12:00:00Z'),
      'jti',
    )
    const requests: HttpRequest[] = []
    await tokenRequest(as, credentials, refreshTokenGrant('tGzv3JOkF0XG5Qx2TlKWIA'), (request) => {
      requests.push(request)
      return Promise.resolve(new Response('{}'))
    })
    expect(requests).toEqual([
      {
        method: 'POST',
        url: new URL('https://server.example.com/token'),
        stage: 'token',
        headers: { authorization: 'Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW' },
        form: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: 'tGzv3JOkF0XG5Qx2TlKWIA',
        }),
      },
    ])
    expect(requests[0]?.form?.toString()).toBe(
      'grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA',
    )
  })

  it("sends scope only when given: omitted, the original grant's scope applies", () => {
    expect(refreshTokenGrant('RT').toString()).toBe('grant_type=refresh_token&refresh_token=RT')
    expect(refreshTokenGrant('RT', undefined).has('scope')).toBe(false)
    expect(refreshTokenGrant('RT', 'openid profile').toString()).toBe(
      'grant_type=refresh_token&refresh_token=RT&scope=openid+profile',
    )
  })

  it('a public client adds its client_id, and the refresh token stays out of the URL', async () => {
    const credentials = await clientCredentials(
      { client_id: 'my-client', auth: { method: 'none' } },
      as.issuer,
      new Date('2026-11-24T12:00:00Z'),
      'jti',
    )
    const requests: HttpRequest[] = []
    await tokenRequest(as, credentials, refreshTokenGrant('RT-1', 'openid'), (request) => {
      requests.push(request)
      return Promise.resolve(new Response('{}'))
    })
    expect([...(requests[0]?.form ?? [])]).toEqual([
      ['grant_type', 'refresh_token'],
      ['refresh_token', 'RT-1'],
      ['scope', 'openid'],
      ['client_id', 'my-client'],
    ])
    expect(requests[0]?.url.href).toBe('https://server.example.com/token')
  })
})
