import {
  existsSync,
  readFileSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSandboxTenant } from '../../src/commands/sandbox.js'
import { findChromium } from '../../src/net/headless-browser.js'
import type { Sandbox } from '../../src/sandbox/tenant.js'
import { subjectFor } from '../../src/sandbox/users.js'
import { jsonOf, runCli } from '../helpers/spawn-cli.js'
import { startTestTenant } from './tenant.js'

// Issue 17: `pkce login --headless` in the system's real Chromium against the sandbox's own
// pages (both login page shapes), and each way a headless login stops.

const chromium = await findChromium({
  given: undefined,
  env: process.env,
  platform: process.platform,
}).catch(() => undefined)
if (chromium === undefined) {
  process.stderr.write(
    '\n*** SKIPPING test/e2e/headless.test.ts: no Chromium found (apt-get install -y chromium) ***\n\n',
  )
}

const dir = mkdtempSync(join(tmpdir(), 'pkce-headless-e2e-'))
const passwordFile = join(dir, 'password')
const wrongPasswordFile = join(dir, 'wrong-password')
writeFileSync(passwordFile, 'correct horse\n', { mode: 0o600 })
writeFileSync(wrongPasswordFile, 'wrong-password\n', { mode: 0o600 })

interface Tenant {
  sandbox: Sandbox
  issuer: string
}
const tenants: Partial<Record<'classic' | 'identifier-first', Tenant>> = {}

beforeAll(async () => {
  for (const loginPage of ['classic', 'identifier-first'] as const) {
    const { sandbox, info } = await startSandboxTenant({ loginPage })
    tenants[loginPage] = { sandbox, issuer: info.issuer }
  }
})
afterAll(async () => {
  for (const tenant of Object.values(tenants)) await tenant.sandbox.close()
  rmSync(dir, { recursive: true, force: true })
})

function login(tenant: Tenant, extra: string[]) {
  return runCli(
    [
      'login',
      '--issuer',
      tenant.issuer,
      '--client-id',
      'sandbox-public',
      '--port',
      '0',
      '--headless',
      '--username',
      'ci-user',
      '--step-timeout',
      '10',
      ...extra,
    ],
    { timeoutMs: 60_000 },
  )
}

