import { generateKeyPairSync } from 'node:crypto'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { createRedactor } from '../../src/io/redact.js'
import { createReporter } from '../../src/io/reporter.js'
import { CheckList, ID_TOKEN_CODES, verifyJwt } from '../../src/jwt/verify.js'
import type { Check } from '../../src/jwt/verify.js'
import { main } from '../../src/main.js'
import { createTrace } from '../../src/net/trace.js'
import { testCtx } from '../helpers/test-ctx.js'

// Issue 11: what unit tests of io/, net/ and jwt/ found in the output paths (docs/security.md SO-2,
// SO-3, SO-4, MD-3). Each test failed on the code before its fix.

describe('issue 11: secrets and remote text on the way out', () => {
  it('SO-3: a Cookie or Set-Cookie value is redacted whole in --verbose (only the part after a space was)', () => {
    const lines: string[] = []
    const trace = createTrace({
      write: (line) => lines.push(line),
      showSecrets: false,
      showTokens: false,
    })
    trace.request(
      { method: 'GET', url: new URL('https://as.test/x'), stage: 'discovery' },
      {
        cookie: 'sid=SECRETSESSION; theme=dark',
      },
    )
    trace.response(
      { method: 'GET', url: new URL('https://as.test/x'), stage: 'discovery' },
      new Response('', {
        status: 200,
        headers: { 'set-cookie': 'sid=SECRETSESSION; Path=/; HttpOnly' },
      }),
      new Uint8Array(),
      1,
    )
    expect(lines.join('')).not.toContain('SECRETSESSION')
    expect(lines).toContain('> cookie: [redacted 29 chars]\n')
    expect(lines).toContain('< set-cookie: [redacted 35 chars]\n')
  })

  it('SO-2: the reporter redacts a secret holding a control character (it escaped it first, then missed it)', () => {
    const ctx = testCtx()
    const secrets = createRedactor()
    secrets.add('pa\tss-word-1234')
    createReporter(ctx.io, secrets).step('secret pa\tss-word-1234 here')
    expect(ctx.stderr()).toBe('• secret [redacted 15 chars] here\n')
  })

  it('SO-4: a --debug stack repeats the message escaped on one line: no escape sequence, no forged ::error:: line', async () => {
    const ctx = testCtx()
    const code = await main(['verifier', '--debug'], ctx, {
      run: () => Promise.reject(new Error('evil \u001b]0;pwned\u0007 text\n::error::forged')),
    })
    expect(code).toBe(1)
    const stderr = ctx.stderr()
    expect(stderr).not.toContain('\u001b')
    expect(stderr).not.toContain('\u0007')
    expect(stderr.split('\n').filter((line) => line.startsWith('::'))).toEqual([])
    expect(stderr.split('\n')[1]).toBe('Error: evil  text\\n::error::forged')
  })

  it('MD-3: a matching issuer key that cannot be imported is a failed key check, exit 4 (it was exit 1)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const header = { alg: 'ES256', kid: 'k1' }
    const payload = {
      iss: 'https://as.test/',
      sub: 'u',
      aud: 'c',
      exp: 2_000_000_000,
      iat: 1_795_521_600,
    }
    const token = await new SignJWT(payload).setProtectedHeader(header).sign(privateKey)
    const x = String(publicKey.export({ format: 'jwk' }).x)
    // y = x: well-formed base64url, but not a point on P-256.
    const offCurve = { kty: 'EC', crv: 'P-256', kid: 'k1', x, y: x }
    const checks: Check[] = []
    const error = (await verifyJwt(
      token,
      header,
      payload,
      {
        // Straight to the verifier, past processJwksResponse (which now drops such a key).
        keys: () => Promise.resolve({ keys: [offCurve] }),
        algorithms: ['ES256'],
        issuer: 'https://as.test/',
        audience: 'c',
        now: new Date('2026-11-24T12:00:00Z'),
        clockToleranceSeconds: 60,
        typ: [undefined],
        requiredClaims: [],
      },
      new CheckList(checks, ID_TOKEN_CODES, 'id_token'),
    ).catch((caught: unknown) => caught)) as CliError
    expect({ code: error.code, exitCode: error.exitCode }).toEqual({
      code: 'no_matching_key',
      exitCode: 4,
    })
    expect(checks.at(-1)?.name).toBe('id_token.key')
  })
})
