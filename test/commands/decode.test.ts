import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NO_ASSERTIONS, parseExpectClaim } from '../../src/commands/assertions.js'
import { runDecode } from '../../src/commands/decode.js'
import type { DecodeOptions } from '../../src/commands/decode.js'
import { DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import type { CliError } from '../../src/errors.js'
import {
  CLAIMS,
  generateTestKeys,
  runCli,
  runCliJson,
  unsecured,
  writeKeyFiles,
} from '../helpers/jwt-fixtures.js'
import type { KeyFiles } from '../helpers/jwt-fixtures.js'
import { testCtx } from '../helpers/test-ctx.js'

let files: KeyFiles
let rs256 = ''

beforeAll(async () => {
  const keys = await generateTestKeys()
  rs256 = keys.rs256
  files = await writeKeyFiles(keys)
})

afterAll(async () => {
  await files.remove()
})

function options(inputs: string[], more: Partial<DecodeOptions> = {}): DecodeOptions {
  return { inputs, verify: undefined, assertions: NO_ASSERTIONS, ...more }
}

function keyFile(name: string): DecodeOptions['verify'] {
  return {
    keys: { kind: 'key_file', path: files.file(name) },
    issuer: undefined,
    audience: undefined,
    clockToleranceSeconds: 60,
    http: DEFAULT_HTTP_SETTINGS,
  }
}

const MALFORMED = 'eyJhbGc.eyJ.c2ln'
const NOT_VERIFIED_WARNING = {
  code: 'signature_not_verified',
  message: 'signature not verified: the claims are what the token says, not proven (add --verify)',
}

describe('pkce decode: several tokens', () => {
  it('one malformed token among several: every section, then exit 4 naming the token', async () => {
    const { code, doc } = await runCliJson(['decode', rs256, 'eyJhbGc.eyJ.c2ln'])
    expect(code).toBe(4)
    expect(doc.ok).toBe(false)
    expect(doc.error).toEqual({
      code: 'token_malformed',
      message: 'token 2: the header segment is not a base64url-encoded JSON object',
      hint: 'check the token was copied whole',
      stage: 'decode',
    })
    const tokens = doc.tokens as Record<string, unknown>[]
    expect(tokens.map((t) => [t.ok, t.kind])).toEqual([
      [true, 'jws'],
      [false, null],
    ])
    expect(tokens[1]?.error).toEqual({
      code: 'token_malformed',
      message: 'the header segment is not a base64url-encoded JSON object',
      hint: 'check the token was copied whole',
    })
    const human = await runCli(['decode', rs256, 'eyJhbGc.eyJ.c2ln'])
    expect(human.stdout).toContain('\nToken 2 of 2: Malformed token\n')
    expect(human.stderr).toContain(
      'error: token 2: the header segment is not a base64url-encoded JSON object\n',
    )
  })
})

describe('runDecode()', () => {
  it('one JWS: its report, a structured validity, verification skipped, no failure', async () => {
    const ctx = testCtx()
    const result = await runDecode(options([rs256]), ctx)
    expect(result).toEqual({
      entries: [
        {
          token: rs256,
          report: {
            ok: true,
            kind: 'jws',
            header: { alg: 'RS256', typ: 'JWT', kid: 'rsa-1' },
            payload: CLAIMS,
            signature: { alg: 'RS256', bytes: 256 },
            checks: [],
            warnings: [NOT_VERIFIED_WARNING],
          },
          validity: { state: 'valid', seconds: 86_340 },
          verification: 'skipped',
        },
      ],
      now: new Date('2026-11-24T12:00:00Z'),
      failure: undefined,
    })
    expect(ctx.events).toEqual(['warn signature_not_verified'])
  })

  it('an opaque token has no validity', async () => {
    const result = await runDecode(options(['KBSxkmG-OcpA6-cg']), testCtx())
    expect(result.entries.map((entry) => [entry.report.kind, entry.validity])).toEqual([
      ['opaque', undefined],
    ])
  })

  it('several tokens: stderr names each, the reports do not', async () => {
    const ctx = testCtx()
    const result = await runDecode(options([`Bearer ${rs256}`, 'KBSxkmG-OcpA6-cg']), ctx)
    expect(result.entries[0]?.report.warnings.map((warning) => warning.message)).toEqual([
      'stripped a "Bearer " prefix from the input',
      NOT_VERIFIED_WARNING.message,
    ])
    expect(ctx.stderr()).toMatch(
      /^warning: token 1: stripped a "Bearer " prefix from the input \(input_stripped\)\n/u,
    )
  })

  it('one token that fails: the failure is its error, carrying the report without ok and error', async () => {
    const result = await runDecode(options([MALFORMED]), testCtx())
    const failure = result.failure as CliError
    expect([failure.code, failure.message, failure.hint, failure.stage]).toEqual([
      'token_malformed',
      'the header segment is not a base64url-encoded JSON object',
      'check the token was copied whole',
      'decode',
    ])
    expect(failure.details).toEqual({
      kind: null,
      header: null,
      payload: null,
      signature: null,
      checks: [],
      warnings: [],
    })
    expect(result.entries[0]?.report.ok).toBe(false)
  })

  it('several that fail: the first names its token, keeps its cause and carries every report', async () => {
    const result = await runDecode(options([rs256, MALFORMED, 'eyJ.x']), testCtx())
    const failure = result.failure as CliError
    expect(failure.message).toBe(
      'token 2: the header segment is not a base64url-encoded JSON object',
    )
    expect((failure.cause as CliError).message).toBe(
      'the header segment is not a base64url-encoded JSON object',
    )
    const tokens = failure.details.tokens as { ok: boolean; error?: { message: string } }[]
    expect(tokens.map((report) => [report.ok, report.error?.message])).toEqual([
      [true, undefined],
      [false, 'the header segment is not a base64url-encoded JSON object'],
      [false, 'the token has 2 segments; a JWS has 3 and a JWE 5'],
    ])
  })

  it('security.md JD-2: an oversized token fails as token_too_large, without a malformed-token hint', async () => {
    const result = await runDecode(options([`eyJ.${'A'.repeat(70_000)}.c2ln`]), testCtx())
    const failure = result.failure as CliError
    expect([failure.code, failure.hint]).toEqual(['token_too_large', undefined])
  })

  it('--verify: passed, or failed with the plain "not verified" warning', async () => {
    const passed = await runDecode(options([rs256], { verify: keyFile('rsa.pub.pem') }), testCtx())
    expect(passed.entries[0]?.verification).toBe('passed')
    expect(passed.entries[0]?.report.warnings).toEqual([])
    const failed = await runDecode(
      options([rs256], { verify: keyFile('other.pub.pem') }),
      testCtx(),
    )
    expect(failed.entries[0]?.verification).toBe('failed')
    expect(failed.entries[0]?.report.warnings).toEqual([
      {
        code: 'signature_not_verified',
        message: 'signature not verified: the claims are what the token says, not proven',
      },
    ])
    expect((failed.failure as CliError).code).toBe('token_invalid')
  })

  it('assertions run after verification; a failed one is the failure when verification passed', async () => {
    const result = await runDecode(
      options([unsecured({ azp: 'x' })], {
        assertions: { ...NO_ASSERTIONS, claims: [parseExpectClaim('azp=y')] },
      }),
      testCtx(),
    )
    expect(result.entries[0]?.report.checks).toEqual([
      { name: 'token.expect_claim:azp', ok: false, detail: 'is "x", expected "y"' },
    ])
    expect((result.failure as CliError).message).toBe(
      'assertion failed: token.expect_claim:azp: is "x", expected "y"',
    )
  })
})
