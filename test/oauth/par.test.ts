import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { processParResponse } from '../../src/oauth/par.js'

const json = (body: unknown, status: number, type = 'application/json'): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': type } })

async function failure(response: Response, publicClient = false): Promise<CliError> {
  return processParResponse(response, publicClient).then(
    () => {
      throw new Error('expected a failure')
    },
    (error: unknown) => error as CliError,
  )
}

describe('processParResponse() https://www.rfc-editor.org/rfc/rfc9126#section-2.2', () => {
  it('accepts 201 with request_uri and expires_in', async () => {
    await expect(
      processParResponse(json({ request_uri: 'urn:x', expires_in: 30 }, 201), false),
    ).resolves.toEqual({
      request_uri: 'urn:x',
      expires_in: 30,
      status: 201,
    })
  })

  it('accepts 200 with a valid body, reporting the status for the warning (security.md D-2)', async () => {
    expect(
      (await processParResponse(json({ request_uri: 'urn:x', expires_in: 30 }, 200), false)).status,
    ).toBe(200)
  })

  it.each([
    [{ expires_in: 30 }, 'the PAR response has no request_uri'],
    [{ request_uri: 'urn:x' }, 'the PAR response has no positive integer expires_in'],
    [
      { request_uri: 'urn:x', expires_in: 0 },
      'the PAR response has no positive integer expires_in',
    ],
    [
      { request_uri: 'urn:x', expires_in: '30' },
      'the PAR response has no positive integer expires_in',
    ],
    [{ request_uri: '', expires_in: 30 }, 'the PAR response has no request_uri'],
  ])('201 %j → par_invalid_response, exit 4', async (body, message) => {
    const error = await failure(json(body, 201))
    expect(error.code).toBe('par_invalid_response')
    expect(error.exitCode).toBe(4)
    expect(error.message.startsWith(message)).toBe(true)
  })

  it('an OAuth error body is par_error, exit 3, with the hint for public clients', async () => {
    const error = await failure(
      json({ error: 'invalid_client', error_description: 'no auth' }, 401),
      true,
    )
    expect(error.code).toBe('par_error')
    expect(error.exitCode).toBe(3)
    expect(error.oauth).toEqual({ error: 'invalid_client', error_description: 'no auth' })
    expect(error.hint).toContain('--client-secret-file')
  })

  it.each([405, 413, 429])(
    'HTTP %i without a JSON body is par_error (RFC 9126 §2.3)',
    async (status) => {
      expect((await failure(new Response('busy', { status }))).code).toBe('par_error')
    },
  )

  it('a 302 is unexpected_redirect, never followed', async () => {
    expect(
      (await failure(new Response(null, { status: 302, headers: { location: '/x' } }))).code,
    ).toBe('unexpected_redirect')
  })

  it('a 500 HTML page is par_unexpected_status, exit 4', async () => {
    const error = await failure(
      new Response('<h1>oops</h1>', { status: 500, headers: { 'content-type': 'text/html' } }),
    )
    expect(error.code).toBe('par_unexpected_status')
    expect(error.message).toBe(
      'the PAR endpoint answered an unexpected status (HTTP 500, text/html, body: <h1>oops</h1>)',
    )
  })
})
