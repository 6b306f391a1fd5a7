import { describe, expect, it } from 'vitest'
import { CliError, EXIT, isCliError } from '../src/errors.js'
import type { ErrorCode } from '../src/errors.js'

// The list of codes itself is compared with docs/security.md D-6 in test/architecture.test.ts;
// these tests are about the class that carries them.

describe('EXIT (security.md D-6)', () => {
  it('names each exit code of the table', () => {
    expect(EXIT).toEqual({
      ok: 0,
      internal: 1,
      usage: 2,
      oauth: 3,
      protocol: 4,
      network: 5,
      interrupted: 130,
    })
  })
})

describe('CliError', () => {
  it('carries code, message, hint, stage, oauth and status', () => {
    const oauth = { error: 'invalid_grant', error_description: 'bad code', error_uri: 'https://x/' }
    const error = new CliError('token_error', 'the token request failed', {
      hint: 'check the code',
      stage: 'token',
      oauth,
      status: 400,
    })
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(CliError)
    expect({
      name: error.name,
      code: error.code,
      message: error.message,
      hint: error.hint,
      stage: error.stage,
      oauth: error.oauth,
      status: error.status,
      details: error.details,
      exitCode: error.exitCode,
    }).toEqual({
      name: 'CliError',
      code: 'token_error',
      message: 'the token request failed',
      hint: 'check the code',
      stage: 'token',
      oauth,
      status: 400,
      details: {},
      exitCode: 3,
    })
    expect(String(error)).toBe('CliError: the token request failed')
  })

  it('without init: no hint, stage, oauth, status or cause; empty details', () => {
    const error = new CliError('usage_error', 'bad flag')
    expect([error.hint, error.stage, error.oauth, error.status]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ])
    expect('cause' in error).toBe(false)
    expect(error.details).toEqual({})
  })

  it('keeps a cause, any value but undefined', () => {
    const cause = new TypeError('fetch failed')
    expect(new CliError('network_error', 'x', { cause }).cause).toBe(cause)
    expect(new CliError('network_error', 'x', { cause: 'text' }).cause).toBe('text')
    expect(new CliError('network_error', 'x', { cause: null }).cause).toBeNull()
    expect('cause' in new CliError('network_error', 'x', { cause: undefined })).toBe(false)
  })

  it('details are per instance and writable for the --json document', () => {
    const one = new CliError('assertion_failed', 'x')
    const two = new CliError('assertion_failed', 'y')
    one.details.checks = [{ name: 'a', ok: false }]
    expect(one.details).toEqual({ checks: [{ name: 'a', ok: false }] })
    expect(two.details).toEqual({})
  })

  it.each<[ErrorCode, number]>([
    ['internal_error', 1],
    ['usage_error', 2],
    ['code_verifier_invalid', 2],
    ['insecure_not_loopback', 2],
    ['authorization_error', 3],
    ['par_error', 3],
    ['dpop_nonce_loop', 3],
    ['metadata_issuer_mismatch', 4],
    ['unexpected_redirect', 4],
    ['state_mismatch', 4],
    ['token_response_not_json', 4],
    ['id_token_signature_invalid', 4],
    ['assertion_failed', 4],
    ['token_malformed', 4],
    ['network_error', 5],
    ['tls_error', 5],
    ['callback_timeout', 5],
    ['port_in_use', 5],
    ['interrupted', 130],
  ])('exitCode of %s is %i', (code, exit) => {
    expect(new CliError(code, 'm').exitCode).toBe(exit)
  })

  it('exitCode is a getter, not a stored field', () => {
    const error = new CliError('usage_error', 'm')
    expect(Object.keys(error)).not.toContain('exitCode')
    // An accessor: `get` and `set` members, no `value`.
    expect(
      Object.keys(Object.getOwnPropertyDescriptor(CliError.prototype, 'exitCode') ?? {}),
    ).toEqual(['get', 'set', 'enumerable', 'configurable'])
  })
})

describe('isCliError()', () => {
  it('is true for a CliError and false for anything else', () => {
    expect(isCliError(new CliError('timeout', 'm'))).toBe(true)
    expect(isCliError(new Error('m'))).toBe(false)
    expect(isCliError({ name: 'CliError', code: 'timeout', exitCode: 5, message: 'm' })).toBe(false)
    expect(isCliError(undefined)).toBe(false)
    expect(isCliError(null)).toBe(false)
    expect(isCliError('timeout')).toBe(false)
  })

  it('is true for a subclass', () => {
    class Sub extends CliError {}
    expect(isCliError(new Sub('timeout', 'm'))).toBe(true)
  })
})
