import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import {
  discover,
  discoveryRequest,
  discoveryUrls,
  ENDPOINTS,
  MAX_DISCOVERY_HOPS,
  processDiscoveryResponse,
  withMtlsAliases,
} from '../../src/oauth/discovery.js'
import type { Http, HttpRequest } from '../../src/oauth/http.js'
import { rejection } from '../helpers/cli-error.js'

const ISSUER = 'https://as.example/'

const json = (body: unknown, status = 200, type = 'application/json'): Response =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': type },
  })

const redirect = (status: number, location?: string): Response =>
  new Response(null, { status, headers: location === undefined ? {} : { location } })

/** A conforming document for `issuer`. */
const metadata = (
  issuer = ISSUER,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  issuer,
  authorization_endpoint: 'https://as.example/authorize',
  token_endpoint: 'https://as.example/oauth/token',
  ...extra,
})

/** An `Http` that answers from a queue and records every request. */
function fakeHttp(...responses: Response[]): { http: Http; requests: HttpRequest[] } {
  const requests: HttpRequest[] = []
  const http: Http = (request) => {
    requests.push(request)
    const next = responses.shift()
    if (next === undefined) throw new Error(`unexpected request ${request.url.href}`)
    return Promise.resolve(next)
  }
  return { http, requests }
}

/** What a failure carries, for one exact comparison. */
const outcome = (error: CliError): Record<string, unknown> => ({
  code: error.code,
  exitCode: error.exitCode,
  message: error.message,
  hint: error.hint,
  stage: error.stage,
  status: error.status,
})

describe('discoveryUrls() https://www.rfc-editor.org/rfc/rfc8414#section-3.1', () => {
  it.each([
    [
      'https://as.example',
      'https://as.example/.well-known/openid-configuration',
      'https://as.example/.well-known/oauth-authorization-server',
    ],
    [
      'https://as.example/',
      'https://as.example/.well-known/openid-configuration',
      'https://as.example/.well-known/oauth-authorization-server',
    ],
    [
      'https://as.example/tenant',
      'https://as.example/tenant/.well-known/openid-configuration',
      'https://as.example/.well-known/oauth-authorization-server/tenant',
    ],
    [
      'https://as.example/tenant/',
      'https://as.example/tenant/.well-known/openid-configuration',
      'https://as.example/.well-known/oauth-authorization-server/tenant',
    ],
    [
      'https://as.example/realms/a/b',
      'https://as.example/realms/a/b/.well-known/openid-configuration',
      'https://as.example/.well-known/oauth-authorization-server/realms/a/b',
    ],
    [
      'http://127.0.0.1:4000/',
      'http://127.0.0.1:4000/.well-known/openid-configuration',
      'http://127.0.0.1:4000/.well-known/oauth-authorization-server',
    ],
  ])('%s → OIDC Discovery §4 appends, RFC 8414 §3 inserts', (issuer, openid, oauth) => {
    expect(discoveryUrls(new URL(issuer)).map((url) => url.href)).toEqual([openid, oauth])
  })
})

