import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'
import { createDpopKey, createDpopProof } from '../../src/oauth/dpop.js'
import type { Http, HttpRequest } from '../../src/oauth/http.js'
import {
  checkUserinfoSubject,
  processUserinfoResponse,
  userinfoEndpoint,
  userinfoRequest,
} from '../../src/oauth/userinfo.js'
import { caught, rejection } from '../helpers/cli-error.js'

const WITHOUT_USERINFO: AuthorizationServer = {
  issuer: 'https://tenant.example.com/',
  authorization_endpoint: 'https://tenant.example.com/authorize',
  token_endpoint: 'https://tenant.example.com/oauth/token',
}
const AS: AuthorizationServer = {
  ...WITHOUT_USERINFO,
  userinfo_endpoint: 'https://tenant.example.com/userinfo',
}

const AT = 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.dGFn'

function recorder(answer = new Response('{}')): { http: Http; requests: HttpRequest[] } {
  const requests: HttpRequest[] = []
  return {
    requests,
    http: (request) => {
      requests.push(request)
      return Promise.resolve(answer)
    },
  }
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })

const challenge = (status: number, header: string, body = ''): Response =>
  new Response(body, { status, headers: { 'www-authenticate': header } })

const failure = (response: Response): Promise<CliError> =>
  rejection(processUserinfoResponse(response))

const outcome = (error: CliError): Record<string, unknown> => ({
  code: error.code,
  exitCode: error.exitCode,
  message: error.message,
  hint: error.hint,
  stage: error.stage,
  status: error.status,
  oauth: error.oauth,
})

describe('userinfoEndpoint()', () => {
  it('is the metadata userinfo_endpoint', () => {
    expect(userinfoEndpoint(AS)).toEqual(new URL('https://tenant.example.com/userinfo'))
  })

  it('is userinfo_unsupported, exit 4, when the metadata has none (OIDC Discovery §3)', () => {
    expect(outcome(caught(() => userinfoEndpoint(WITHOUT_USERINFO)))).toEqual({
      code: 'userinfo_unsupported',
      exitCode: 4,
      message: 'the metadata has no userinfo_endpoint',
      hint: 'this server publishes no OpenID Connect UserInfo endpoint (OIDC Discovery §3); the ID token carries the claims instead: pkce decode <id_token>',
      stage: 'userinfo',
      status: undefined,
      oauth: undefined,
    })
  })
})

describe('userinfoRequest() https://openid.net/specs/openid-connect-core-1_0.html#UserInfoRequest', () => {
  it('https://www.rfc-editor.org/rfc/rfc6750#section-2.1: a GET with Authorization: Bearer, the token nowhere in the URL (IT-13)', async () => {
    const { http, requests } = recorder()
    await userinfoRequest(AS, AT, 'Bearer', http)
    expect(requests).toEqual([
      {
        method: 'GET',
        url: new URL('https://tenant.example.com/userinfo'),
        stage: 'userinfo',
        headers: { accept: 'application/json, application/jwt', authorization: `Bearer ${AT}` },
      },
    ])
    expect(requests[0]?.url.search).toBe('')
    expect(requests[0]?.url.href).not.toContain('aXY')
    expect(requests[0]?.form).toBeUndefined()
  })

  it("https://www.rfc-editor.org/rfc/rfc9449#section-7.1: Authorization: DPoP beside the caller's proof, which carries ath (DP-8)", async () => {
    const key = await createDpopKey('ES256')
    const { proof } = await createDpopProof(
      key,
      { method: 'GET', url: userinfoEndpoint(AS), nonce: undefined, accessToken: AT },
      new Date('2026-11-24T12:00:00Z'),
      'jti-1',
    )
    const { http, requests } = recorder()
    await userinfoRequest(AS, AT, 'DPoP', http, { dpop: proof })
    expect(requests[0]?.headers).toEqual({
      accept: 'application/json, application/jwt',
      dpop: proof,
      authorization: `DPoP ${AT}`,
    })
    expect(decodeJwt(proof)).toMatchObject({
      htm: 'GET',
      htu: 'https://tenant.example.com/userinfo',
      // base64url(SHA-256(AT))
      ath: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/u) as unknown,
    })
  })

  it('the token is presented as given even when the caller passes an authorization header', async () => {
    const { http, requests } = recorder()
    await userinfoRequest(AS, AT, 'Bearer', http, { authorization: 'Bearer other' })
    expect(requests[0]?.headers?.authorization).toBe(`Bearer ${AT}`)
  })

  it('refuses a DPoP-bound token without a proof, sending nothing (a bug in the caller: DP-8)', () => {
    const { http, requests } = recorder()
    expect(() => userinfoRequest(AS, AT, 'DPoP', http)).toThrow(
      new Error('a DPoP-bound access token is presented with a DPoP proof header'),
    )
    expect(requests).toEqual([])
  })

  it('is userinfo_unsupported without a userinfo_endpoint, sending nothing', () => {
    const { http, requests } = recorder()
    expect(caught(() => userinfoRequest(WITHOUT_USERINFO, AT, 'Bearer', http)).code).toBe(
      'userinfo_unsupported',
    )
    expect(requests).toEqual([])
  })
})

