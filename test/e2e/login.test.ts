import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_AUDIENCE,
  DEFAULT_CLIENT_IDS,
  DEFAULT_ORGANIZATION,
} from '../../src/sandbox/config.js'
import { BIN, jsonOf, runCli, startCli, STACK_FRAME } from '../helpers/spawn-cli.js'
import { startTestTenant } from './tenant.js'
import type { TestTenant } from './tenant.js'

// The browser is the sandbox user, played headlessly by the product's own command.
const BROWSER = `"${process.execPath}" "${BIN}" sandbox-user`

let tenant: TestTenant

beforeAll(async () => {
  tenant = await startTestTenant()
})
afterAll(async () => {
  await tenant.close()
})

function login(args: string[], browser = BROWSER) {
  return runCli(
    [
      'login',
      '--issuer',
      tenant.sandbox.issuer,
      '--port',
      '0',
      '--browser',
      browser,
      '--timeout',
      '20',
      ...args,
    ],
    { env: tenant.env, timeoutMs: 30_000 },
  )
}

/** `pkce login` against the tenant with its public client; the test adds the rest. */
function publicLogin(): string[] {
  return ['login', '--issuer', tenant.sandbox.issuer, '--client-id', DEFAULT_CLIENT_IDS.public]
}

function checkNames(doc: Record<string, unknown>): string[] {
  return (doc.checks as { name: string; ok: boolean }[]).map(
    (check) => `${check.ok ? '✓' : '✗'} ${check.name}`,
  )
}