describe('discoveryRequest()', () => {
  const url = new URL('https://as.example/.well-known/openid-configuration')

  it('GETs the URL at the discovery stage and returns a non-3xx response as it is', async () => {
    const answer = json(metadata(), 404)
    const { http, requests } = fakeHttp(answer)
    await expect(discoveryRequest(url, http)).resolves.toBe(answer)
    expect(requests).toEqual([{ method: 'GET', url, stage: 'discovery' }])
  })

  it.each([301, 302, 303, 307, 308])(
    'follows a same-origin %i to the resolved Location',
    async (status) => {
      const answer = json(metadata())
      const { http, requests } = fakeHttp(redirect(status, '/moved/openid-configuration'), answer)
      await expect(discoveryRequest(url, http)).resolves.toBe(answer)
      expect(requests.map((request) => [request.method, request.url.href])).toEqual([
        ['GET', url.href],
        ['GET', 'https://as.example/moved/openid-configuration'],
      ])
    },
  )

  it(`follows ${MAX_DISCOVERY_HOPS} same-origin hops and answers the last response`, async () => {
    const answer = json(metadata())
    const { http, requests } = fakeHttp(
      redirect(302, '/1'),
      redirect(302, 'https://as.example/2'),
      redirect(302, '/3'),
      answer,
    )
    await expect(discoveryRequest(url, http)).resolves.toBe(answer)
    expect(requests.map((request) => request.url.pathname)).toEqual([
      '/.well-known/openid-configuration',
      '/1',
      '/2',
      '/3',
    ])
  })

  it('HC-3: a redirect loop gives up after the last hop with network_error, exit 5', async () => {
    const { http, requests } = fakeHttp(
      redirect(302, '/a'),
      redirect(302, '/b'),
      redirect(302, '/a'),
      redirect(307, '/b'),
    )
    const error = await rejection(discoveryRequest(url, http))
    expect(outcome(error)).toEqual({
      code: 'network_error',
      exitCode: 5,
      message: `discovery at ${url.href} redirected more than 3 times`,
      hint: 'the server redirects in a loop',
      stage: 'discovery',
      status: 307,
    })
    expect(requests).toHaveLength(MAX_DISCOVERY_HOPS + 1)
  })

  it.each([
    ['another host', 'https://evil.example/.well-known/openid-configuration'],
    ['plain http on the same host', 'http://as.example/.well-known/openid-configuration'],
    ['another port', 'https://as.example:8443/.well-known/openid-configuration'],
  ])('HC-3: a redirect to %s is unexpected_redirect, exit 4, not followed', async (_, location) => {
    const { http, requests } = fakeHttp(redirect(302, location))
    const error = await rejection(discoveryRequest(url, http))
    expect(outcome(error)).toEqual({
      code: 'unexpected_redirect',
      exitCode: 4,
      message: `discovery at ${url.href} redirected to ${location}, another origin`,
      hint: 'check --domain / --issuer',
      stage: 'discovery',
      status: 302,
    })
    expect(requests).toHaveLength(1)
  })

  it('a cross-origin hop after a same-origin one names the original URL', async () => {
    const { http, requests } = fakeHttp(
      redirect(302, '/hop'),
      redirect(301, 'https://evil.example/'),
    )
    const error = await rejection(discoveryRequest(url, http))
    expect(error.code).toBe('unexpected_redirect')
    expect(error.status).toBe(301)
    expect(error.message).toBe(
      `discovery at ${url.href} redirected to https://evil.example/, another origin`,
    )
    expect(requests).toHaveLength(2)
  })

  it('a 3xx without Location is unexpected_redirect naming "(no Location)"', async () => {
    const error = await rejection(discoveryRequest(url, fakeHttp(redirect(303)).http))
    expect([error.code, error.message]).toEqual([
      'unexpected_redirect',
      `discovery at ${url.href} redirected to (no Location), another origin`,
    ])
  })

  it('a Location that is no URL is unexpected_redirect', async () => {
    const error = await rejection(discoveryRequest(url, fakeHttp(redirect(302, 'https://[')).http))
    expect([error.code, error.message]).toEqual([
      'unexpected_redirect',
      `discovery at ${url.href} redirected to https://[, another origin`,
    ])
  })

  it('SO-4: the Location is shown sanitised', async () => {
    const location = 'https://evil.example/\u0007x\u0085'
    const error = await rejection(discoveryRequest(url, fakeHttp(redirect(302, location)).http))
    expect(error.message).toBe(
      `discovery at ${url.href} redirected to https://evil.example/\\x07x\\x85, another origin`,
    )
  })
})

