import { describe, expect, it } from 'vitest'
import type { LoginResult } from '../../src/commands/login.js'
import { renderLogin } from '../../src/commands/login-render.js'
import { testCtx } from '../helpers/test-ctx.js'

const NOW = new Date('2026-11-24T12:00:00Z')
const T = NOW.getTime() / 1000

const ACCESS_TOKEN =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhdXRoMHwxMjMifQ.c2lnbmF0dXJlLWF0'
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhdXRoMHwxMjMifQ.c2lnbmF0dXJlLWlk'
const REFRESH_TOKEN = 'v1.MRq7Zx9KpW2LmN4tY8sB3dF6gH0jQ5'

function result(overrides: Partial<LoginResult> = {}): LoginResult {
  return {
    issuer: 'https://acme.test/',
    client_id: 'abc',
    redirect_uri: 'http://127.0.0.1:8484/callback',
    authorization_url: 'https://acme.test/authorize?client_id=abc',
    pkce: {
      code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    },
    state: 'st-1',
    nonce: 'n-1',
    par: null,
    dpop: null,
    tokens: {
      token_type: 'Bearer',
      access_token: ACCESS_TOKEN,
      id_token: ID_TOKEN,
      refresh_token: REFRESH_TOKEN,
      expires_in: 86_400,
      scope: 'openid profile offline_access read:orders',
    },
    id_token: {
      header: { alg: 'RS256', kid: 'k1', typ: 'JWT' },
      payload: {
        iss: 'https://acme.test/',
        sub: 'auth0|123',
        aud: 'abc',
        exp: T + 3600,
        iat: T - 60,
        nonce: 'n-1',
        name: 'Ada\u001b[2J Lovelace\u001b ',
      },
    },
    access_token: {
      kind: 'jws',
      header: { alg: 'RS256', typ: 'at+jwt', kid: 'k1' },
      payload: {
        iss: 'https://acme.test/',
        sub: 'auth0|123',
        aud: ['https://api.acme.test/', 'https://acme.test/userinfo'],
        exp: T + 86_400,
        scope: 'openid read:orders',
        'https://acme.test/roles': ['admin'],
      },
      verified: true,
      note: undefined,
    },
    checks: [
      { name: 'id_token.signature', ok: true, detail: 'RS256, kid k1' },
      { name: 'access_token.aud', ok: true, detail: 'contains https://api.acme.test/' },
    ],
    warnings: [],
    timings_ms: { discovery: 12, authorize: 3400, token: 85 },
    ...overrides,
  }
}

function render(
  login: LoginResult,
  options: { showTokens?: boolean; tty?: boolean } = {},
): { stdout: string; stderr: string } {
  const ctx = testCtx({ tty: options.tty === true })
  renderLogin(login, ctx.io, { showTokens: options.showTokens === true, now: NOW })
  return { stdout: ctx.stdout(), stderr: ctx.stderr() }
}

const ID_TOKEN_SECTION = [
  '',
  'ID token',
  '  header',
  '    alg  RS256',
  '    kid  k1',
  '    typ  JWT',
  '  payload',
  '    iss    https://acme.test/             # issuer: who made the token',
  '    sub    auth0|123                      # subject: the user (or client) it is about',
  '    aud    abc                            # audience: who it is for',
  '    exp    2026-11-24T13:00:00Z (in 1h)   # expiration time',
  '    iat    2026-11-24T11:59:00Z (1m ago)  # issued at',
  '    nonce  n-1                            # echoes the nonce of the authorization request',
  '    name   Ada Lovelace\\x1b ',
]

const ACCESS_TOKEN_LINES = [
  '  header',
  '    alg  RS256',
  '    typ  at+jwt',
  '    kid  k1',
  '  payload',
  '    iss                      https://acme.test/            # issuer: who made the token',
  '    sub                      auth0|123                     # subject: the user (or client) it is about',
  '    aud                      ["https://api.acme.test/","https://acme.test/userinfo"]  # audience: who it is for',
  '    exp                      2026-11-25T12:00:00Z (in 1d)  # expiration time',
  '    scope                    openid read:orders            # granted scopes, space-separated',
  '    https://acme.test/roles  ["admin"]                     # namespaced custom claim',
]