describe.concurrent('pkce login against the sandbox tenant over HTTPS', () => {
  it('public client: every check passes and the human report says so', async () => {
    const run = await login(['--client-id', DEFAULT_CLIENT_IDS.public])
    expect(run.code).toBe(0)
    expect(run.stderr).toContain('Open this URL to sign in:\n  https://127.0.0.1:')
    expect(run.stderr).not.toMatch(STACK_FRAME)
    expect(run.stdout).toContain('\nChecks\n  ✓ callback.state         equals the state sent\n')
    expect(run.stdout).toContain("  ✓ id_token.signature     verified with the issuer's RS256 key")
    expect(run.stdout).toContain('\n✓ login succeeded: every check passed\n')
    // Tokens are abbreviated in human output (security.md SO-2).
    expect(run.stdout).toMatch(/ {2}access_token {3}\S{1,12}… \(\d+ chars\)\n/)
  })

  it('--json: exactly one document with the documented shape; the URL holds no verifier (SO-8, CI-1)', async () => {
    const run = await login(['--client-id', DEFAULT_CLIENT_IDS.public, '--json'])
    expect(run.code).toBe(0)
    const doc = jsonOf(run)
    expect(Object.keys(doc)).toEqual([
      'ok',
      'issuer',
      'client_id',
      'redirect_uri',
      'authorization_url',
      'pkce',
      'state',
      'nonce',
      'par',
      'dpop',
      'tokens',
      'id_token',
      'access_token',
      'checks',
      'warnings',
      'timings_ms',
    ])
    expect(doc.ok).toBe(true)
    expect(doc.issuer).toBe(tenant.sandbox.issuer)
    expect(doc.redirect_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    expect(Object.keys(doc.tokens as object)).toEqual([
      'token_type',
      'access_token',
      'id_token',
      'refresh_token',
      'expires_in',
      'scope',
    ])
    const authorizationUrl = new URL(doc.authorization_url as string)
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorizationUrl.searchParams.get('code_challenge')).toBe(
      (doc.pkce as { code_challenge: string }).code_challenge,
    )
    expect(authorizationUrl.searchParams.has('code_verifier')).toBe(false)
    expect((doc.access_token as { kind: string }).kind).toBe('opaque')
    expect(Object.keys(doc.timings_ms as object)).toEqual([
      'discovery',
      'authorize',
      'token',
      'validate',
      'total',
    ])
    expect(run.stdout.trim().startsWith('{') && run.stdout.trim().endsWith('}')).toBe(true)
  })

  it.each([
    [
      'client_secret_post',
      ['--client-id', DEFAULT_CLIENT_IDS.confidential, '--client-auth', 'client_secret_post'],
    ],
    [
      'client_secret_basic',
      ['--client-id', DEFAULT_CLIENT_IDS.confidential, '--client-auth', 'client_secret_basic'],
    ],
  ])('confidential client with %s', async (_method, args) => {
    const run = await login([...args, '--client-secret-file', tenant.secretFile, '--json'])
    expect(run.code).toBe(0)
    expect(jsonOf(run).ok).toBe(true)
    const secret = tenant.sandbox.client(DEFAULT_CLIENT_IDS.confidential).client_secret ?? ''
    expect(run.stdout + run.stderr).not.toContain(secret)
  })

  it('confidential client with private_key_jwt', async () => {
    const run = await login([
      '--client-id',
      DEFAULT_CLIENT_IDS.privateKeyJwt,
      '--private-key-file',
      tenant.keyFile,
      '--json',
    ])
    expect(run.code).toBe(0)
    expect(jsonOf(run).ok).toBe(true)
  })

  it('--audience gives a JWT access token verified against the JWKS', async () => {
    const run = await login([
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--audience',
      DEFAULT_AUDIENCE,
      '--scope',
      'openid read:messages',
      '--json',
    ])
    expect(run.code).toBe(0)
    const doc = jsonOf(run)
    const accessToken = doc.access_token as {
      kind: string
      verified: boolean
      payload: Record<string, unknown>
    }
    expect(accessToken.kind).toBe('jws')
    expect(accessToken.verified).toBe(true)
    expect(accessToken.payload.aud).toBe(DEFAULT_AUDIENCE)
    expect(accessToken.payload.azp).toBe(DEFAULT_CLIENT_IDS.public)
    expect(checkNames(doc)).toEqual(
      expect.arrayContaining([
        '✓ access_token.signature',
        '✓ access_token.iss',
        '✓ access_token.aud',
        '✓ access_token.exp',
      ]),
    )
  })

  it('--organization puts org_id and org_name in the ID token', async () => {
    const run = await login([
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--organization',
      DEFAULT_ORGANIZATION.name,
      '--json',
    ])
    expect(run.code).toBe(0)
    const payload = (jsonOf(run).id_token as { payload: Record<string, unknown> }).payload
    expect(payload.org_id).toBe(DEFAULT_ORGANIZATION.id)
    expect(payload.org_name).toBe(DEFAULT_ORGANIZATION.name)
  })

  it('offline_access gives a refresh token, and --print prints just that', async () => {
    const run = await login([
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--scope',
      'openid offline_access',
      '--print',
      'refresh_token',
    ])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^[\w-]{20,}\n$/)
  })

  it('--print access_token prints only the raw token, for $(…)', async () => {
    const run = await login([
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--audience',
      DEFAULT_AUDIENCE,
      '--print',
      'access_token',
    ])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
  })

  it('SO-7: under GitHub Actions, --print first masks every token on stderr; stdout stays the token', async () => {
    const args = [
      ...publicLogin().slice(1),
      '--port',
      '0',
      '--browser',
      BROWSER,
      '--scope',
      'openid offline_access',
      '--audience',
      DEFAULT_AUDIENCE,
    ]
    const options = { env: { ...tenant.env, GITHUB_ACTIONS: 'true' }, timeoutMs: 30_000 }
    const run = await runCli(['login', ...args, '--json'], options)
    expect(run.code).toBe(0)
    const tokens = jsonOf(run).tokens as Record<string, string>
    const masks = run.stderr.split('\n').filter((line) => line.startsWith('::add-mask::'))
    expect(masks).toEqual([
      `::add-mask::${tokens.access_token}`,
      `::add-mask::${tokens.id_token}`,
      `::add-mask::${tokens.refresh_token}`,
    ])
    const printed = await runCli(['login', ...args, '--print', 'access_token'], options)
    expect(printed.code).toBe(0)
    expect(printed.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
    expect(printed.stderr).toContain(`\n::add-mask::${printed.stdout}`)
    const human = await runCli(['login', ...args], options)
    expect(human.code).toBe(0)
    expect(human.stderr).not.toContain('::add-mask::')
    const outside = await runCli(['login', ...args, '--json'], { ...options, env: tenant.env })
    expect(outside.code).toBe(0)
    expect(outside.stderr).not.toContain('::add-mask::')
  })

  it('consent denied: exit 3 with access_denied, and no token request', async () => {
    const run = await login(
      ['--client-id', DEFAULT_CLIENT_IDS.public, '--json', '--verbose'],
      `${BROWSER} --deny`,
    )
    expect(run.code).toBe(3)
    const error = jsonOf(run).error as Record<string, unknown>
    expect(error.code).toBe('authorization_error')
    expect(error.stage).toBe('callback')
    expect((error.oauth as { error: string }).error).toBe('access_denied')
    expect(jsonOf(run).checks).toEqual([])
    // The trace shows every request this run made: discovery and nothing after the callback.
    expect(run.stderr).toMatch(
      /> GET https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration/,
    )
    expect(run.stderr).not.toMatch(/> POST \S+\/oauth\/token/)
  })

  it('prompt=none without a session: exit 3 login_required', async () => {
    const run = await login([
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--prompt',
      'none',
      '--json',
    ])
    expect(run.code).toBe(3)
    const error = jsonOf(run).error as { code: string; oauth: { error: string }; hint: string }
    expect(error.code).toBe('authorization_error')
    expect(error.oauth.error).toBe('login_required')
    expect(error.hint).toBe(
      'prompt=none needs an existing session (and consent); run without --prompt none',
    )
  })
})