describe('processDiscoveryResponse() https://www.rfc-editor.org/rfc/rfc8414#section-3.2', () => {
  it('returns the document of a 200 JSON object whose issuer matches', async () => {
    const document = metadata(ISSUER, {
      jwks_uri: 'https://as.example/.well-known/jwks.json',
      userinfo_endpoint: 'https://as.example/userinfo',
      revocation_endpoint: 'https://as.example/oauth/revoke',
      pushed_authorization_request_endpoint: 'https://as.example/oauth/par',
      require_pushed_authorization_requests: false,
      authorization_response_iss_parameter_supported: true,
      code_challenge_methods_supported: ['S256', 'plain'],
      id_token_signing_alg_values_supported: ['RS256'],
      dpop_signing_alg_values_supported: [],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      scopes_supported: ['openid'],
      unknown_member: { kept: 1 },
    })
    await expect(processDiscoveryResponse(json(document), ISSUER)).resolves.toEqual(document)
  })

  it('accepts an application/<name>+json content type with parameters', async () => {
    const response = json(metadata(), 200, 'application/vnd.x+json; charset=utf-8')
    await expect(processDiscoveryResponse(response, ISSUER)).resolves.toEqual(metadata())
  })

  it('http endpoints on loopback are accepted for a loopback http issuer', async () => {
    const issuer = 'http://127.0.0.1:4000/'
    const document = metadata(issuer, {
      authorization_endpoint: 'http://127.0.0.1:4000/authorize',
      token_endpoint: 'http://localhost:4000/oauth/token',
      jwks_uri: 'http://[::1]:4000/jwks',
    })
    await expect(processDiscoveryResponse(json(document), issuer)).resolves.toEqual(document)
  })

  it('a status other than 200 is metadata_invalid with status, type and excerpt', async () => {
    const error = await rejection(
      processDiscoveryResponse(json('<h1>Not Found</h1>', 404, 'text/html'), ISSUER),
    )
    expect(outcome(error)).toEqual({
      code: 'metadata_invalid',
      exitCode: 4,
      message: 'discovery failed (HTTP 404, text/html, body: <h1>Not Found</h1>)',
      hint: 'check --domain / --issuer',
      stage: 'discovery',
      status: 404,
    })
  })

  it('a 201 is not a 200', async () => {
    const error = await rejection(processDiscoveryResponse(json(metadata(), 201), ISSUER))
    expect([error.code, error.status]).toEqual(['metadata_invalid', 201])
  })

  it('an empty error body says so', async () => {
    const error = await rejection(
      processDiscoveryResponse(new Response('', { status: 500 }), ISSUER),
    )
    expect(error.message).toBe(
      'discovery failed (HTTP 500, text/plain;charset=UTF-8, an empty body)',
    )
  })

  it.each([
    [
      'not labelled JSON',
      json(metadata(), 200, 'text/plain'),
      `the discovery document is not JSON (HTTP 200, text/plain, body: ${JSON.stringify(metadata())})`,
    ],
    [
      'without a content type',
      new Response(new TextEncoder().encode('{}'), { status: 200 }),
      'the discovery document is not JSON (HTTP 200, no content type, body: {})',
    ],
    [
      'not valid JSON',
      json('{"issuer":', 200),
      'the discovery document is not valid JSON (HTTP 200, application/json, body: {"issuer":)',
    ],
    [
      'an array',
      json([metadata()], 200),
      `the discovery document is not a JSON object (HTTP 200, application/json, body: ${JSON.stringify([metadata()])})`,
    ],
    [
      'null',
      json('null', 200),
      'the discovery document is not a JSON object (HTTP 200, application/json, body: null)',
    ],
    [
      'a string',
      json('"https://as.example/"', 200),
      'the discovery document is not a JSON object (HTTP 200, application/json, body: "https://as.example/")',
    ],
  ])('MD-2: a body %s is metadata_invalid, exit 4', async (_, response, message) => {
    const error = await rejection(processDiscoveryResponse(response, ISSUER))
    expect(outcome(error)).toEqual({
      code: 'metadata_invalid',
      exitCode: 4,
      message,
      hint: undefined,
      stage: 'discovery',
      status: 200,
    })
  })

  it.each([
    ['https://as.example', 'https://as.example/', '"https://as.example"'],
    ['https://as.example/', 'https://as.example', '"https://as.example/"'],
    ['https://AS.example/', 'https://as.example/', '"https://AS.example/"'],
    ['https://as.example/tenant/', 'https://as.example/tenant', '"https://as.example/tenant/"'],
    ['https://as.example:443/', 'https://as.example/', '"https://as.example:443/"'],
  ])(
    'MD-1: metadata issuer %s for expected %s is metadata_issuer_mismatch (compared exactly)',
    async (got, expected, shown) => {
      const error = await rejection(processDiscoveryResponse(json(metadata(got)), expected))
      expect(outcome(error)).toEqual({
        code: 'metadata_issuer_mismatch',
        exitCode: 4,
        message: `the metadata issuer ${shown} is not the expected issuer "${expected}"`,
        hint: 'issuers are compared exactly, trailing slash included; pass the exact --issuer',
        stage: 'discovery',
        status: undefined,
      })
    },
  )

  it.each([
    ['missing', undefined, 'undefined'],
    ['a number', 42, '42'],
    ['null', null, 'null'],
    ['an array', [ISSUER], '["https://as.example/"]'],
  ])('MD-1: an issuer that is %s is metadata_issuer_mismatch', async (_, issuer, shown) => {
    const error = await rejection(
      processDiscoveryResponse(json(metadata(ISSUER, { issuer })), ISSUER),
    )
    expect([error.code, error.message]).toEqual([
      'metadata_issuer_mismatch',
      `the metadata issuer ${shown} is not the expected issuer "${ISSUER}"`,
    ])
  })

  it('SO-4: a hostile issuer is shown sanitised', async () => {
    const error = await rejection(
      processDiscoveryResponse(json(metadata('https://as.example/\u0007\u202e')), ISSUER),
    )
    expect(error.message).toBe(
      `the metadata issuer "https://as.example/\\\\x07\\\\u202e" is not the expected issuer "${ISSUER}"`,
    )
  })

  it('MD-1 before MD-2: a mismatched issuer is reported before a bad endpoint', async () => {
    const document = metadata('https://evil.example/', { token_endpoint: 'http://evil.example/' })
    const error = await rejection(processDiscoveryResponse(json(document), ISSUER))
    expect(error.code).toBe('metadata_issuer_mismatch')
  })

  it.each(['authorization_endpoint', 'token_endpoint'])(
    'MD-2: a document without %s is metadata_invalid',
    async (name) => {
      for (const value of [undefined, 42, null, ['https://as.example/x']]) {
        const error = await rejection(
          processDiscoveryResponse(json(metadata(ISSUER, { [name]: value })), ISSUER),
        )
        expect(outcome(error)).toEqual({
          code: 'metadata_invalid',
          exitCode: 4,
          message: `the metadata has no ${name}`,
          hint: undefined,
          stage: 'discovery',
          status: undefined,
        })
      }
    },
  )

  it('ENDPOINTS lists the members that are URLs pkce may request', () => {
    expect(ENDPOINTS).toEqual([
      'authorization_endpoint',
      'token_endpoint',
      'jwks_uri',
      'userinfo_endpoint',
      'revocation_endpoint',
      'pushed_authorization_request_endpoint',
    ])
  })

  describe.each(ENDPOINTS)('MD-2, HC-4: %s', (name) => {
    it.each([
      ['relative', '/oauth/x', 'it is not an absolute URL'],
      ['plain http', 'http://as.example/x', 'its scheme "http:" is not https'],
      ['plain http on loopback', 'http://127.0.0.1/x', 'its scheme "http:" is not https'],
      ['file:', 'file:///etc/passwd', 'its scheme "file:" is not https'],
      ['javascript:', 'javascript:alert(1)', 'its scheme "javascript:" is not https'],
      ['an option', '-https://as.example/x', 'it starts with "-"'],
    ])('%s is insecure_endpoint, exit 4', async (_, value, problem) => {
      const error = await rejection(
        processDiscoveryResponse(json(metadata(ISSUER, { [name]: value })), ISSUER),
      )
      expect(outcome(error)).toEqual({
        code: 'insecure_endpoint',
        exitCode: 4,
        message: `the metadata ${name} "${value}" is refused: ${problem}`,
        hint: 'endpoints must be https (plain http only on a loopback issuer)',
        stage: 'discovery',
        status: undefined,
      })
    })
  })

  it('HC-4: a loopback http issuer still refuses http to another host', async () => {
    const issuer = 'http://127.0.0.1:4000/'
    const document = metadata(issuer, {
      authorization_endpoint: 'http://127.0.0.1:4000/authorize',
      token_endpoint: 'http://evil.example/token',
    })
    const error = await rejection(processDiscoveryResponse(json(document), issuer))
    expect([error.code, error.message]).toEqual([
      'insecure_endpoint',
      'the metadata token_endpoint "http://evil.example/token" is refused: plain http is only allowed to a loopback host, not evil.example',
    ])
  })

  it.each(['jwks_uri', 'userinfo_endpoint', 'pushed_authorization_request_endpoint'])(
    'MD-2: an optional endpoint %s that is not a string is insecure_endpoint',
    async (name) => {
      const error = await rejection(
        processDiscoveryResponse(json(metadata(ISSUER, { [name]: 42 })), ISSUER),
      )
      expect(error.code).toBe('insecure_endpoint')
      expect(error.exitCode).toBe(4)
      expect(error.message).toBe(`the metadata ${name} is refused: not a string`)
    },
  )

  it('SO-4: a refused endpoint is shown sanitised', async () => {
    const error = await rejection(
      processDiscoveryResponse(
        json(metadata(ISSUER, { jwks_uri: 'http://as.example/\u0007\u202e' })),
        ISSUER,
      ),
    )
    expect(error.message).toBe(
      'the metadata jwks_uri "http://as.example/\\x07\\u202e" is refused: its scheme "http:" is not https',
    )
  })

  it.each([
    'code_challenge_methods_supported',
    'id_token_signing_alg_values_supported',
    'dpop_signing_alg_values_supported',
    'token_endpoint_auth_methods_supported',
    'scopes_supported',
  ])('MD-2: %s must be an array of strings', async (name) => {
    for (const value of ['S256', ['S256', 1], [null], { 0: 'S256' }, null]) {
      const error = await rejection(
        processDiscoveryResponse(json(metadata(ISSUER, { [name]: value })), ISSUER),
      )
      expect(outcome(error)).toEqual({
        code: 'metadata_invalid',
        exitCode: 4,
        message: `the metadata ${name} is not an array of strings`,
        hint: undefined,
        stage: 'discovery',
        status: undefined,
      })
    }
  })

  it.each([
    'require_pushed_authorization_requests',
    'authorization_response_iss_parameter_supported',
  ])('MD-2: %s must be a boolean', async (name) => {
    for (const value of ['true', 1, null, []]) {
      const error = await rejection(
        processDiscoveryResponse(json(metadata(ISSUER, { [name]: value })), ISSUER),
      )
      expect([error.code, error.message]).toEqual([
        'metadata_invalid',
        `the metadata ${name} is not a boolean`,
      ])
    }
  })
})

