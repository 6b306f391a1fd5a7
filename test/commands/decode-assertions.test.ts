import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  checkList,
  generateTestKeys,
  JKT,
  NOW_S,
  runCli,
  runCliJson,
  writeKeyFiles,
} from '../helpers/jwt-fixtures.js'
import type { KeyFiles } from '../helpers/jwt-fixtures.js'

// The assertion rules themselves are unit-tested in assertions.test.ts; these run them through
// `pkce decode`, after verification, with their exit code and failure document.

let files: KeyFiles
let rs256 = ''

function file(name: string): string {
  return files.file(name)
}

beforeAll(async () => {
  const keys = await generateTestKeys()
  rs256 = keys.rs256
  files = await writeKeyFiles(keys)
})

afterAll(async () => {
  await files.remove()
})

describe('pkce decode: CI assertions (exit 4, assertion_failed)', () => {
  const passing: [string, string[]][] = [
    ['--expect-claim with a string', ['--expect-claim', 'azp=abc123']],
    ['--expect-claim with a dotted path', ['--expect-claim', `cnf.jkt=${JKT}`]],
    [
      '--expect-claim with a quoted namespaced name',
      ['--expect-claim', '"https://example.com/roles"=admin'],
    ],
    ['--expect-claim with an array element', ['--expect-claim', 'aud=https://api.acme.test/']],
    ['--expect-claim with a JSON number', ['--expect-claim', `exp=${NOW_S + 86_340}`]],
    ['--require-scope from scope', ['--require-scope', 'read:orders']],
    ['--require-scope from permissions', ['--require-scope', 'delete:orders']],
    ['--expect-valid-for', ['--expect-valid-for', '23h']],
  ]
  for (const [label, flags] of passing) {
    it(`${label} passes`, async () => {
      const { code, doc } = await runCliJson(['decode', ...flags, rs256])
      expect(code).toBe(0)
      expect((doc.checks as { ok: boolean }[]).map((c) => c.ok)).toEqual([true])
    })
  }

  const failing: [string, string[], string][] = [
    [
      '--expect-claim',
      ['--expect-claim', 'org_id=org_999'],
      '✗ token.expect_claim:org_id: is "org_123", expected "org_999"',
    ],
    [
      '--expect-claim on a missing claim',
      ['--expect-claim', 'cnf.x5t=abc'],
      '✗ token.expect_claim:cnf.x5t: the claim is missing',
    ],
    [
      '--require-scope',
      ['--require-scope', 'write:orders'],
      '✗ token.require_scope:write:orders: not granted (scope "openid profile read:orders", permissions "read:orders delete:orders")',
    ],
    [
      '--expect-valid-for',
      ['--expect-valid-for', '1d'],
      '✗ token.expect_valid_for: expires in 23h 59m, less than the 1d required',
    ],
  ]
  for (const [label, flags, check] of failing) {
    it(`${label} fails with exit 4`, async () => {
      const { code, doc } = await runCliJson(['decode', ...flags, rs256])
      expect(code).toBe(4)
      expect(checkList(doc)).toEqual([check])
      expect(doc.error).toEqual({
        code: 'assertion_failed',
        message: `assertion failed: ${check.slice(2)}`,
        stage: 'validate',
      })
    })
  }

  it('assertions run after verification, each a named check, in the human report too', async () => {
    const { code, stdout, stderr } = await runCli([
      'decode',
      '--key-file',
      file('rsa.pub.pem'),
      '--expect-claim',
      'azp=abc123',
      '--require-scope',
      'write:orders',
      '--expect-valid-for',
      '5m',
      rs256,
    ])
    expect(code).toBe(4)
    expect(stdout).toContain(`
Checks
  ✓ token.alg                         RS256 is allowed
  ✓ token.signature                   verified with the issuer's RS256 key (kid rsa-1)
  ✓ token.exp                         2026-11-25T11:59:00Z is in the future (tolerance 60s)
  ✓ token.iat                         2026-11-24T11:59:00Z
  ✓ token.expect_claim:azp            equals "abc123"
  ✗ token.require_scope:write:orders  not granted (scope "openid profile read:orders", permissions "read:orders delete:orders")
  ✓ token.expect_valid_for            expires in 23h 59m, at least 5m

✗ 1 of 7 checks failed
`)
    expect(stderr).toBe(
      'error: assertion failed: token.require_scope:write:orders: not granted (scope "openid profile read:orders", permissions "read:orders delete:orders")\n',
    )
  })

  it('assertions on an opaque token fail: it has no claims', async () => {
    const { code, doc } = await runCliJson([
      'decode',
      '--require-scope',
      'read',
      'KBSxkmG-OcpA6-cg',
    ])
    expect(code).toBe(4)
    expect(checkList(doc)).toEqual(['✗ token.require_scope:read: the token has no readable claims'])
  })

  it('malformed assertion flags are usage errors (exit 2)', async () => {
    const cases: [string[], string][] = [
      [
        ['--expect-claim', 'azp'],
        `option '--expect-claim <name=value>' argument 'azp' is invalid. --expect-claim azp: expected name=value (e.g. --expect-claim azp=abc123, --expect-claim cnf.jkt=…, --expect-claim '"https://example.com/roles"=admin')`,
      ],
      [
        ['--expect-valid-for', '5x'],
        `option '--expect-valid-for <duration>' argument '5x' is invalid. "5x" is not a duration (use a number with a unit: 90s, 5m, 1h, 2d (or 1h30m))`,
      ],
      [
        ['--require-scope', 'a b'],
        "option '--require-scope <scope>' argument 'a b' is invalid. one scope per --require-scope (repeat the flag)",
      ],
    ]
    for (const [flags, message] of cases) {
      const { code, doc } = await runCliJson(['decode', ...flags, rs256])
      expect([code, (doc.error as { message: string }).message]).toEqual([2, message])
    }
  })
})