describe('processUserinfoResponse() https://openid.net/specs/openid-connect-core-1_0.html#UserInfoResponse', () => {
  it('returns the claims of the OIDC Core §5.3.2 example', async () => {
    const claims = {
      sub: '248289761001',
      name: 'Jane Doe',
      given_name: 'Jane',
      family_name: 'Doe',
      preferred_username: 'j.doe',
      email: 'janedoe@example.com',
      picture: 'http://example.com/janedoe/me.jpg',
    }
    await expect(
      processUserinfoResponse(
        json(claims, 200, { 'content-type': 'application/json; charset=utf-8' }),
      ),
    ).resolves.toEqual({ format: 'json', claims })
  })

  it.each([
    ['a JWS', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIyNDgyODk3NjEwMDEifQ.c2ln'],
    ['a JWE', 'eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn'],
  ])(
    'returns %s under application/jwt raw, unverified (OIDC Core §5.3.2 signed response)',
    async (_, jwt) => {
      await expect(
        processUserinfoResponse(
          new Response(`${jwt}\n`, {
            headers: { 'content-type': 'application/jwt; charset=utf-8' },
          }),
        ),
      ).resolves.toEqual({ format: 'jwt', jwt })
    },
  )

  it.each([
    [
      'no sub',
      json({ name: 'Jane Doe' }),
      'the UserInfo response has no sub (OIDC Core §5.3.2: sub is always returned)',
    ],
    [
      'a numeric sub',
      json({ sub: 248289761001 }),
      'the UserInfo response has no sub (OIDC Core §5.3.2: sub is always returned)',
    ],
    [
      'an empty sub',
      json({ sub: '' }),
      'the UserInfo response has no sub (OIDC Core §5.3.2: sub is always returned)',
    ],
    [
      'an array',
      json('["248289761001"]'),
      'the UserInfo response is not a JSON object (HTTP 200, application/json, body: ["248289761001"])',
    ],
    [
      'truncated JSON',
      json('{"sub":"2482'),
      'the UserInfo response is not valid JSON (HTTP 200, application/json, body: {"sub":"2482)',
    ],
    [
      'an HTML page',
      new Response('<h1>Welcome</h1>', { headers: { 'content-type': 'text/html' } }),
      'the UserInfo response is not JSON (HTTP 200, text/html, body: <h1>Welcome</h1>)',
    ],
    [
      'application/jwt that is no JWT',
      new Response('not a jwt', { headers: { 'content-type': 'application/jwt' } }),
      'the UserInfo response is labelled application/jwt but is not a compact JWT (HTTP 200, application/jwt, body: not a jwt)',
    ],
    [
      'a 204',
      new Response(null, { status: 204 }),
      'the UserInfo endpoint answered an unexpected status (HTTP 204, no content type, an empty body)',
    ],
    [
      'a 502 HTML page',
      new Response('<h1>Bad gateway</h1>', {
        status: 502,
        headers: { 'content-type': 'text/html' },
      }),
      'the UserInfo endpoint answered an unexpected status (HTTP 502, text/html, body: <h1>Bad gateway</h1>)',
    ],
    [
      'a 401 without WWW-Authenticate',
      new Response('Unauthorized', { status: 401, headers: { 'content-type': 'text/plain' } }),
      'the UserInfo endpoint answered an unexpected status (HTTP 401, text/plain, body: Unauthorized); a 401 without WWW-Authenticate breaks RFC 6750 §3',
    ],
  ])('%s → userinfo_invalid, exit 4', async (_, response, message) => {
    const error = await failure(response)
    expect({ code: error.code, exitCode: error.exitCode, message: error.message }).toEqual({
      code: 'userinfo_invalid',
      exitCode: 4,
      message,
    })
  })

  it('reports a redirect instead of following it (security.md HC-3)', async () => {
    const error = await failure(
      new Response(null, { status: 302, headers: { location: 'https://evil.example/userinfo' } }),
    )
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'unexpected_redirect',
      message:
        'the UserInfo endpoint answered HTTP 302 redirecting to https://evil.example/userinfo; redirects are not followed',
    })
  })
})