describe.concurrent('pkce login: TLS, redirect URIs and the browser', () => {
  it('--ca-file trusts the tenant CA without NODE_EXTRA_CA_CERTS', async () => {
    const run = await runCli(
      // The sandbox user is a browser of its own: it gets the CA the same way.
      [
        ...publicLogin(),
        '--port',
        '0',
        '--browser',
        `${BROWSER} --ca-file "${tenant.caFile}"`,
        '--ca-file',
        tenant.caFile,
        '--timeout',
        '20',
        '--json',
      ],
      { timeoutMs: 30_000 },
    )
    expect(run.code).toBe(0)
  })

  it('TL-1: the system trust store counts (SSL_CERT_FILE names it here)', async () => {
    const run = await runCli(
      [
        ...publicLogin(),
        '--port',
        '0',
        '--browser',
        `${BROWSER} --ca-file "${tenant.caFile}"`,
        '--timeout',
        '20',
        '--json',
      ],
      { env: { SSL_CERT_FILE: tenant.caFile }, timeoutMs: 30_000 },
    )
    expect(run.code).toBe(0)
  })

  it('without the CA: exit 5 tls_error before anything opens (security.md TL-1)', async () => {
    const run = await runCli([...publicLogin(), '--port', '0', '--json'])
    expect(run.code).toBe(5)
    const error = jsonOf(run).error as { code: string; hint: string }
    expect(error.code).toBe('tls_error')
    expect(error.hint).toBe('for a private CA, pass --ca-file <pem> or set NODE_EXTRA_CA_CERTS')
  })

  it('a localhost redirect URI: the listener answers on 127.0.0.1 and ::1 alike', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as AddressInfo
    blocker.close()
    const run = await runCli(
      [
        ...publicLogin(),
        '--redirect-uri',
        `http://localhost:${port}/callback`,
        '--browser',
        BROWSER,
        '--json',
      ],
      { env: tenant.env, timeoutMs: 30_000 },
    )
    expect(run.code).toBe(0)
    expect(jsonOf(run).redirect_uri).toBe(`http://localhost:${port}/callback`)
  })

  it('a browser command that cannot start: a warning, and the run keeps waiting', async () => {
    const run = await runCli(
      [...publicLogin(), '--port', '0', '--browser', '/nonexistent/browser', '--timeout', '1'],
      { env: tenant.env },
    )
    expect(run.stderr).toContain(
      'warning: could not open the browser (spawn /nonexistent/browser ENOENT); open the URL above yourself (browser_failed)',
    )
    expect(run.code).toBe(5)
    expect(run.stderr).toContain('error: no callback arrived within 1s')
  })
})

