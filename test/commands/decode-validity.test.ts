import { describe, expect, it } from 'vitest'
import { describeValidity, timeWarnings, validityAt } from '../../src/commands/decode-validity.js'
import { NOW_S, runCli, unsecured } from '../helpers/jwt-fixtures.js'

// testCtx's clock.
const NOW = new Date('2026-11-24T12:00:00Z')

describe('pkce decode: the status line and time warnings', () => {
  it('status: expired, not yet valid, no exp', async () => {
    const status = async (payload: Record<string, unknown>) => {
      const { stdout, stderr } = await runCli(['decode', unsecured(payload)])
      return [/status +(.*)\n/u.exec(stdout)?.[1], stderr.split('\n').slice(1, -1)]
    }
    expect(await status({ exp: NOW_S - 300 })).toEqual([
      'expired 5m ago',
      ['warning: the token expired 5m ago (token_expired)'],
    ])
    expect(await status({ exp: NOW_S + 7200, nbf: NOW_S + 300 })).toEqual([
      'not yet valid (valid in 5m; expires in 2h)',
      ['warning: the token is not yet valid (nbf in 5m) (token_not_yet_valid)'],
    ])
    expect(await status({ sub: 'x' })).toEqual(['no exp: never expires', []])
    expect(await status({ exp: NOW_S })).toEqual([
      'expired just now',
      ['warning: the token expired just now (token_expired)'],
    ])
  })

  it('JD-3: impossible dates are shown raw with a warning, never crash', async () => {
    const { code, stdout, stderr } = await runCli([
      'decode',
      unsecured({ exp: 1e20, iat: 'yesterday', nbf: -1e300 }),
    ])
    expect(code).toBe(0)
    expect(stdout).toContain(
      '\nPayload\n' +
        '  exp  100000000000000000000  # not a valid NumericDate\n' +
        '  iat  yesterday              # issued at\n' +
        '  nbf  -1e+300                # not a valid NumericDate\n',
    )
    expect(stdout).toContain('  status     exp is not a valid date\n')
    expect(stderr).toContain(
      'warning: exp is not a valid NumericDate: 100000000000000000000 (claim_time_invalid)\n',
    )
    expect(stderr).toContain(
      'warning: iat is not a valid NumericDate: "yesterday" (claim_time_invalid)\n',
    )
    expect(stderr).toContain(
      'warning: nbf is not a valid NumericDate: -1e+300 (claim_time_invalid)\n',
    )
  })
})

describe('validityAt()', () => {
  it('https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4 exp ahead, passed, exactly now', () => {
    expect(validityAt({ exp: NOW_S + 90 }, NOW)).toEqual({ state: 'valid', seconds: 90 })
    expect(validityAt({ exp: NOW_S - 300 }, NOW)).toEqual({ state: 'expired', seconds: 300 })
    expect(validityAt({ exp: NOW_S }, NOW)).toEqual({ state: 'expired', seconds: 0 })
  })

  it('no exp, and an exp that is not a usable NumericDate (security.md JD-3)', () => {
    expect(validityAt({}, NOW)).toEqual({ state: 'no_exp' })
    expect(validityAt({ exp: 1e20 }, NOW)).toEqual({ state: 'exp_invalid' })
    expect(validityAt({ exp: 'tomorrow' as unknown as number }, NOW)).toEqual({
      state: 'exp_invalid',
    })
  })

  it('https://www.rfc-editor.org/rfc/rfc7519#section-4.1.5 before nbf: the wait and the expiry', () => {
    expect(validityAt({ nbf: NOW_S + 300, exp: NOW_S + 7200 }, NOW)).toEqual({
      state: 'not_yet_valid',
      seconds: 300,
      expiry: { state: 'valid', seconds: 7200 },
    })
    expect(validityAt({ nbf: NOW_S + 300 }, NOW)).toEqual({
      state: 'not_yet_valid',
      seconds: 300,
      expiry: { state: 'no_exp' },
    })
  })

  it('an nbf that has passed, or is not a usable date, changes nothing', () => {
    expect(validityAt({ nbf: NOW_S, exp: NOW_S + 60 }, NOW)).toEqual({
      state: 'valid',
      seconds: 60,
    })
    expect(validityAt({ nbf: -1e300 }, NOW)).toEqual({ state: 'no_exp' })
  })
})

describe('describeValidity()', () => {
  it('each state in words', () => {
    expect(describeValidity({ state: 'valid', seconds: 86_340 })).toBe('expires in 23h 59m')
    expect(describeValidity({ state: 'expired', seconds: 300 })).toBe('expired 5m ago')
    expect(describeValidity({ state: 'expired', seconds: 0 })).toBe('expired just now')
    expect(describeValidity({ state: 'no_exp' })).toBe('no exp: never expires')
    expect(describeValidity({ state: 'exp_invalid' })).toBe('exp is not a valid date')
    expect(
      describeValidity({
        state: 'not_yet_valid',
        seconds: 300,
        expiry: { state: 'expired', seconds: 60 },
      }),
    ).toBe('not yet valid (valid in 5m; expired 1m ago)')
  })
})

describe('timeWarnings()', () => {
  it('time claims that are not NumericDates first, then expired, then not yet valid', () => {
    const payload = { exp: NOW_S - 60, nbf: NOW_S + 300, iat: 'yesterday' as unknown as number }
    expect(timeWarnings(payload, validityAt(payload, NOW), NOW)).toEqual([
      { code: 'claim_time_invalid', message: 'iat is not a valid NumericDate: "yesterday"' },
      { code: 'token_expired', message: 'the token expired 1m ago' },
      { code: 'token_not_yet_valid', message: 'the token is not yet valid (nbf in 5m)' },
    ])
  })

  it("updated_at as an ISO string (Auth0's profile claim) is not warned on; as a bad number it is", () => {
    const iso = { updated_at: '2026-11-24T11:00:00.000Z' }
    expect(timeWarnings(iso, validityAt(iso, NOW), NOW)).toEqual([])
    const bad = { updated_at: 1e20 }
    expect(timeWarnings(bad, validityAt(bad, NOW), NOW)).toEqual([
      {
        code: 'claim_time_invalid',
        message: 'updated_at is not a valid NumericDate: 100000000000000000000',
      },
    ])
  })

  it('a valid token with good times raises nothing', () => {
    const payload = { iat: NOW_S - 60, exp: NOW_S + 60, auth_time: NOW_S - 120 }
    expect(timeWarnings(payload, validityAt(payload, NOW), NOW)).toEqual([])
  })
})
