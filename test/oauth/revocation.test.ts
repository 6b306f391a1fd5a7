import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { clientCredentials } from '../../src/oauth/client-auth.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'
import type { Http, HttpRequest } from '../../src/oauth/http.js'
import {
  processRevocationResponse,
  revocationEndpoint,
  revocationRequest,
} from '../../src/oauth/revocation.js'
import { caught, rejection } from '../helpers/cli-error.js'

const NOW = new Date('2026-11-24T12:00:00Z')
const WITHOUT_REVOCATION: AuthorizationServer = {
  issuer: 'https://server.example.com/',
  authorization_endpoint: 'https://server.example.com/authorize',
  token_endpoint: 'https://server.example.com/token',
}
const AS: AuthorizationServer = {
  ...WITHOUT_REVOCATION,
  revocation_endpoint: 'https://server.example.com/revoke',
}

function recorder(): { http: Http; requests: HttpRequest[] } {
  const requests: HttpRequest[] = []
  return {
    requests,
    http: (request) => {
      requests.push(request)
      return Promise.resolve(new Response(null, { status: 200 }))
    },
  }
}

const json = (body: unknown, status: number, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })

const failure = (response: Response): Promise<CliError> =>
  rejection(processRevocationResponse(response))

const outcome = (error: CliError): Record<string, unknown> => ({
  code: error.code,
  exitCode: error.exitCode,
  message: error.message,
  hint: error.hint,
  stage: error.stage,
  status: error.status,
  oauth: error.oauth,
})

describe('revocationEndpoint()', () => {
  it('is the metadata revocation_endpoint', () => {
    expect(revocationEndpoint(AS)).toEqual(new URL('https://server.example.com/revoke'))
  })

  it('is revocation_unsupported, exit 4, when the metadata has none (RFC 8414 §2)', () => {
    expect(outcome(caught(() => revocationEndpoint(WITHOUT_REVOCATION)))).toEqual({
      code: 'revocation_unsupported',
      exitCode: 4,
      message: 'the metadata has no revocation_endpoint',
      hint: 'this server does not advertise token revocation (RFC 7009; RFC 8414 §2); the token stays valid until it expires',
      stage: 'revocation',
      status: undefined,
      oauth: undefined,
    })
  })
})

describe('revocationRequest() https://www.rfc-editor.org/rfc/rfc7009#section-2.1', () => {
  it('https://www.rfc-editor.org/rfc/rfc7009#section-2.1: the example request, client_secret_basic', async () => {
    const credentials = await clientCredentials(
      { client_id: 's6BhdRkqt3', auth: { method: 'client_secret_basic', secret: 'gX1fBat3bV' } },
      AS.issuer,
      NOW,
      'jti',
    )
    const { http, requests } = recorder()
    await revocationRequest(AS, credentials, '45ghiukldjahdnhzdauz', 'refresh_token', http)
    expect(requests).toEqual([
      {
        method: 'POST',
        url: new URL('https://server.example.com/revoke'),
        stage: 'revocation',
        headers: { authorization: 'Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW' },
        form: new URLSearchParams({
          token: '45ghiukldjahdnhzdauz',
          token_type_hint: 'refresh_token',
        }),
      },
    ])
    expect(requests[0]?.form?.toString()).toBe(
      'token=45ghiukldjahdnhzdauz&token_type_hint=refresh_token',
    )
  })

  it('a public client sends its client_id in the form, and the token never in the URL', async () => {
    const credentials = await clientCredentials(
      { client_id: 'my-client', auth: { method: 'none' } },
      AS.issuer,
      NOW,
      'jti',
    )
    const { http, requests } = recorder()
    await revocationRequest(AS, credentials, 'AT-1', 'access_token', http)
    expect([...(requests[0]?.form ?? [])]).toEqual([
      ['token', 'AT-1'],
      ['token_type_hint', 'access_token'],
      ['client_id', 'my-client'],
    ])
    expect(requests[0]?.headers).toEqual({})
    expect(requests[0]?.url.href).toBe('https://server.example.com/revoke')
  })

  it("client_secret_post: id and secret in the form, beside the caller's headers", async () => {
    const credentials = await clientCredentials(
      { client_id: 'c', auth: { method: 'client_secret_post', secret: 's' } },
      AS.issuer,
      NOW,
      'jti',
    )
    const { http, requests } = recorder()
    await revocationRequest(AS, credentials, 'RT', undefined, http, { dpop: 'proof' })
    expect([...(requests[0]?.form ?? [])]).toEqual([
      ['token', 'RT'],
      ['client_id', 'c'],
      ['client_secret', 's'],
    ])
    expect(requests[0]?.headers).toEqual({ dpop: 'proof' })
  })

  it('is revocation_unsupported without a revocation_endpoint, sending nothing', () => {
    const { http, requests } = recorder()
    const credentials = { form: [], headers: {} }
    expect(
      caught(() => revocationRequest(WITHOUT_REVOCATION, credentials, 'RT', undefined, http)).code,
    ).toBe('revocation_unsupported')
    expect(requests).toEqual([])
  })
})