describe('discover()', () => {
  it('OIDC Discovery first: one GET, the document checked against the issuer', async () => {
    const { http, requests } = fakeHttp(json(metadata()))
    await expect(discover(ISSUER, http)).resolves.toEqual(metadata())
    expect(requests.map((request) => [request.method, request.url.href, request.stage])).toEqual([
      ['GET', 'https://as.example/.well-known/openid-configuration', 'discovery'],
    ])
  })

  it('falls back to RFC 8414 when OIDC Discovery answers 404', async () => {
    const issuer = 'https://as.example/tenant'
    const { http, requests } = fakeHttp(json({}, 404), json(metadata(issuer)))
    await expect(discover(issuer, http)).resolves.toEqual(metadata(issuer))
    expect(requests.map((request) => request.url.href)).toEqual([
      'https://as.example/tenant/.well-known/openid-configuration',
      'https://as.example/.well-known/oauth-authorization-server/tenant',
    ])
  })

  it('does not fall back on another failure status', async () => {
    const { http, requests } = fakeHttp(json({ error: 'x' }, 500))
    const error = await rejection(discover(ISSUER, http))
    expect([error.code, error.status]).toEqual(['metadata_invalid', 500])
    expect(requests).toHaveLength(1)
  })

  it('both documents missing is metadata_invalid with the second 404', async () => {
    const { http } = fakeHttp(json('', 404, 'text/plain'), json('gone', 404, 'text/plain'))
    const error = await rejection(discover(ISSUER, http))
    expect(outcome(error)).toEqual({
      code: 'metadata_invalid',
      exitCode: 4,
      message: 'discovery failed (HTTP 404, text/plain, body: gone)',
      hint: 'check --domain / --issuer',
      stage: 'discovery',
      status: 404,
    })
  })

  it('MD-1: the issuer is compared as given, trailing slash included', async () => {
    const { http } = fakeHttp(json(metadata('https://as.example/')))
    const error = await rejection(discover('https://as.example', http))
    expect(error.code).toBe('metadata_issuer_mismatch')
  })

  it('HC-3: a cross-origin redirect stops discovery before any document is read', async () => {
    const { http, requests } = fakeHttp(redirect(302, 'https://evil.example/'))
    const error = await rejection(discover(ISSUER, http))
    expect(error.code).toBe('unexpected_redirect')
    expect(requests).toHaveLength(1)
  })

  it('follows a same-origin redirect on the RFC 8414 fallback too', async () => {
    const { http, requests } = fakeHttp(json({}, 404), redirect(308, '/meta'), json(metadata()))
    await expect(discover(ISSUER, http)).resolves.toEqual(metadata())
    expect(requests.map((request) => request.url.pathname)).toEqual([
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
      '/meta',
    ])
  })
})

