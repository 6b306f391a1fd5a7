import { describe, expect, it } from 'vitest'
import {
  assertionFailure,
  hasAssertions,
  NO_ASSERTIONS,
  parseDuration,
  parseExpectClaim,
  runAssertions,
} from '../../src/commands/assertions.js'
import type { Assertions } from '../../src/commands/assertions.js'
import { CliError } from '../../src/errors.js'

const NOW = new Date('2026-11-24T12:00:00Z')
const NOW_S = NOW.getTime() / 1000

const PAYLOAD = {
  iss: 'https://acme.eu.auth0.com/',
  sub: 'auth0|42',
  aud: ['https://api.acme.test/', 'https://acme.eu.auth0.com/userinfo'],
  azp: 'abc123',
  exp: NOW_S + 3600,
  org_id: 'org_123',
  scope: 'openid profile read:orders',
  permissions: ['delete:orders'],
  cnf: { jkt: 'thumb' },
  email_verified: true,
  count: 3,
  'https://example.com/roles': ['admin', 'ops'],
  'https://x/y': { sub: 1 },
  code: '123',
}

function with_(partial: Partial<Assertions>): Assertions {
  return { ...NO_ASSERTIONS, ...partial }
}

function claims(...texts: string[]): Assertions {
  return with_({ claims: texts.map(parseExpectClaim) })
}

function usageMessage(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(CliError)
    expect((error as CliError).code).toBe('usage_error')
    return (error as CliError).message
  }
  throw new Error('did not throw')
}

describe('parseExpectClaim()', () => {
  it('splits a plain name from a string value', () => {
    expect(parseExpectClaim('azp=abc123')).toEqual({
      name: 'azp',
      path: [{ key: 'azp', quoted: false }],
      text: 'abc123',
      expected: 'abc123',
    })
  })

  it('reads a dotted path for nested claims (cnf.jkt)', () => {
    expect(parseExpectClaim('cnf.jkt=thumb').path).toEqual([
      { key: 'cnf', quoted: false },
      { key: 'jkt', quoted: false },
    ])
  })

  it('keeps a double-quoted namespaced name as one key', () => {
    expect(parseExpectClaim('"https://example.com/roles"=admin')).toEqual({
      name: '"https://example.com/roles"',
      path: [{ key: 'https://example.com/roles', quoted: true }],
      text: 'admin',
      expected: 'admin',
    })
  })

  it("reads a single-quoted segment followed by a path ('https://x/y'.sub)", () => {
    expect(parseExpectClaim("'https://x/y'.sub=1")).toEqual({
      name: "'https://x/y'.sub",
      path: [
        { key: 'https://x/y', quoted: true },
        { key: 'sub', quoted: false },
      ],
      text: '1',
      expected: 1,
    })
  })

  it('parses JSON values: numbers, booleans, arrays, quoted strings; the rest stays a string', () => {
    expect(parseExpectClaim('a=3600').expected).toBe(3600)
    expect(parseExpectClaim('a=true').expected).toBe(true)
    expect(parseExpectClaim('a=["x","y"]').expected).toEqual(['x', 'y'])
    expect(parseExpectClaim('a="123"').expected).toBe('123')
    expect(parseExpectClaim('a=null').expected).toBe(null)
    expect(parseExpectClaim('a=read:orders').expected).toBe('read:orders')
    expect(parseExpectClaim('a=').expected).toBe('')
  })

  it('only the first = outside quotes separates name and value', () => {
    expect(parseExpectClaim('"a=b"=c=d')).toMatchObject({
      path: [{ key: 'a=b', quoted: true }],
      text: 'c=d',
    })
  })

  it('rejects malformed expectations with usage errors', () => {
    expect(usageMessage(() => parseExpectClaim('azp'))).toBe(
      '--expect-claim azp: expected name=value',
    )
    expect(usageMessage(() => parseExpectClaim('=x'))).toBe('--expect-claim =x: empty claim name')
    expect(usageMessage(() => parseExpectClaim('a..b=x'))).toBe(
      '--expect-claim a..b=x: empty claim name',
    )
    expect(usageMessage(() => parseExpectClaim('"abc=x'))).toBe(
      '--expect-claim "abc=x: unbalanced "',
    )
    expect(usageMessage(() => parseExpectClaim('"a"b=x'))).toBe(
      '--expect-claim "a"b=x: expected name=value',
    )
  })
})

