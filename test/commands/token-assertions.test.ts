import { describe, expect, it } from 'vitest'
import { NO_ASSERTIONS, parseExpectClaim } from '../../src/commands/assertions.js'
import type { Assertions } from '../../src/commands/assertions.js'
import type { AccessTokenReport, ValidatedTokens } from '../../src/commands/exchange-step.js'
import { Flow } from '../../src/commands/flow.js'
import { DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import { assertOnTokens } from '../../src/commands/token-assertions.js'
import { CliError } from '../../src/errors.js'
import { testCtx } from '../helpers/test-ctx.js'

const OPAQUE: AccessTokenReport = {
  kind: 'opaque',
  header: null,
  payload: null,
  verified: false,
  note: undefined,
}
const JWT: AccessTokenReport = {
  kind: 'jws',
  header: { alg: 'RS256' },
  payload: { sub: 'from-access-token', scope: 'read:orders' },
  verified: true,
  note: undefined,
}
const ID_TOKEN = { header: { alg: 'RS256' }, payload: { sub: 'from-id-token' } }

function validated(
  accessToken: AccessTokenReport,
  idToken: ValidatedTokens['id_token'],
): ValidatedTokens {
  return {
    tokens: {
      token_type: 'Bearer',
      access_token: 'at',
      id_token: null,
      refresh_token: null,
      expires_in: null,
      scope: null,
    },
    id_token: idToken,
    access_token: accessToken,
  }
}

function expectSub(value: string): Assertions {
  return { claims: [parseExpectClaim(`sub=${value}`)], scopes: [], validForSeconds: undefined }
}

function run(assertions: Assertions, tokens: ValidatedTokens): { flow: Flow; error?: CliError } {
  const ctx = testCtx()
  const flow = new Flow(DEFAULT_HTTP_SETTINGS, ctx)
  try {
    assertOnTokens(assertions, tokens, flow, ctx)
  } catch (error) {
    if (!(error instanceof CliError)) throw error
    return { flow, error }
  }
  return { flow }
}

describe('assertOnTokens()', () => {
  it('adds no checks without assertions, even when there are no claims at all', () => {
    const { flow, error } = run(NO_ASSERTIONS, validated(OPAQUE, null))
    expect(error).toBeUndefined()
    expect(flow.checks).toEqual([])
  })

  it("asserts on the access token's claims when it is a JWT, in preference to the ID token", () => {
    const { flow, error } = run(
      { ...expectSub('from-access-token'), scopes: ['read:orders'] },
      validated(JWT, ID_TOKEN),
    )
    expect(error).toBeUndefined()
    expect(flow.checks).toEqual([
      { name: 'access_token.expect_claim:sub', ok: true, detail: 'equals "from-access-token"' },
      { name: 'access_token.require_scope:read:orders', ok: true, detail: 'granted in scope' },
    ])
  })

  it("falls back to the ID token's claims when the access token is not a JWT", () => {
    const { flow, error } = run(expectSub('from-id-token'), validated(OPAQUE, ID_TOKEN))
    expect(error).toBeUndefined()
    expect(flow.checks).toEqual([
      { name: 'id_token.expect_claim:sub', ok: true, detail: 'equals "from-id-token"' },
    ])
  })

  it('fails with assertion_failed when there are no claims to assert on', () => {
    const { flow, error } = run(expectSub('x'), validated(OPAQUE, null))
    expect(error?.code).toBe('assertion_failed')
    expect(error?.message).toBe(
      'there are no claims to assert on: the access token is not a JWT and no ID token came',
    )
    expect(error?.hint).toBe('send --audience to get a JWT access token')
    expect(error?.stage).toBe('validate')
    expect(flow.checks).toEqual([])
  })

  it('fails with assertion_failed naming the first failed check, after recording every check', () => {
    const { flow, error } = run(
      { ...expectSub('someone-else'), scopes: ['delete:orders'] },
      validated(JWT, ID_TOKEN),
    )
    expect(error?.code).toBe('assertion_failed')
    expect(error?.message).toBe(
      'access_token.expect_claim:sub: is "from-access-token", expected "someone-else"',
    )
    expect(error?.stage).toBe('validate')
    expect(flow.checks).toEqual([
      {
        name: 'access_token.expect_claim:sub',
        ok: false,
        detail: 'is "from-access-token", expected "someone-else"',
      },
      {
        name: 'access_token.require_scope:delete:orders',
        ok: false,
        detail: 'not granted (scope "read:orders")',
      },
    ])
  })
})