const TAIL = [
  '',
  'Checks',
  '  ✓ id_token.signature     RS256, kid k1',
  '  ✓ access_token.aud       contains https://api.acme.test/',
  '',
  'Timings',
  '  discovery 12 ms · authorize 3400 ms · token 85 ms',
  '',
  '✓ login succeeded: every check passed',
  '',
]

describe('renderLogin()', () => {
  it('the whole report on stdout, tokens abbreviated, nothing on stderr', () => {
    const { stdout, stderr } = render(result())
    expect(stdout).toBe(
      [
        '',
        'Tokens',
        '  token_type     Bearer',
        '  access_token   eyJhbGciOiJS… (84 chars)',
        '  id_token       eyJhbGciOiJS… (79 chars)',
        '  refresh_token  present (33 chars; --print refresh_token or --json shows it)',
        '  expires_in     86400s (in 1d)',
        '  scope          openid profile offline_access read:orders',
        ...ID_TOKEN_SECTION,
        '',
        'Access token (jws, verified)',
        ...ACCESS_TOKEN_LINES,
        ...TAIL,
      ].join('\n'),
    )
    expect(stderr).toBe('')
    expect(stdout).not.toContain('\u001b')
    expect(stdout).not.toContain(ACCESS_TOKEN)
    expect(stdout).not.toContain(ID_TOKEN)
  })

  it('--show-tokens: the access and ID tokens whole', () => {
    const { stdout } = render(result(), { showTokens: true })
    expect(stdout.split('\n').slice(0, 6)).toEqual([
      '',
      'Tokens',
      '  token_type     Bearer',
      `  access_token   ${ACCESS_TOKEN}`,
      `  id_token       ${ID_TOKEN}`,
      '  refresh_token  present (33 chars; --print refresh_token or --json shows it)',
    ])
  })

  it.each([false, true])(
    'never shows the refresh token, not even in part (showTokens %s; docs/security.md SO-2)',
    (showTokens) => {
      const { stdout } = render(result(), { showTokens })
      for (let at = 0; at + 4 <= REFRESH_TOKEN.length; at++) {
        expect(stdout).not.toContain(REFRESH_TOKEN.slice(at, at + 4))
      }
    },
  )

  it('without refresh token, ID token, expiry and scope', () => {
    const { stdout } = render(
      result({
        tokens: {
          token_type: 'Bearer',
          access_token: ACCESS_TOKEN,
          id_token: null,
          refresh_token: null,
          expires_in: null,
          scope: null,
        },
        id_token: null,
      }),
    )
    expect(stdout).toBe(
      [
        '',
        'Tokens',
        '  token_type     Bearer',
        '  access_token   eyJhbGciOiJS… (84 chars)',
        '  refresh_token  none (ask for offline_access)',
        '  scope          not returned',
        '',
        'Access token (jws, verified)',
        ...ACCESS_TOKEN_LINES,
        ...TAIL,
      ].join('\n'),
    )
  })

  it('an opaque access token: no header or payload, its note', () => {
    const note =
      'The access token is opaque (32 characters): only the authorization server can read it. To get a JWT, send --audience <your API identifier>.'
    const { stdout } = render(
      result({
        id_token: null,
        access_token: { kind: 'opaque', header: null, payload: null, verified: false, note },
      }),
    )
    expect(stdout).toContain(`\nAccess token (opaque)\n  ${note}\n\nChecks\n`)
    expect(stdout).not.toContain('  header')
    expect(stdout).not.toContain('  payload')
  })

  it('a JWT access token that was not verified says so', () => {
    const note = 'The access token is a JWT from another issuer: shown decoded, not verified.'
    const { stdout } = render(
      result({
        id_token: null,
        access_token: {
          kind: 'jws',
          header: { alg: 'RS256' },
          payload: { iss: 'https://other.test/' },
          verified: false,
          note,
        },
      }),
    )
    expect(stdout).toContain(
      [
        '',
        'Access token (jws, NOT verified)',
        '  header',
        '    alg  RS256',
        '  payload',
        '    iss  https://other.test/  # issuer: who made the token',
        `  ${note}`,
        '',
        'Checks',
      ].join('\n'),
    )
  })

  it('an encrypted access token: the header only', () => {
    const note = 'The access token is encrypted (JWE); only its resource server can read it.'
    const { stdout } = render(
      result({
        id_token: null,
        access_token: {
          kind: 'jwe',
          header: { alg: 'RSA-OAEP', enc: 'A256GCM' },
          payload: null,
          verified: false,
          note,
        },
      }),
    )
    expect(stdout).toContain(
      `\nAccess token (jwe)\n  header\n    alg  RSA-OAEP\n    enc  A256GCM\n  ${note}\n\nChecks\n`,
    )
  })

  it('a failed check is marked ✗; its detail is sanitised', () => {
    const { stdout } = render(
      result({
        checks: [
          { name: 'id_token.signature', ok: true, detail: 'RS256, kid k1' },
          { name: 'access_token.aud', ok: false, detail: 'is "https://x\u001b[2J\u001b y"' },
        ],
      }),
    )
    expect(stdout).toContain(
      '\nChecks\n  ✓ id_token.signature     RS256, kid k1\n  ✗ access_token.aud       is "https://x\\x1b y"\n\nTimings\n',
    )
  })

  it('warnings: each with its code, remote text sanitised', () => {
    const { stdout } = render(
      result({
        warnings: [
          { code: 'id_token_alg', message: 'the server said \u001b hello\u202e\nforged line' },
          { code: 'dpop_downgrade', message: 'accepted as an unbound Bearer token' },
        ],
      }),
    )
    expect(stdout).toContain(
      [
        '',
        'Warnings',
        '  ! the server said \\x1b hello\\u202e\\nforged line (id_token_alg)',
        '  ! accepted as an unbound Bearer token (dpop_downgrade)',
        '',
        'Timings',
      ].join('\n'),
    )
    expect(stdout).not.toContain('\u001b')
  })

  it('no Warnings section without warnings', () => {
    expect(render(result()).stdout).not.toContain('Warnings')
  })

  it('remote token_type and scope are sanitised', () => {
    const base = result()
    const { stdout } = render(
      result({
        tokens: {
          ...base.tokens,
          token_type: 'Bearer\u001b[31m\u001b ',
          scope: 'openid\u001b ::add-mask::x',
        },
      }),
    )
    expect(stdout).toContain('\n  token_type     Bearer\\x1b \n')
    expect(stdout).toContain('\n  scope          openid\\x1b ::add-mask::x\n')
    expect(stdout).not.toContain('\u001b')
  })

  it('on a terminal: colours for headings, marks and the verdict', () => {
    const { stdout } = render(
      result({
        checks: [
          { name: 'a', ok: true, detail: 'ok' },
          { name: 'b', ok: false, detail: 'bad' },
        ],
        warnings: [{ code: 'w', message: 'careful' }],
      }),
      { tty: true },
    )
    expect(stdout).toContain('\n\u001b[1m\u001b[4mChecks\u001b[24m\u001b[22m\n')
    expect(stdout).toContain(`  \u001b[32m✓\u001b[39m ${'a'.padEnd(22)} ok\n`)
    expect(stdout).toContain(`  \u001b[31m✗\u001b[39m ${'b'.padEnd(22)} bad\n`)
    expect(stdout).toContain('  \u001b[33m!\u001b[39m careful \u001b[2m(w)\u001b[22m\n')
    expect(
      stdout.endsWith(
        '\n\u001b[32m\u001b[1m✓ login succeeded\u001b[22m\u001b[39m: every check passed\n',
      ),
    ).toBe(true)
  })
})