describe('parseDuration()', () => {
  it('reads s, m, h, d, combinations and bare seconds', () => {
    expect(parseDuration('90s')).toBe(90)
    expect(parseDuration('5m')).toBe(300)
    expect(parseDuration('1h')).toBe(3600)
    expect(parseDuration('2d')).toBe(172_800)
    expect(parseDuration('1h30m')).toBe(5400)
    expect(parseDuration('45')).toBe(45)
  })

  it('rejects anything else', () => {
    for (const text of ['', '5x', '1.5h', '-5m', 'h', '5 m']) {
      expect(usageMessage(() => parseDuration(text))).toBe(`"${text}" is not a duration`)
    }
  })
})

describe('runAssertions()', () => {
  it('passes matching claims, naming each check', () => {
    const checks = runAssertions(
      PAYLOAD,
      claims(
        'azp=abc123',
        'cnf.jkt=thumb',
        '"https://example.com/roles"=admin',
        "'https://x/y'.sub=1",
        'email_verified=true',
        'count=3',
        'aud=https://api.acme.test/',
        'https://example.com/roles=["admin","ops"]',
        'code="123"',
      ),
      NOW,
    )
    expect(checks).toEqual([
      { name: 'token.expect_claim:azp', ok: true, detail: 'equals "abc123"' },
      { name: 'token.expect_claim:cnf.jkt', ok: true, detail: 'equals "thumb"' },
      {
        name: 'token.expect_claim:"https://example.com/roles"',
        ok: true,
        detail: 'contains "admin"',
      },
      { name: "token.expect_claim:'https://x/y'.sub", ok: true, detail: 'equals 1' },
      { name: 'token.expect_claim:email_verified', ok: true, detail: 'equals true' },
      { name: 'token.expect_claim:count', ok: true, detail: 'equals 3' },
      { name: 'token.expect_claim:aud', ok: true, detail: 'contains "https://api.acme.test/"' },
      {
        name: 'token.expect_claim:https://example.com/roles',
        ok: true,
        detail: 'equals ["admin","ops"]',
      },
      { name: 'token.expect_claim:code', ok: true, detail: 'equals "123"' },
    ])
  })

  it('fails wrong values, missing claims and type mismatches, saying how to compare as a string', () => {
    const checks = runAssertions(
      PAYLOAD,
      claims('org_id=org_999', 'cnf.x5t=abc', 'nope=1', 'code=123', 'count="3"', 'sub.x=1'),
      NOW,
      'access_token',
    )
    expect(checks).toEqual([
      {
        name: 'access_token.expect_claim:org_id',
        ok: false,
        detail: 'is "org_123", expected "org_999"',
      },
      { name: 'access_token.expect_claim:cnf.x5t', ok: false, detail: 'the claim is missing' },
      { name: 'access_token.expect_claim:nope', ok: false, detail: 'the claim is missing' },
      {
        name: 'access_token.expect_claim:code',
        ok: false,
        detail: `is "123", expected 123; to compare as a string write '"123"'`,
      },
      { name: 'access_token.expect_claim:count', ok: false, detail: 'is 3, expected "3"' },
      { name: 'access_token.expect_claim:sub.x', ok: false, detail: 'the claim is missing' },
    ])
  })

  it('JD-5: __proto__ and constructor are looked up as own members only', () => {
    const checks = runAssertions({ a: 1 }, claims('constructor.name=Object', '__proto__=null'), NOW)
    expect(checks.map((check) => check.detail)).toEqual([
      'the claim is missing',
      'the claim is missing',
    ])
    const own = JSON.parse('{"__proto__":{"admin":true}}') as Record<string, unknown>
    expect(runAssertions(own, claims('__proto__.admin=true'), NOW)[0]?.ok).toBe(true)
  })

  it('--require-scope looks in scope, then scp and permissions', () => {
    const checks = runAssertions(
      PAYLOAD,
      with_({ scopes: ['read:orders', 'delete:orders', 'write:orders'] }),
      NOW,
    )
    expect(checks).toEqual([
      { name: 'token.require_scope:read:orders', ok: true, detail: 'granted in scope' },
      { name: 'token.require_scope:delete:orders', ok: true, detail: 'granted in permissions' },
      {
        name: 'token.require_scope:write:orders',
        ok: false,
        detail: 'not granted (scope "openid profile read:orders", permissions "delete:orders")',
      },
    ])
    expect(runAssertions({ scp: ['a', 'b'] }, with_({ scopes: ['b'] }), NOW)[0]).toEqual({
      name: 'token.require_scope:b',
      ok: true,
      detail: 'granted in scp',
    })
    expect(runAssertions({ sub: 'x' }, with_({ scopes: ['a'] }), NOW)[0]).toEqual({
      name: 'token.require_scope:a',
      ok: false,
      detail: 'the token has no scope, scp or permissions claim',
    })
  })

  it('--expect-valid-for compares the time left before exp', () => {
    const valid = (seconds: number, payload: Record<string, unknown> = PAYLOAD) =>
      runAssertions(payload, with_({ validForSeconds: seconds }), NOW)[0]
    expect(valid(300)).toEqual({
      name: 'token.expect_valid_for',
      ok: true,
      detail: 'expires in 1h, at least 5m',
    })
    expect(valid(3600)).toEqual({
      name: 'token.expect_valid_for',
      ok: true,
      detail: 'expires in 1h, at least 1h',
    })
    expect(valid(5400)).toEqual({
      name: 'token.expect_valid_for',
      ok: false,
      detail: 'expires in 1h, less than the 1h 30m required',
    })
    expect(valid(60, { exp: NOW_S - 300 })).toEqual({
      name: 'token.expect_valid_for',
      ok: false,
      detail: 'expired 5m ago, less than the 1m required',
    })
    expect(valid(60, { sub: 'x' })).toEqual({
      name: 'token.expect_valid_for',
      ok: false,
      detail: 'no usable exp claim, so not valid for at least 1m',
    })
  })

  it('fails every assertion when the token has no readable claims', () => {
    const checks = runAssertions(
      null,
      { claims: [parseExpectClaim('a=1')], scopes: ['s'], validForSeconds: 60 },
      NOW,
    )
    expect(checks).toEqual([
      { name: 'token.expect_claim:a', ok: false, detail: 'the token has no readable claims' },
      { name: 'token.require_scope:s', ok: false, detail: 'the token has no readable claims' },
      { name: 'token.expect_valid_for', ok: false, detail: 'the token has no readable claims' },
    ])
  })

  it('sanitises claim values in details (SO-4)', () => {
    const checks = runAssertions(
      { a: '\u001b[31mred\u0007', b: 'x\u202egnp.exe' },
      claims('a=x', 'b=y'),
      NOW,
    )
    expect(checks.map((check) => check.detail)).toEqual([
      'is "\\u001b[31mred\\u0007", expected "x"',
      'is "x\\u202egnp.exe", expected "y"',
    ])
  })
})

describe('hasAssertions() and assertionFailure()', () => {
  it('knows when nothing was asked', () => {
    expect(hasAssertions(NO_ASSERTIONS)).toBe(false)
    expect(hasAssertions(with_({ scopes: ['a'] }))).toBe(true)
    expect(hasAssertions(with_({ validForSeconds: 0 }))).toBe(true)
  })

  it('is assertion_failed (exit 4) naming the failed checks', () => {
    expect(assertionFailure([{ name: 'token.x', ok: true, detail: 'fine' }])).toBeUndefined()
    const one = assertionFailure([
      { name: 'token.a', ok: true, detail: 'fine' },
      { name: 'token.b', ok: false, detail: 'is 1, expected 2' },
    ])
    expect([one?.code, one?.exitCode, one?.message]).toEqual([
      'assertion_failed',
      4,
      'assertion failed: token.b: is 1, expected 2',
    ])
    const two = assertionFailure([
      { name: 'token.a', ok: false, detail: 'x' },
      { name: 'token.b', ok: false, detail: 'y' },
    ])
    expect(two?.message).toBe('2 assertions failed: token.a, token.b')
  })
})
