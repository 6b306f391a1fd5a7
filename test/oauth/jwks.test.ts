import { generateKeyPairSync } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import type { Http, HttpRequest } from '../../src/oauth/http.js'
import { jwksRequest, processJwksResponse } from '../../src/oauth/jwks.js'
import { rejection } from '../helpers/cli-error.js'

const json = (body: unknown, status = 200, type = 'application/json'): Response =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': type },
  })

// Real public keys: a key whose members make no key is dropped (MD-3).
const publicJwk = (key: KeyObject): Record<string, unknown> => ({
  ...key.export({ format: 'jwk' }),
})
const RSA = {
  ...publicJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey),
  kid: 'r1',
  use: 'sig',
  alg: 'RS256',
}
const EC = { ...publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), kid: 'e1' }
const OKP = { ...publicJwk(generateKeyPairSync('ed25519').publicKey), kid: 'o1' }

const failure = (response: Response): Promise<CliError> => rejection(processJwksResponse(response))

const outcome = (error: CliError): Record<string, unknown> => ({
  code: error.code,
  exitCode: error.exitCode,
  message: error.message,
  hint: error.hint,
  stage: error.stage,
  status: error.status,
})

describe('jwksRequest()', () => {
  it('MD-3: GETs jwks_uri at the validate stage and hands back the response', async () => {
    const requests: HttpRequest[] = []
    const answer = json({ keys: [] })
    const http: Http = (request) => {
      requests.push(request)
      return Promise.resolve(answer)
    }
    await expect(jwksRequest('https://as.example/.well-known/jwks.json', http)).resolves.toBe(
      answer,
    )
    expect(requests).toEqual([
      {
        method: 'GET',
        url: new URL('https://as.example/.well-known/jwks.json'),
        stage: 'validate',
      },
    ])
  })
})