describe.concurrent('pkce login in CI', () => {
  it('CI-3: with no terminal, the system browser is not started; the URL is on stderr', async () => {
    const run = await runCli([...publicLogin(), '--port', '0', '--timeout', '1'], {
      env: tenant.env,
    })
    expect(run.code).toBe(5)
    expect(run.stderr).toContain(
      '• Not opening a browser (no terminal, or CI): open the URL above, or pass --browser <command>\n',
    )
  })

  it('TL-2: NODE_TLS_REJECT_UNAUTHORIZED=0 with CI set is refused (exit 2) before any request', async () => {
    const run = await runCli([...publicLogin(), '--port', '0', '--json', '--verbose'], {
      env: { ...tenant.env, NODE_TLS_REJECT_UNAUTHORIZED: '0', CI: 'true' },
    })
    expect(run.code).toBe(2)
    expect((jsonOf(run).error as { code: string }).code).toBe('tls_verification_disabled')
    expect(run.stderr).not.toContain('> GET')
  })

  it('TL-2: outside CI it runs, with a loud warning', async () => {
    const run = await runCli([...publicLogin(), '--port', '0', '--browser', BROWSER, '--json'], {
      env: { NODE_TLS_REJECT_UNAUTHORIZED: '0', CI: '' },
      timeoutMs: 30_000,
    })
    expect(run.code).toBe(0)
    expect(run.stderr).toContain(
      'warning: NODE_TLS_REJECT_UNAUTHORIZED=0: TLS certificates are NOT verified; anyone on the network path can impersonate the server (tls_verification_disabled)',
    )
  })
})

describe('pkce login failures that never reach the token endpoint', () => {
  it('a tampered state: exit 4 state_mismatch, no token request, the browser page says so', async () => {
    const cli = startCli([...publicLogin(), '--port', '0', '--no-browser', '--json'], {
      env: tenant.env,
    })
    const [, redirect] = await cli.waitFor('stderr', /Waiting for the callback on (\S+)/)
    const tokenRequests = tenant.requests().filter((line) => line === 'POST /oauth/token').length
    // iss is right (the sandbox advertises RFC 9207), so state is what fails.
    const page = await fetch(
      `${redirect}?code=stolen&state=forged&iss=${encodeURIComponent(tenant.sandbox.issuer)}`,
    )
    expect(page.status).toBe(400)
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(await page.text()).toContain('The callback was refused (state_mismatch).')
    const run = await cli.done
    expect(run.code).toBe(4)
    expect((jsonOf(run).error as { code: string }).code).toBe('state_mismatch')
    expect(tenant.requests().filter((line) => line === 'POST /oauth/token').length).toBe(
      tokenRequests,
    )
  })

  it('no callback in time: exit 5 callback_timeout naming the URL to register', async () => {
    const run = await runCli([...publicLogin(), '--port', '0', '--no-browser', '--timeout', '1'], {
      env: tenant.env,
    })
    expect(run.code).toBe(5)
    expect(run.stderr).toMatch(
      /error: no callback arrived within 1s\nhint: if the browser shows "Callback URL mismatch", add http:\/\/127\.0\.0\.1:\d+\/callback to the application's Allowed Callback URLs; otherwise raise --timeout\n$/,
    )
  })

  it('a busy port: exit 5 port_in_use before any browser opens', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as AddressInfo
    try {
      const run = await runCli([...publicLogin(), '--port', String(port), '--json'], {
        env: tenant.env,
      })
      expect(run.code).toBe(5)
      const error = jsonOf(run).error as { code: string; message: string; hint: string }
      expect(error.code).toBe('port_in_use')
      expect(error.message).toBe(`cannot listen on 127.0.0.1:${port}: the port is in use`)
      expect(run.stderr).not.toContain('Open this URL')
    } finally {
      blocker.close()
    }
  })

  it('SIGINT while waiting: exit 130 and the port is closed', async () => {
    const cli = startCli([...publicLogin(), '--port', '0', '--no-browser'], { env: tenant.env })
    const [, redirect] = await cli.waitFor('stderr', /Waiting for the callback on (\S+)/)
    cli.child.kill('SIGINT')
    const run = await cli.done
    expect(run.code).toBe(130)
    await expect(fetch(redirect ?? '')).rejects.toThrow()
  })
})
