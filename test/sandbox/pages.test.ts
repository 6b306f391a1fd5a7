import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { consentPage, errorPage, escapeHtml, loginPage } from '../../src/sandbox/pages.js'
import type { HtmlPage } from '../../src/sandbox/pages.js'

const HOSTILE = `<script>alert("x")</script>'&`
const ESCAPED = '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39;&#38;'

function inlineStyleHash(page: HtmlPage): string {
  const style = /<style>([^<]*)<\/style>/.exec(page.body)?.[1]
  if (style === undefined) throw new Error('the page has no inline style')
  return createHash('sha256').update(style).digest('base64')
}

describe('escapeHtml()', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(HOSTILE)).toBe(ESCAPED)
    expect(escapeHtml('plain text')).toBe('plain text')
  })
})

describe('loginPage() identifier-first (Auth0 Universal Login)', () => {
  it('asks for the username alone, then for the password with the username kept', () => {
    const identifier = loginPage({ action: '/u/login/abc', clientName: 'App', step: 'identifier' })
    expect(identifier.body).toContain('<input id="username" name="username"')
    expect(identifier.body).toContain('<input type="hidden" name="step" value="identifier">')
    expect(identifier.body).not.toContain('type="password"')
    const password = loginPage({
      action: '/u/login/abc',
      clientName: 'App',
      step: 'password',
      username: HOSTILE,
    })
    expect(password.body).toContain(`<input type="hidden" name="username" value="${ESCAPED}">`)
    expect(password.body).toContain('name="password" type="password"')
    expect(password.body).not.toContain('name="step"')
  })
})

describe('loginPage()', () => {
  const page = loginPage({
    action: '/u/login/abc',
    clientName: HOSTILE,
    redirectUri: 'http://127.0.0.1:8484/callback?x=1',
    username: `"><img src=x>`,
  })

  it('sends safe headers, allowing form redirects to the callback origin only', () => {
    expect(page.status).toBe(200)
    expect(page.headers).toEqual({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${inlineStyleHash(page)}'; form-action 'self' http://127.0.0.1:8484; frame-ancestors 'none'; base-uri 'none'`,
    })
  })

  it('escapes every interpolated value', () => {
    expect(page.body).toContain(`<h1>Log in to continue to ${ESCAPED}</h1>`)
    expect(page.body).toContain('value="&#34;&#62;&#60;img src=x&#62;"')
    expect(page.body).not.toContain('<script>')
    expect(page.body).not.toContain('<img')
  })

  it('has the form the scripted agent fills', () => {
    expect(page.body).toContain(
      '<form method="post" action="/u/login/abc" data-sandbox-form="login">',
    )
    expect(page.body).toContain('name="username"')
    expect(page.body).toContain('name="password" type="password"')
  })

  it('answers 400 with the reason after a rejected attempt', () => {
    const rejected = loginPage({ action: '/u/login/abc', clientName: 'App', error: HOSTILE })
    expect(rejected.status).toBe(400)
    expect(rejected.body).toContain(`<p class="error" role="alert">${ESCAPED}</p>`)
    expect(rejected.headers['Content-Security-Policy']).toContain(`form-action 'self';`)
  })
})

describe('consentPage()', () => {
  const page = consentPage({
    action: '/u/consent/xyz',
    clientName: 'App',
    username: HOSTILE,
    redirectUri: 'http://[::1]:9000/callback',
    scopes: ['openid', HOSTILE],
    audience: 'https://api.sandbox.test/',
    organization: 'Acme',
    authorizationDetails: [{ type: 'payment_initiation', note: '</pre><script>' }],
  })

  it('shows what is granted, escaped', () => {
    expect(page.status).toBe(200)
    expect(page.body).toContain(`<p>Signed in as <strong>${ESCAPED}</strong></p>`)
    expect(page.body).toContain(`<li><code>openid</code></li><li><code>${ESCAPED}</code></li>`)
    expect(page.body).toContain('<p>API: <code>https://api.sandbox.test/</code></p>')
    expect(page.body).toContain('<p>Organization: <strong>Acme</strong></p>')
    expect(page.body).toContain('&#34;note&#34;: &#34;&#60;/pre&#62;&#60;script&#62;&#34;')
    expect(page.body).not.toContain('<script>')
  })

  it('offers Accept and Deny', () => {
    expect(page.body).toContain(
      '<form method="post" action="/u/consent/xyz" data-sandbox-form="consent">',
    )
    expect(page.body).toContain(
      '<button type="submit" name="action" value="accept">Accept</button>',
    )
    expect(page.body).toContain('<button type="submit" name="action" value="deny">Deny</button>')
  })

  it('allows an [::1] callback by its scheme: CSP host sources cannot name IPv6 literals', () => {
    expect(page.headers['Content-Security-Policy']).toContain(`form-action 'self' http:;`)
  })
})

describe('errorPage()', () => {
  it('shows the error code and description for people and the scripted agent', () => {
    const page = errorPage({ status: 400, error: 'invalid_request', error_description: HOSTILE })
    expect(page.status).toBe(400)
    expect(page.body).toContain('<h1 data-sandbox-error="invalid_request">invalid_request</h1>')
    expect(page.body).toContain(`<p data-sandbox-error-description="">${ESCAPED}</p>`)
    expect(page.headers['Cache-Control']).toBe('no-store')
  })

  it('leaves the description out when there is none', () => {
    const page = errorPage({ status: 500, error: 'server_error' })
    expect(page.body).not.toContain('data-sandbox-error-description')
  })
})
