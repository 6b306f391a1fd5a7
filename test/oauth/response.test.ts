import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import {
  describeBody,
  describeOAuthError,
  isJsonContentType,
  isPlainObject,
  oauthErrorFields,
  readJsonObject,
  rejectRedirect,
} from '../../src/oauth/response.js'

// A Uint8Array body, because a string body would get `text/plain` by default.
const typed = (body: string, type: string | undefined, status = 200): Response =>
  new Response(status === 204 ? null : new TextEncoder().encode(body), {
    status,
    headers: type === undefined ? {} : { 'content-type': type },
  })

function thrown(run: () => unknown): CliError {
  try {
    run()
  } catch (error) {
    return error as CliError
  }
  throw new Error('expected a failure')
}

async function rejected(promise: Promise<unknown>): Promise<CliError> {
  return promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (error: unknown) => error as CliError,
  )
}

describe('isJsonContentType() (security.md D-3)', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON;charset=UTF-8',
    ' application/json ; charset=utf-8',
    'application/problem+json',
    'application/jwk-set+json',
    'Application/Vnd.Api+JSON',
  ])('accepts %j', (type) => {
    expect(isJsonContentType(type)).toBe(true)
  })

  it.each([
    null,
    '',
    'text/json',
    'text/html; charset=utf-8',
    'application/jsonp',
    'application/json-seq',
    'application/+json',
    'application/x/y+json',
    'application/jwt',
    'text/plain; note=application/json',
  ])('rejects %j', (type) => {
    expect(isJsonContentType(type)).toBe(false)
  })
})

describe('isPlainObject()', () => {
  it.each([
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ['{}', false],
    [1, false],
    [undefined, false],
  ])('%j → %s', (value, expected) => {
    expect(isPlainObject(value)).toBe(expected)
  })
})

describe('describeBody()', () => {
  it('gives status, content type and the body', () => {
    const response = typed('<h1>Bad gateway</h1>', 'text/html', 502)
    expect(describeBody(response, '<h1>Bad gateway</h1>')).toBe(
      'HTTP 502, text/html, body: <h1>Bad gateway</h1>',
    )
  })

  it('says when there is no content type or no body', () => {
    expect(describeBody(typed('', undefined, 204), '')).toBe(
      'HTTP 204, no content type, an empty body',
    )
    expect(describeBody(typed(' \n', 'text/plain'), ' \n')).toBe(
      'HTTP 200, text/plain, an empty body',
    )
  })

  it('SO-4: escapes control characters in the body and the content type', () => {
    const body = '\u001b]8;;https://evil.test\u0007click\u001b]8;;\u0007\r\n::error::forged'
    const response = typed(body, 'text/plain')
    expect(describeBody(response, body)).toBe(
      'HTTP 200, text/plain, body: click\\r\\n::error::forged',
    )
  })

  it('SO-3: masks secrets and abbreviates tokens in JSON-looking text', () => {
    const body =
      '{"access_token":"abcdefghijklmnopqrstuvwxyz0123456789","refresh_token":"RT-secret-1"}'
    expect(describeBody(typed(body, 'text/plain'), body)).toBe(
      'HTTP 200, text/plain, body: {"access_token":"abcdefghijkl… (36 chars)","refresh_token":"[redacted 11 chars]"}',
    )
  })

  it('D-3: cuts the excerpt at 200 characters and gives the size of the whole body', () => {
    const body = `{"id_token":"${'x'.repeat(3000)}","padding":"${'p'.repeat(300)}"}`
    const described = describeBody(typed(body, 'text/plain', 500), body)
    const masked = `{"id_token":"xxxxxxxxxxxx… (3000 chars)","padding":"${'p'.repeat(300)}"}`
    expect(described).toBe(
      `HTTP 500, text/plain, body: ${masked.slice(0, 200)}… (truncated, ${body.length} chars)`,
    )
  })
})

describe('rejectRedirect() (security.md HC-3, TR-4)', () => {
  it('lets anything but a 3xx through', () => {
    for (const status of [200, 201, 299, 400, 401, 500]) {
      expect(() =>
        rejectRedirect(typed('', undefined, status), 'token', 'token endpoint'),
      ).not.toThrow()
    }
  })

  it('reports a 3xx with its Location, escaped, as unexpected_redirect (exit 4)', () => {
    const response = new Response(null, {
      status: 307,
      headers: { location: 'https://evil.test/steal\u001b[2J' },
    })
    const error = thrown(() => rejectRedirect(response, 'token', 'token endpoint'))
    expect(error.code).toBe('unexpected_redirect')
    expect(error.exitCode).toBe(4)
    expect(error.stage).toBe('token')
    expect(error.status).toBe(307)
    expect(error.message).toBe(
      'the token endpoint answered HTTP 307 redirecting to https://evil.test/steal; redirects are not followed',
    )
    expect(error.hint).toBe(
      'a redirect here would resend the request body; check the endpoint in the metadata',
    )
  })

  it('says when a 3xx has no Location', () => {
    const error = thrown(() =>
      rejectRedirect(new Response(null, { status: 302 }), 'discovery', 'discovery document'),
    )
    expect(error.message).toBe(
      'the discovery document answered HTTP 302 redirecting to (no Location); redirects are not followed',
    )
  })
})