describe('processUserinfoResponse() errors https://www.rfc-editor.org/rfc/rfc6750#section-3', () => {
  it('https://www.rfc-editor.org/rfc/rfc6750#section-3: the expired-token example is userinfo_error, exit 3, challenge quoted', async () => {
    const header =
      'Bearer realm="example", error="invalid_token", error_description="The access token expired"'
    expect(outcome(await failure(challenge(401, header)))).toEqual({
      code: 'userinfo_error',
      exitCode: 3,
      message: `UserInfo request rejected: HTTP 401, WWW-Authenticate: ${header}`,
      hint: 'RFC 6750 §3.1: the access token is expired, revoked, malformed or not meant for UserInfo (on Auth0, its audience must include /userinfo); refresh it or sign in again',
      stage: 'userinfo',
      status: 401,
      oauth: { error: 'invalid_token', error_description: 'The access token expired' },
    })
  })

  it('RFC 6750 §3.1 insufficient_scope on a 403', async () => {
    const error = await failure(
      challenge(403, 'Bearer error="insufficient_scope", scope="openid profile"'),
    )
    expect(outcome(error)).toMatchObject({
      code: 'userinfo_error',
      status: 403,
      oauth: { error: 'insufficient_scope' },
      hint: 'RFC 6750 §3.1: the access token lacks the scope UserInfo needs; sign in again with --scope openid (and profile, email for those claims)',
    })
  })

  it('https://www.rfc-editor.org/rfc/rfc6750#section-3: a challenge without an error says no token was usable', async () => {
    expect(outcome(await failure(challenge(401, 'Bearer realm="example"')))).toMatchObject({
      code: 'userinfo_error',
      message: 'UserInfo request rejected: HTTP 401, WWW-Authenticate: Bearer realm="example"',
      oauth: undefined,
      hint: 'RFC 6750 §3.1: the server found no usable access token in the request',
    })
  })

  it('https://www.rfc-editor.org/rfc/rfc9449#section-7.1: DPoP challenges are explained', async () => {
    const hints = await Promise.all(
      [
        'DPoP algs="ES256 PS256"',
        'DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256"',
        'DPoP error="invalid_dpop_proof", error_description="Invalid ath"',
        'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
      ].map(async (header) => (await failure(challenge(401, header))).hint),
    )
    expect(hints).toEqual([
      'RFC 9449 §7.1: the server wants a DPoP-bound token presented as Authorization: DPoP with a proof; a Bearer token is not accepted here',
      'RFC 9449 §7.1: the access token is expired or revoked, the proof is signed by another key than the one it is bound to, or a DPoP-bound token was sent as Bearer; present it as DPoP with a proof from its key, or refresh it',
      'RFC 9449 §7.1: the DPoP proof was refused; it must be signed by the key the token is bound to, with htm GET, htu the UserInfo endpoint and ath the hash of this token',
      'RFC 9449 §9: the server wants a DPoP proof carrying the nonce of its DPoP-Nonce header; retry once with a new proof',
    ])
  })

  it('prefers the challenge with the error among several (RFC 9110 §11.6.1)', async () => {
    const error = await failure(
      challenge(401, 'Bearer realm="api", DPoP error="use_dpop_nonce", algs="ES256"'),
    )
    expect(error.oauth).toEqual({ error: 'use_dpop_nonce' })
  })

  it('an unknown error is named in the hint, sanitised', async () => {
    const error = await failure(challenge(400, 'Bearer error="weird\u001b[2J"'))
    expect(error.hint).toBe(
      'the server refused the access token (weird); RFC 6750 §3.1 and RFC 9449 §7.1 define invalid_token, insufficient_scope, invalid_dpop_proof and use_dpop_nonce',
    )
  })

  it('SO-4: a challenge is quoted sanitised and cut short', async () => {
    const header = `Bearer error="invalid_token", error_description="\u001b[31mred\u001b[0m, \u0007\u0085::error::x${'a'.repeat(300)}"`
    const error = await failure(challenge(401, header))
    const shown = `Bearer error="invalid_token", error_description="red, \\x07\\x85::error::x${'a'.repeat(300)}"`
    expect(error.message).toBe(
      `UserInfo request rejected: HTTP 401, WWW-Authenticate: ${shown.slice(0, 200)}… (truncated, ${header.length} chars)`,
    )
    expect(error.message).not.toContain('\u001b')
  })

  it('a JSON error body without a challenge is userinfo_error (OIDC Core §5.3.3)', async () => {
    expect(
      outcome(
        await failure(
          json({ error: 'invalid_token', error_description: 'Token \u001b[1mexpired' }, 401),
        ),
      ),
    ).toEqual({
      code: 'userinfo_error',
      exitCode: 3,
      message: 'UserInfo request rejected: invalid_token: Token expired',
      hint: 'RFC 6750 §3.1: the access token is expired, revoked, malformed or not meant for UserInfo (on Auth0, its audience must include /userinfo); refresh it or sign in again',
      stage: 'userinfo',
      status: 401,
      oauth: { error: 'invalid_token', error_description: 'Token \u001b[1mexpired' },
    })
  })

  it('a challenge without an error takes the error members of the JSON body', async () => {
    const error = await failure(
      new Response(JSON.stringify({ error: 'insufficient_scope' }), {
        status: 403,
        headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="x"' },
      }),
    )
    expect(error.oauth).toEqual({ error: 'insufficient_scope' })
    expect(error.hint).toContain('lacks the scope')
  })
})

describe('checkUserinfoSubject() https://openid.net/specs/openid-connect-core-1_0.html#UserInfoResponse', () => {
  it("passes when sub equals the ID token's", () => {
    expect(checkUserinfoSubject({ sub: 'auth0|1' }, 'auth0|1')).toBeUndefined()
  })

  it('IT-13: another sub is userinfo_sub_mismatch, exit 4: the response must not be used', () => {
    expect(outcome(caught(() => checkUserinfoSubject({ sub: 'auth0|2' }, 'auth0|1')))).toEqual({
      code: 'userinfo_sub_mismatch',
      exitCode: 4,
      message: 'the UserInfo sub "auth0|2" is not the ID token\'s sub "auth0|1"',
      hint: 'OIDC Core §5.3.2: the UserInfo response must not be used; the access token may belong to another sign-in',
      stage: 'userinfo',
      status: undefined,
      oauth: undefined,
    })
  })

  it('compares exactly and shows a hostile sub escaped (SO-4)', () => {
    const error = caught(() => checkUserinfoSubject({ sub: 'Auth0|1\u202e' }, 'auth0|1'))
    expect(error.message).toBe(
      'the UserInfo sub "Auth0|1\\u202e" is not the ID token\'s sub "auth0|1"',
    )
  })
})