describe('mtls_endpoint_aliases https://www.rfc-editor.org/rfc/rfc8705#section-5', () => {
  const aliases = {
    token_endpoint: 'https://mtls.as.example/oauth/token',
    pushed_authorization_request_endpoint: 'https://mtls.as.example/oauth/par',
  }

  it('are kept; withMtlsAliases() replaces those endpoints and names each', async () => {
    const as = await processDiscoveryResponse(
      json(metadata(ISSUER, { mtls_endpoint_aliases: aliases })),
      ISSUER,
    )
    const { as: aliased, aliased: used } = withMtlsAliases(as)
    expect(aliased.token_endpoint).toBe('https://mtls.as.example/oauth/token')
    expect(aliased.pushed_authorization_request_endpoint).toBe('https://mtls.as.example/oauth/par')
    expect(aliased.authorization_endpoint).toBe('https://as.example/authorize')
    expect(used).toEqual([
      { endpoint: 'token_endpoint', url: 'https://mtls.as.example/oauth/token' },
      {
        endpoint: 'pushed_authorization_request_endpoint',
        url: 'https://mtls.as.example/oauth/par',
      },
    ])
    expect(as.token_endpoint).toBe('https://as.example/oauth/token')
  })

  it('without aliases nothing changes', () => {
    const as = metadata() as unknown as Parameters<typeof withMtlsAliases>[0]
    expect(withMtlsAliases(as)).toEqual({ as, aliased: [] })
  })

  it('HC-4: an alias that is not https is refused like an endpoint', async () => {
    const error = await rejection(
      processDiscoveryResponse(
        json(metadata(ISSUER, { mtls_endpoint_aliases: { token_endpoint: 'http://evil/' } })),
        ISSUER,
      ),
    )
    expect(error).toMatchObject({ code: 'insecure_endpoint', exitCode: 4 })
    expect(error.message).toMatch(
      /^the metadata mtls_endpoint_aliases\.token_endpoint "http:\/\/evil\/" is refused: /u,
    )
  })

  it('an alias object that is not an object is metadata_invalid', async () => {
    const error = await rejection(
      processDiscoveryResponse(json(metadata(ISSUER, { mtls_endpoint_aliases: [] })), ISSUER),
    )
    expect(error).toMatchObject({
      code: 'metadata_invalid',
      message: 'the metadata mtls_endpoint_aliases is not an object',
    })
  })
})