describe('processJwksResponse() https://www.rfc-editor.org/rfc/rfc7517#section-5', () => {
  it('returns the keys of a 200 JSON object, in order, members untouched', async () => {
    await expect(processJwksResponse(json({ keys: [RSA, EC, OKP], extra: 1 }))).resolves.toEqual({
      keys: [RSA, EC, OKP],
    })
  })

  it('an empty keys array is an empty set, not an error', async () => {
    await expect(processJwksResponse(json({ keys: [] }))).resolves.toEqual({ keys: [] })
  })

  it('accepts application/jwk-set+json (RFC 7517 §8.5)', async () => {
    await expect(
      processJwksResponse(json({ keys: [EC] }, 200, 'application/jwk-set+json; charset=utf-8')),
    ).resolves.toEqual({ keys: [EC] })
  })

  it('MD-3: entries that are not objects are skipped, not fatal', async () => {
    await expect(
      processJwksResponse(json({ keys: [null, 'RSA', 42, true, [RSA], EC] })),
    ).resolves.toEqual({ keys: [EC] })
  })

  it('MD-3: a key without a string kty is skipped', async () => {
    const noKty: Record<string, unknown> = { ...RSA }
    delete noKty.kty
    await expect(
      processJwksResponse(
        json({
          keys: [noKty, { ...RSA, kty: 1 }, { ...RSA, kty: null }, { ...RSA, kty: ['RSA'] }, OKP],
        }),
      ),
    ).resolves.toEqual({ keys: [OKP] })
  })

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])(
    'MD-3: a key carrying the private member %s is never used',
    async (member) => {
      await expect(
        processJwksResponse(json({ keys: [{ ...EC, [member]: 'private-value' }, RSA] })),
      ).resolves.toEqual({ keys: [RSA] })
    },
  )

  it('MD-3: a private member is caught whatever its value (null, empty)', async () => {
    await expect(
      processJwksResponse(
        json({
          keys: [
            { ...EC, d: null },
            { ...EC, d: '' },
            { kty: 'oct', k: '' },
          ],
        }),
      ),
    ).resolves.toEqual({ keys: [] })
  })

  it('MD-3: a key of an unknown kty is skipped (the set is not failed)', async () => {
    const unknown = { kty: 'XYZ', kid: 'u1' }
    await expect(processJwksResponse(json({ keys: [unknown, RSA] }))).resolves.toEqual({
      keys: [RSA],
    })
  })

  it('MD-3: a key whose members make no key is skipped: an EC point off its curve, a short x, a bad RSA modulus (issue 11: it reached jose and ended in exit 1)', async () => {
    const { x, y } = EC as unknown as { x: string; y: string }
    const offCurve = { ...EC, kid: 'bad1', y: x }
    const shortX = { kty: 'EC', crv: 'P-256', kid: 'bad2', x: 'AAAA', y }
    const badRsa = { ...RSA, kid: 'bad3', n: '!!!' }
    await expect(
      processJwksResponse(json({ keys: [offCurve, shortX, badRsa, EC] })),
    ).resolves.toEqual({ keys: [EC] })
  })

  it.each([
    [301, 'https://evil.example/jwks'],
    [302, '/elsewhere'],
    [307, 'https://as.example/jwks2'],
    [308, 'https://as.example/jwks2'],
  ])('HC-3: a %i is unexpected_redirect, exit 4, never followed', async (status, location) => {
    const error = await failure(new Response(null, { status, headers: { location } }))
    expect(outcome(error)).toEqual({
      code: 'unexpected_redirect',
      exitCode: 4,
      message: `the JWKS endpoint answered HTTP ${status} redirecting to ${location}; redirects are not followed`,
      hint: 'a redirect here would resend the request body; check the endpoint in the metadata',
      stage: 'validate',
      status,
    })
  })

  it('HC-3: a 3xx without Location says so', async () => {
    const error = await failure(new Response(null, { status: 303 }))
    expect(error.message).toBe(
      'the JWKS endpoint answered HTTP 303 redirecting to (no Location); redirects are not followed',
    )
  })

  it('SO-4: a redirect Location is shown sanitised', async () => {
    const error = await failure(
      new Response(null, { status: 302, headers: { location: 'https://x/\u0007\u0085' } }),
    )
    expect(error.message).toBe(
      'the JWKS endpoint answered HTTP 302 redirecting to https://x/\\x07\\x85; redirects are not followed',
    )
  })

  it.each([
    [404, 'text/html', '<h1>nope</h1>', 'HTTP 404, text/html, body: <h1>nope</h1>'],
    [500, 'application/json', '{"error":"x"}', 'HTTP 500, application/json, body: {"error":"x"}'],
    [204, 'application/json', '', 'HTTP 204, application/json, an empty body'],
  ])(
    'a %i is jwks_invalid, exit 4, with status, type and excerpt',
    async (status, type, body, shown) => {
      const error = await failure(
        new Response(status === 204 ? null : body, { status, headers: { 'content-type': type } }),
      )
      expect(outcome(error)).toEqual({
        code: 'jwks_invalid',
        exitCode: 4,
        message: `the JWKS request failed (${shown})`,
        hint: undefined,
        stage: 'validate',
        status,
      })
    },
  )

  it.each([
    [
      'not labelled JSON',
      json({ keys: [] }, 200, 'text/plain'),
      'the JWKS is not JSON (HTTP 200, text/plain, body: {"keys":[]})',
    ],
    [
      'not valid JSON',
      json('{"keys": [', 200),
      'the JWKS is not valid JSON (HTTP 200, application/json, body: {"keys": [)',
    ],
    [
      'an array',
      json([{ kty: 'RSA', kid: 'r1' }], 200),
      'the JWKS is not a JSON object (HTTP 200, application/json, body: [{"kty":"RSA","kid":"r1"}])',
    ],
    [
      'null',
      json('null', 200),
      'the JWKS is not a JSON object (HTTP 200, application/json, body: null)',
    ],
  ])('MD-3: a body %s is jwks_invalid', async (_, response, message) => {
    const error = await failure(response)
    expect(outcome(error)).toEqual({
      code: 'jwks_invalid',
      exitCode: 4,
      message,
      hint: undefined,
      stage: 'validate',
      status: 200,
    })
  })

  it.each([
    ['missing', {}],
    ['an object', { keys: { r1: RSA } }],
    ['a string', { keys: 'RSA' }],
    ['null', { keys: null }],
  ])('MD-3: "keys" %s is jwks_invalid', async (_, body) => {
    const error = await failure(json(body))
    expect(outcome(error)).toEqual({
      code: 'jwks_invalid',
      exitCode: 4,
      message: 'the JWKS has no "keys" array',
      hint: undefined,
      stage: 'validate',
      status: undefined,
    })
  })
})