describe('readJsonObject()', () => {
  const init = { stage: 'par', what: 'PAR response', code: 'par_invalid_response' } as const

  it('returns the parsed object', async () => {
    await expect(
      readJsonObject(typed('{"request_uri":"urn:x","nested":{"a":[1]}}', 'application/json'), init),
    ).resolves.toEqual({ request_uri: 'urn:x', nested: { a: [1] } })
  })

  it('keeps __proto__ as data (security.md JD-5)', async () => {
    const parsed = await readJsonObject(
      typed('{"__proto__":{"polluted":true}}', 'application/json'),
      init,
    )
    expect(Object.keys(parsed)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('D-3: a body that is not labelled JSON fails with the given code, whatever it holds', async () => {
    const error = await rejected(
      readJsonObject(typed('{"request_uri":"urn:x"}', 'text/plain'), init),
    )
    expect(error.code).toBe('par_invalid_response')
    expect(error.stage).toBe('par')
    expect(error.status).toBe(200)
    expect(error.message).toBe(
      'the PAR response is not JSON (HTTP 200, text/plain, body: {"request_uri":"urn:x"})',
    )
  })

  it('a missing content type is not JSON', async () => {
    const error = await rejected(readJsonObject(typed('{}', undefined, 201), init))
    expect(error.message).toBe('the PAR response is not JSON (HTTP 201, no content type, body: {})')
  })

  it('invalid JSON fails', async () => {
    const error = await rejected(readJsonObject(typed('{"a":', 'application/json'), init))
    expect(error.code).toBe('par_invalid_response')
    expect(error.message).toBe(
      'the PAR response is not valid JSON (HTTP 200, application/json, body: {"a":)',
    )
  })

  it.each([
    ['[]', 'the PAR response is not a JSON object (HTTP 200, application/json, body: [])'],
    ['null', 'the PAR response is not a JSON object (HTTP 200, application/json, body: null)'],
    ['"x"', 'the PAR response is not a JSON object (HTTP 200, application/json, body: "x")'],
    ['42', 'the PAR response is not a JSON object (HTTP 200, application/json, body: 42)'],
  ])('%s is not an object', async (body, message) => {
    const error = await rejected(readJsonObject(typed(body, 'application/json'), init))
    expect(error.code).toBe('par_invalid_response')
    expect(error.message).toBe(message)
  })
})

describe('oauthErrorFields() https://www.rfc-editor.org/rfc/rfc6749#section-5.2', () => {
  it('takes error, error_description and error_uri as sent', () => {
    expect(
      oauthErrorFields({
        error: 'invalid_grant',
        error_description: 'Invalid authorization code',
        error_uri: 'https://as.test/errors#invalid_grant',
        other: 1,
      }),
    ).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
      error_uri: 'https://as.test/errors#invalid_grant',
    })
  })

  it('drops members that are not strings', () => {
    expect(
      oauthErrorFields({ error: 'invalid_client', error_description: 42, error_uri: null }),
    ).toEqual({ error: 'invalid_client' })
  })

  it.each([{}, { error: '' }, { error: 400 }, { error_description: 'no error member' }])(
    'is undefined without a non-empty string error: %j',
    (body) => {
      expect(oauthErrorFields(body)).toBeUndefined()
    },
  )
})

describe('describeOAuthError()', () => {
  it('joins error and description', () => {
    expect(
      describeOAuthError({
        error: 'invalid_grant',
        error_description: 'Invalid authorization code',
      }),
    ).toBe('invalid_grant: Invalid authorization code')
    expect(describeOAuthError({ error: 'access_denied' })).toBe('access_denied')
  })

  it('SO-4: sanitises both, so server text cannot drive the terminal or start a line', () => {
    expect(
      describeOAuthError({
        error: 'bad\u001b[31m_thing',
        error_description: 'line one\n::add-mask::x\u202eevil',
      }),
    ).toBe('bad_thing: line one\\n::add-mask::x\\u202eevil')
  })

  it('cuts the error at 100 and the description at 500 characters', () => {
    const text = describeOAuthError({ error: 'e'.repeat(150), error_description: 'd'.repeat(600) })
    expect(text).toBe(
      `${'e'.repeat(100)}… (truncated, 150 chars): ${'d'.repeat(500)}… (truncated, 600 chars)`,
    )
  })
})