describe('processRevocationResponse() https://www.rfc-editor.org/rfc/rfc7009#section-2.2', () => {
  it.each([
    ['an empty body', new Response(null, { status: 200 })],
    ['an HTML body', new Response('<p>ok</p>', { headers: { 'content-type': 'text/html' } })],
    ['an error member', json({ error: 'invalid_request' }, 200)],
  ])('200 with %s: revoked (or already invalid), the body ignored', async (_, response) => {
    await expect(processRevocationResponse(response)).resolves.toBeUndefined()
  })

  it('https://www.rfc-editor.org/rfc/rfc7009#section-2.2.1: 503 is revocation_error with the Retry-After', async () => {
    expect(
      outcome(
        await failure(new Response('busy', { status: 503, headers: { 'retry-after': '30' } })),
      ),
    ).toEqual({
      code: 'revocation_error',
      exitCode: 3,
      message: 'token revocation unavailable: HTTP 503, Retry-After: 30',
      hint: 'RFC 7009 §2.2.1: the token was not revoked and is still valid; try again later',
      stage: 'revocation',
      status: 503,
      oauth: undefined,
    })
    expect((await failure(new Response(null, { status: 503 }))).message).toBe(
      'token revocation unavailable: HTTP 503',
    )
    expect(
      (
        await failure(
          new Response(null, {
            status: 503,
            headers: { 'retry-after': '\u001b[2JWed, 21 Oct 2026 07:28:00 GMT' },
          }),
        )
      ).message,
    ).toBe('token revocation unavailable: HTTP 503, Retry-After: Wed, 21 Oct 2026 07:28:00 GMT')
  })

  it('https://www.rfc-editor.org/rfc/rfc7009#section-2.2.1: unsupported_token_type is revocation_error, exit 3', async () => {
    expect(
      outcome(
        await failure(
          json(
            {
              error: 'unsupported_token_type',
              error_description: 'access tokens \u001b[1mcannot be revoked',
            },
            400,
          ),
        ),
      ),
    ).toEqual({
      code: 'revocation_error',
      exitCode: 3,
      message: 'token revocation rejected: unsupported_token_type: access tokens cannot be revoked',
      hint: 'RFC 7009 §2.2.1: this server does not revoke this type of token; an access token it cannot revoke stays valid until it expires',
      stage: 'revocation',
      status: 400,
      oauth: {
        error: 'unsupported_token_type',
        error_description: 'access tokens \u001b[1mcannot be revoked',
      },
    })
  })

  it('RFC 6749 §5.2 invalid_client is revocation_error with the client authentication hint', async () => {
    const error = await failure(json({ error: 'invalid_client' }, 401))
    expect(outcome(error)).toMatchObject({
      code: 'revocation_error',
      message: 'token revocation rejected: invalid_client',
      status: 401,
      oauth: { error: 'invalid_client' },
      hint: 'the revocation endpoint authenticates the client as the token endpoint does: check --client-id and the client authentication (--client-secret-file, --client-auth, --private-key-file)',
    })
  })

  it('a 401 with WWW-Authenticate and no JSON is revocation_error, the challenge quoted', async () => {
    const error = await failure(
      new Response('Unauthorized', {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="revoke"' },
      }),
    )
    expect({ code: error.code, message: error.message, exitCode: error.exitCode }).toEqual({
      code: 'revocation_error',
      message: 'token revocation rejected: HTTP 401, WWW-Authenticate: Basic realm="revoke"',
      exitCode: 3,
    })
  })

  it('reports a redirect instead of following it (security.md HC-3, TR-4)', async () => {
    const error = await failure(
      new Response(null, { status: 307, headers: { location: 'https://evil.example/revoke' } }),
    )
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'unexpected_redirect',
      message:
        'the revocation endpoint answered HTTP 307 redirecting to https://evil.example/revoke; redirects are not followed',
    })
  })

  it.each([
    [
      'a 204',
      new Response(null, { status: 204 }),
      'the revocation endpoint answered an unexpected status (HTTP 204, no content type, an empty body)',
    ],
    [
      'a 500 HTML page',
      new Response('<h1>oops</h1>', { status: 500, headers: { 'content-type': 'text/html' } }),
      'the revocation endpoint answered an unexpected status (HTTP 500, text/html, body: <h1>oops</h1>)',
    ],
    [
      'a 400 JSON body without error',
      json({ message: 'bad' }, 400),
      'the revocation endpoint answered an unexpected status (HTTP 400, application/json, body: {"message":"bad"})',
    ],
    [
      'a 401 without a challenge or JSON',
      new Response('Unauthorized', { status: 401 }),
      'the revocation endpoint answered an unexpected status (HTTP 401, text/plain;charset=UTF-8, body: Unauthorized)',
    ],
  ])('%s → revocation_invalid, exit 4', async (_, response, message) => {
    const error = await failure(response)
    expect({ code: error.code, exitCode: error.exitCode, message: error.message }).toEqual({
      code: 'revocation_invalid',
      exitCode: 4,
      message,
    })
  })
})
