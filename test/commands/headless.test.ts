import { describe, expect, it } from 'vitest'
import { classifyPage, pageText } from '../../src/commands/headless.js'
import type { PageSnapshot } from '../../src/commands/headless.js'

function snapshot(fields: Partial<PageSnapshot>): PageSnapshot {
  return {
    url: 'https://tenant.test/u/login?state=secret',
    title: 'Log in',
    text: '',
    username: false,
    password: false,
    consent: false,
    alert: '',
    challenge: null,
    ...fields,
  }
}

describe('pageText()', () => {
  it('folds whitespace, strips escape sequences and escapes other controls (sanitize)', () => {
    expect(pageText('Wrong\n\n  password\u001b[31m!\u0007')).toBe('Wrong password!\\x07')
  })

  it('keeps the first 600 characters', () => {
    expect(pageText('x'.repeat(700))).toBe(`${'x'.repeat(600)}…`)
  })
})

describe('classifyPage()', () => {
  const none = new Set<'identifier' | 'password' | 'consent'>()

  it('Auth0 Universal Login identifier-first: the username page, then the password page', () => {
    expect(classifyPage(snapshot({ username: true }), 200, none)).toEqual({ kind: 'identifier' })
    expect(
      classifyPage(snapshot({ password: true }), 200, new Set(['identifier'] as const)),
    ).toEqual({
      kind: 'password',
    })
  })

  it('the classic page asks for both at once; the consent page is answered once', () => {
    expect(classifyPage(snapshot({ username: true, password: true }), 200, none)).toEqual({
      kind: 'classic',
    })
    expect(classifyPage(snapshot({ consent: true }), 200, none)).toEqual({ kind: 'consent' })
    expect(classifyPage(snapshot({ consent: true }), 200, new Set(['consent'] as const))).toEqual({
      kind: 'fail',
      code: 'login_page_unrecognised',
      message: 'the consent page came back after it was answered',
    })
  })

  it('the password page coming back is a rejected login, with the alert shown', () => {
    expect(
      classifyPage(
        snapshot({ password: true, alert: 'Wrong email or password', text: 'Log in Wrong …' }),
        400,
        new Set(['password'] as const),
      ),
    ).toEqual({
      kind: 'fail',
      code: 'login_rejected',
      message: 'the login page refused the username or password: Wrong email or password',
    })
  })

  it('an MFA or CAPTCHA challenge stops the login (exit 4)', () => {
    expect(
      classifyPage(
        snapshot({ challenge: 'mfa', text: 'Enter the code', title: 'Verify' }),
        200,
        none,
      ),
    ).toEqual({
      kind: 'fail',
      code: 'login_challenge',
      message:
        'the login asks for a multi-factor code, which a headless login cannot answer (Verify): Enter the code',
    })
  })

  it('an error page with no form is the server refusing the request; a blank 200 page is waited on', () => {
    expect(
      classifyPage(
        snapshot({ text: 'Callback URL mismatch.\nThe provided redirect_uri is not in the list' }),
        400,
        none,
      ),
    ).toEqual({
      kind: 'fail',
      code: 'login_page_error',
      message:
        'the authorization server showed an error page (HTTP 400) instead of redirecting: Callback URL mismatch. The provided redirect_uri is not in the list',
    })
    expect(classifyPage(snapshot({ text: 'Loading…' }), 200, none)).toEqual({ kind: 'wait' })
  })
})