describe.skipIf(chromium === undefined)('pkce login --headless in real Chromium', () => {
  it.each(['classic', 'identifier-first'] as const)(
    'signs in on the %s login page, accepts consent, and the callback page says Signed in',
    async (kind) => {
      const shots = join(dir, `shots-${kind}`)
      const run = await login(tenants[kind]!, [
        '--password-file',
        passwordFile,
        '--screenshot-dir',
        shots,
        '--expect-claim',
        `sub=${subjectFor('ci-user')}`,
        '--json',
      ])
      expect(run.stderr).not.toContain('correct horse')
      expect(run.code).toBe(0)
      const doc = jsonOf(run)
      expect(doc.ok).toBe(true)
      const steps =
        kind === 'classic'
          ? ['headless: login page: username and password']
          : ['headless: username page', 'headless: password page']
      for (const step of [...steps, 'headless: consent page: Accept'])
        expect(run.stderr).toContain(step)
      expect(run.stderr).toContain(
        'headless: callback page: Signed in pkce received and validated the tokens. You can close this tab and return to the terminal.',
      )
      const files = readdirSync(shots).sort()
      expect(files).toEqual(
        kind === 'classic'
          ? ['01-classic.png', '02-consent.png', '03-callback.png']
          : ['01-identifier.png', '02-password.png', '03-consent.png', '04-callback.png'],
      )
      for (const file of files) expect(statSync(join(shots, file)).mode & 0o777).toBe(0o600)
    },
  )

  it('over HTTPS with a throw-away CA (NODE_EXTRA_CA_CERTS): the verified certificate is pinned for Chromium', async () => {
    const tenant = await startTestTenant({ loginPage: 'identifier-first' })
    try {
      const run = await runCli(
        [
          'login',
          '--issuer',
          tenant.sandbox.issuer,
          '--client-id',
          'sandbox-public',
          '--port',
          '0',
          '--headless',
          '--username',
          'ci-user',
          '--password-file',
          passwordFile,
        ],
        { env: tenant.env, timeoutMs: 60_000 },
      )
      expect(run.code).toBe(0)
      expect(run.stderr).toContain(
        `headless: Chromium trusts ${new URL(tenant.sandbox.issuer).origin}'s certificate, verified against the extra CA`,
      )
      expect(run.stderr).toContain('headless: callback page: Signed in')
    } finally {
      await tenant.close()
    }
  })

  it.each(['classic', 'identifier-first'] as const)(
    "a wrong password on the %s page exits 3 with the page's message and a failure screenshot",
    async (kind) => {
      const shots = join(dir, `wrong-${kind}`)
      const run = await login(tenants[kind]!, [
        '--password-file',
        wrongPasswordFile,
        '--screenshot-dir',
        shots,
        '--json',
      ])
      expect(run.code).toBe(3)
      expect(jsonOf(run).error).toMatchObject({
        code: 'login_rejected',
        message: 'the login page refused the username or password: Wrong username or password',
        stage: 'authorize',
      })
      expect(readdirSync(shots).filter((file) => file.endsWith('-failure.png'))).toHaveLength(1)
    },
  )

  it('--deny-consent presses Deny: exit 3 access_denied, and the callback page says it failed', async () => {
    const run = await login(tenants['identifier-first']!, [
      '--password-file',
      passwordFile,
      '--deny-consent',
    ])
    expect(run.code).toBe(3)
    expect(run.stderr).toContain('headless: consent page: Deny')
    expect(run.stderr).toContain(
      'headless: callback page: Sign-in failed The callback was refused (authorization_error).',
    )
    expect(run.stderr).toContain(
      'error: authorization failed: access_denied: User did not authorize the request',
    )
  })

  it('a failed exchange: exit 3, and the callback page in Chromium says why', async () => {
    const secretFile = join(dir, 'wrong-secret')
    writeFileSync(secretFile, 'not-the-secret\n', { mode: 0o600 })
    const shots = join(dir, 'exchange')
    const run = await runCli(
      [
        'login',
        '--issuer',
        tenants.classic!.issuer,
        '--client-id',
        'sandbox-confidential',
        '--client-secret-file',
        secretFile,
        '--port',
        '0',
        '--headless',
        '--username',
        'ci-user',
        '--password-file',
        passwordFile,
        '--screenshot-dir',
        shots,
      ],
      { timeoutMs: 60_000 },
    )
    expect(run.code).toBe(3)
    expect(run.stderr).toContain(
      'headless: callback page: Sign-in failed token request rejected: invalid_client: client authentication failed (token_error) See the terminal for details.',
    )
    expect(readdirSync(shots)).toEqual(['01-classic.png', '02-consent.png', '03-callback.png'])
  })

  it("a callback URL the client does not allow: exit 3 with the error page's text", async () => {
    const run = await runCli(
      [
        'login',
        '--issuer',
        tenants.classic!.issuer,
        '--client-id',
        'sandbox-public',
        '--redirect-uri',
        'http://127.0.0.1:0/not-registered',
        '--headless',
        '--username',
        'ci-user',
        '--password-file',
        passwordFile,
        '--json',
      ],
      { timeoutMs: 60_000 },
    )
    expect(run.code).toBe(3)
    expect(jsonOf(run).error).toMatchObject({
      code: 'login_page_error',
      message:
        "the authorization server showed an error page (HTTP 400) instead of redirecting: invalid_redirect_uri redirect_uri did not match any of the client's registered redirect_uris",
    })
  })

  it('--login-script signs in with its own steps; pkce answers the consent page', async () => {
    const script = join(dir, 'login-script.mjs')
    writeFileSync(
      script,
      `export default async function (page, { username, password }) {
  await page.fill('#username', username)
  await page.fill('#password', password)
  await page.click('button[type=submit]')
  await page.waitForURL(/\\/u\\/consent\\//)
}
`,
    )
    const run = await login(tenants.classic!, [
      '--password-file',
      passwordFile,
      '--login-script',
      script,
    ])
    expect(run.code).toBe(0)
    expect(run.stderr).toContain('headless: consent page: Accept')
    expect(run.stderr).not.toContain('headless: login page')
  })

  describe('pages no test user can get past', () => {
    let server: Server
    let issuer = ''
    let authorizePage = ''
    beforeAll(async () => {
      server = createServer((request, response) => {
        const origin = issuer.slice(0, -1)
        if (request.url === '/.well-known/openid-configuration') {
          response.writeHead(200, { 'content-type': 'application/json' })
          response.end(
            JSON.stringify({
              issuer,
              authorization_endpoint: `${origin}/authorize`,
              token_endpoint: `${origin}/oauth/token`,
              jwks_uri: `${origin}/.well-known/jwks.json`,
              response_types_supported: ['code'],
              code_challenge_methods_supported: ['S256'],
            }),
          )
        } else if (request.url?.startsWith('/authorize?') === true) {
          response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          response.end(authorizePage)
        } else {
          response.writeHead(404).end()
        }
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    })
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

    const run = (extra: string[] = []) =>
      runCli(
        [
          'login',
          '--issuer',
          issuer,
          '--client-id',
          'app',
          '--port',
          '0',
          '--headless',
          '--username',
          'ci-user',
          '--password-file',
          passwordFile,
          '--step-timeout',
          '2',
          '--json',
          ...extra,
        ],
        { timeoutMs: 60_000 },
      )

    it('a page that never shows a form: exit 4 after the step timeout, with its text and a screenshot', async () => {
      authorizePage = '<!doctype html><title>Loading</title><p>Loading, please wait…</p>'
      const shots = join(dir, 'never')
      const result = await run(['--screenshot-dir', shots])
      expect(result.code).toBe(4)
      expect(jsonOf(result).error).toMatchObject({
        code: 'login_page_unrecognised',
        message: `no login form, consent page or error appeared within 2s at ${issuer}authorize: Loading, please wait…`,
      })
      expect(readdirSync(shots)).toEqual(['01-failure.png'])
    })

    it('an MFA challenge: exit 4 login_challenge with the page text', async () => {
      authorizePage =
        '<!doctype html><title>Verify</title><form><label>Enter the code from your authenticator app <input name="code" autocomplete="one-time-code"></label></form>'
      const result = await run()
      expect(result.code).toBe(4)
      expect(jsonOf(result).error).toMatchObject({
        code: 'login_challenge',
        message:
          'the login asks for a multi-factor code, which a headless login cannot answer (Verify): Enter the code from your authenticator app',
      })
    })

    it('a CAPTCHA: exit 4 login_challenge', async () => {
      authorizePage =
        '<!doctype html><title>Log in</title><form><input name="username"><input type="password" name="password"><div class="g-recaptcha">I\'m not a robot</div></form>'
      const result = await run()
      expect(result.code).toBe(4)
      expect((jsonOf(result).error as { code: string; message: string }).message).toMatch(
        /^the login asks for a CAPTCHA, which a headless login cannot answer \(Log in\)/,
      )
    })
  })
})

describe('pkce login --headless without Chromium', () => {
  it('a login without --headless never loads playwright-core (lazy, optional)', async () => {
    const log = join(dir, 'modules.log')
    const hook = fileURLToPath(new URL('../helpers/module-hook.mjs', import.meta.url))
    await runCli(
      ['login', '--issuer', 'http://127.0.0.1:1/', '--client-id', 'app', '--no-browser'],
      { nodeArgs: ['--import', hook], env: { MODULE_HOOK_LOG: log } },
    )
    const loaded = readFileSync(log, 'utf8')
    expect(loaded).toContain('/dist/main.js')
    expect(loaded).not.toContain('playwright')
    expect(loaded).not.toContain('headless-browser')
  })

  it('exits 2 with how to install one', async () => {
    const run = await runCli(
      ['login', '--issuer', 'https://tenant.test/', '--client-id', 'app', '--headless', '--json'],
      { env: { PATH: '/nonexistent', PKCE_CHROMIUM: join(dir, 'no-such-chromium') } },
    )
    expect(run.code).toBe(2)
    expect(jsonOf(run).error).toMatchObject({
      code: 'browser_not_found',
      message: `no executable Chromium at ${join(dir, 'no-such-chromium')}`,
      hint: 'install Chromium (Debian and Ubuntu: sudo apt-get install -y chromium; macOS: brew install --cask chromium), or pass --chromium <path> or set PKCE_CHROMIUM',
    })
    expect(existsSync(join(dir, 'no-such-chromium'))).toBe(false)
  })
})
