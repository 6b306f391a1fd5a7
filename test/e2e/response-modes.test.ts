import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import { expectFailure, loginAgainst, signJarm } from '../helpers/hostile-server.js'
import type { HostileOptions } from '../helpers/hostile-server.js'
import { BIN, jsonOf, runCli, startCli, STACK_FRAME } from '../helpers/spawn-cli.js'
import { startTestTenant } from './tenant.js'
import type { TestTenant } from './tenant.js'

// Issue 16: a login in every response mode against the test tenant (oidc-provider with
// features.jwtResponseModes). The scripted sandbox user plays the browser for query and form_post
// modes; the fragment modes need a browser that runs the relay page's script: Chromium.

const BROWSER = `"${process.execPath}" "${BIN}" sandbox-user`
const CHROMIUM = '/usr/bin/chromium'
const execFileAsync = promisify(execFile)

let tenant: TestTenant

beforeAll(async () => {
  tenant = await startTestTenant()
})
afterAll(async () => {
  await tenant.close()
})

function loginArgs(mode: string, extra: string[] = []): string[] {
  return [
    'login',
    '--issuer',
    tenant.sandbox.issuer,
    '--client-id',
    DEFAULT_CLIENT_IDS.public,
    '--port',
    '0',
    '--timeout',
    '20',
    '--response-mode',
    mode,
    '--json',
    ...extra,
  ]
}

function checkNames(doc: Record<string, unknown>): string[] {
  return (doc.checks as { name: string; ok: boolean }[])
    .filter((check) => check.name.startsWith('callback.'))
    .map((check) => `${check.ok ? '✓' : '✗'} ${check.name}`)
}

const JARM_CHECKS = [
  '✓ callback.jarm.format',
  '✓ callback.jarm.alg',
  '✓ callback.jarm.signature',
  '✓ callback.jarm.iss',
  '✓ callback.jarm.aud',
  '✓ callback.jarm.exp',
  '✓ callback.state',
  '✓ callback.iss',
]

/** Chromium, headless, in a fresh profile, against one URL; returns the final DOM. */
async function chromium(url: string, extra: string[] = []): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'pkce-chromium-'))
  try {
    const { stdout } = await execFileAsync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        `--user-data-dir=${profile}`,
        '--virtual-time-budget=5000',
        ...extra,
        '--dump-dom',
        url,
      ],
      { timeout: 30_000, maxBuffer: 4 * 1024 * 1024 },
    )
    return stdout
  } finally {
    await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
  }
}

describe.concurrent('pkce login in every response mode against the sandbox tenant', () => {
  it('form_post: the code arrives in a form POST, never in a URL (RM-1)', async () => {
    const run = await runCli(loginArgs('form_post', ['--browser', BROWSER]), {
      env: tenant.env,
      timeoutMs: 30_000,
    })
    expect(run.stderr).not.toMatch(STACK_FRAME)
    expect(run.code).toBe(0)
    const doc = jsonOf(run)
    expect(checkNames(doc)).toEqual([
      '✓ callback.response_mode',
      '✓ callback.state',
      '✓ callback.iss',
    ])
    expect(doc.authorization_response).toBeUndefined()
    expect(run.stderr).toContain('• Callback received (form POST)\n')
  })

  for (const mode of ['jwt', 'query.jwt', 'form_post.jwt']) {
    it(`${mode}: the JARM response is verified, then its claims checked (RM-3)`, async () => {
      const run = await runCli(loginArgs(mode, ['--browser', BROWSER]), {
        env: tenant.env,
        timeoutMs: 30_000,
      })
      expect(run.stderr).not.toMatch(STACK_FRAME)
      expect(run.code).toBe(0)
      const doc = jsonOf(run)
      expect(checkNames(doc)).toEqual(['✓ callback.response_mode', ...JARM_CHECKS])
      const response = doc.authorization_response as {
        response_mode: string
        via: string
        jarm: { header: Record<string, unknown>; claims: Record<string, unknown> }
      }
      expect(response.response_mode).toBe(mode)
      expect(response.via).toBe(mode === 'form_post.jwt' ? 'form_post' : 'query')
      expect(response.jarm.header.alg).toBe('RS256')
      expect(Object.keys(response.jarm.claims).sort()).toEqual([
        'aud',
        'code',
        'exp',
        'iss',
        'state',
      ])
      expect(response.jarm.claims).toMatchObject({
        iss: tenant.sandbox.issuer,
        aud: DEFAULT_CLIENT_IDS.public,
        state: doc.state,
      })
    })
  }

  it('jwt, human report: the decoded JARM response and its checks are shown', async () => {
    const args = loginArgs('jwt', ['--browser', BROWSER]).filter((arg) => arg !== '--json')
    const run = await runCli(args, { env: tenant.env, timeoutMs: 30_000 })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(
      '\nAuthorization response (JARM, response_mode=jwt, verified)\n  header\n    alg',
    )
    expect(run.stdout).toMatch(/\n {4}aud +sandbox-public +# audience: who it is for\n/u)
    expect(run.stdout).toMatch(
      /\n {2}✓ callback\.jarm\.signature verified with the issuer's RS256 key/u,
    )
    expect(run.stdout).toContain('\n✓ login succeeded: every check passed\n')
  })

  for (const mode of ['fragment', 'fragment.jwt']) {
    it(`${mode}: the relay page's script runs in headless Chromium and hands the fragment back (RM-2)`, async () => {
      expect(existsSync(CHROMIUM), `${CHROMIUM} is required for the fragment modes`).toBe(true)
      const cli = startCli(loginArgs(mode, ['--no-browser']), {
        env: tenant.env,
        timeoutMs: 40_000,
      })
      const [, url = ''] = await cli.waitFor('stderr', /Open this URL to sign in:\n {2}(\S+)\n/u)
      // The scripted user signs in and stops where the browser would land: the callback URL
      // with the response in its fragment, which no HTTP client ever sends to the listener.
      const landed = await driveAuthorization(url, {
        ca: await readFile(tenant.caFile, 'utf8'),
        stopAtCallback: true,
      })
      const callback = new URL(landed.callbackUrl)
      expect(callback.search).toBe('')
      expect(callback.hash).toMatch(mode === 'fragment' ? /^#code=/u : /^#response=ey/u)
      const dom = await chromium(callback.href)
      const run = await cli.done
      expect(run.stderr).not.toMatch(STACK_FRAME)
      expect({ code: run.code, stdout: run.stdout }).toMatchObject({ code: 0 })
      // The relay posted the form, and the listener answered it with the flow's outcome.
      expect(dom).toContain('<h1>Signed in</h1>')
      expect(dom).not.toContain('Completing the sign-in')
      const doc = jsonOf(run)
      expect(checkNames(doc)).toEqual(
        mode === 'fragment'
          ? ['✓ callback.response_mode', '✓ callback.state', '✓ callback.iss']
          : ['✓ callback.response_mode', ...JARM_CHECKS],
      )
      expect(run.stderr).toContain('• listener: served the page that relays the URL fragment\n')
      expect(run.stderr).toContain('• Callback received (URL fragment, relayed by the page)\n')
    })
  }

  it('fragment: a client that cannot run scripts is told so, and the flow goes on waiting', async () => {
    const cli = startCli(loginArgs('fragment', ['--no-browser', '--timeout', '3']), {
      env: tenant.env,
      timeoutMs: 20_000,
    })
    const [, redirect = ''] = await cli.waitFor('stderr', /Listening on (\S+): /u)
    const page = await fetch(redirect)
    const html = await page.text()
    expect(page.status).toBe(200)
    expect(html).toContain('<noscript><p><strong>This page needs JavaScript.</strong>')
    const run = await cli.done
    expect({ code: run.code, error: (jsonOf(run).error as { code: string }).code }).toEqual({
      code: 5,
      error: 'callback_timeout',
    })
  })
})

describe.concurrent('hostile responses in the response modes: exit 4, no token request', () => {
  const jarm =
    (
      edit: (claims: Record<string, unknown>, origin: string) => Record<string, unknown>,
      signWith: 'published' | 'other-key' | 'none' = 'published',
      beside?: Record<string, string>,
    ) =>
    async (params: URLSearchParams, request: URLSearchParams, origin: string) => {
      const claims = {
        iss: `${origin}/`,
        aud: request.get('client_id'),
        exp: Math.floor(Date.now() / 1000) + 60,
        code: params.get('code'),
        state: params.get('state'),
      }
      const response = await signJarm(edit(claims, origin), signWith)
      return new URLSearchParams({ ...beside, response })
    }

  const cases: [string, NonNullable<HostileOptions['callback']>, string, string | RegExp][] = [
    [
      'a bad signature',
      jarm((claims) => claims, 'other-key'),
      'jarm_signature_invalid',
      'callback.jarm: signature check failed: the signature does not verify with the issuer key',
    ],
    [
      'another issuer',
      jarm((claims) => ({ ...claims, iss: 'https://evil.test/' })),
      'jarm_issuer_invalid',
      /^callback\.jarm: iss check failed: iss is "https:\/\/evil\.test\/" \(expected http:\/\/127\.0\.0\.1:\d+\/\)$/u,
    ],
    [
      'another audience',
      jarm((claims) => ({ ...claims, aud: 'another-client' })),
      'jarm_audience_invalid',
      'callback.jarm: aud check failed: aud is "another-client" (expected to contain c1)',
    ],
    [
      'an expired response',
      jarm((claims) => ({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 })),
      'jarm_expired',
      /^callback\.jarm: exp check failed: expired at /u,
    ],
    [
      'alg none',
      jarm((claims) => claims, 'none'),
      'jarm_alg_not_allowed',
      'callback.jarm: alg check failed: "none" is not one of RS256',
    ],
    [
      'code in the query beside response',
      jarm((claims) => claims, 'published', { code: 'injected' }),
      'unexpected_response_parameter',
      'the callback carries "code" beside the JARM response; with response_mode=jwt everything comes inside the signed JWT',
    ],
  ]
  for (const [name, callback, code, message] of cases) {
    it(`JARM: ${name} is ${code}`, async () => {
      const run = await loginAgainst({ callback }, ['--response-mode', 'jwt'])
      expectFailure(run, 4, code, message)
      expect(run.doc.error?.stage).toBe('callback')
      expect(run.server.count('POST', '/oauth/token')).toBe(0)
    })
  }

  it('JARM: a valid response from the hostile server passes (the cases above differ in one thing)', async () => {
    const run = await loginAgainst({ callback: jarm((claims) => claims) }, [
      '--response-mode',
      'jwt',
    ])
    expect(run.code).toBe(0)
    expect(run.server.count('POST', '/oauth/token')).toBe(1)
    // The hostile metadata lists no response_modes_supported: the default has no jwt.
    expect(run.doc.warnings).toEqual([
      {
        code: 'insecure_loopback_issuer',
        message: `using plain http to the loopback issuer ${run.server.issuer}`,
      },
      {
        code: 'response_mode_unsupported',
        message:
          "response_mode jwt is not in the metadata's response_modes_supported (query, fragment, the default); the server may refuse it or answer in another mode",
      },
    ])
  })

  it('form_post: a body over 64 KiB is response_too_large', async () => {
    const run = await loginAgainst({}, ['--response-mode', 'form_post'], {
      browser: ['--no-browser'],
      during: async (cli) => {
        const [, redirect = ''] = await cli.waitFor('stderr', /Listening on (\S+): /u)
        await fetch(redirect, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `code=${'a'.repeat(70 * 1024)}&state=s`,
        }).catch(() => undefined)
      },
    })
    expectFailure(
      run,
      4,
      'response_too_large',
      'the form POST to the callback is larger than 64 KiB',
    )
    expect(run.server.count('POST', '/oauth/token')).toBe(0)
  })

  it('fragment: a post from another origin is fragment_relay_refused, even with the token', async () => {
    const run = await loginAgainst({}, ['--response-mode', 'fragment'], {
      browser: ['--no-browser'],
      during: async (cli) => {
        const [, redirect = ''] = await cli.waitFor('stderr', /Listening on (\S+): /u)
        const page = await (await fetch(redirect)).text()
        const token = /name="pkce_relay" value="([^"]+)"/u.exec(page)?.[1] ?? ''
        await fetch(redirect, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            origin: 'http://evil.test',
          },
          body: new URLSearchParams({ pkce_relay: token, fragment: 'code=c&state=s' }),
        })
      },
    })
    expectFailure(
      run,
      4,
      'fragment_relay_refused',
      /^the fragment relay post was refused: it comes from the origin "http:\/\/evil\.test", not http:\/\/127\.0\.0\.1:\d+$/u,
    )
    expect(run.server.count('POST', '/oauth/token')).toBe(0)
  })
})

describe.concurrent('--response-mode usage errors: exit 2 before any request', () => {
  const target = ['--issuer', 'https://as.invalid/', '--client-id', 'c1', '--json']

  it('a mode outside the list is refused by the flag itself', async () => {
    const run = await runCli(['login', ...target, '--response-mode', 'web_message'])
    expect(run.code).toBe(2)
    expect((jsonOf(run).error as { message: string }).message).toBe(
      "option '--response-mode <mode>' argument 'web_message' is invalid. Allowed choices are query, form_post, fragment, jwt, query.jwt, form_post.jwt, fragment.jwt.",
    )
  })

  it('login --remote and pkce authorize take a query only', async () => {
    const remote = await runCli(['login', ...target, '--remote', '--response-mode', 'jwt'])
    const authorize = await runCli(['authorize', ...target, '--response-mode', 'fragment'])
    expect(
      [remote, authorize].map((run) => [
        run.code,
        (jsonOf(run).error as { message: string }).message,
      ]),
    ).toEqual([
      [
        2,
        "--response-mode jwt needs pkce's own loopback listener; --remote takes a callback URL with the response in its query",
      ],
      [
        2,
        "--response-mode fragment needs pkce's own loopback listener; pkce authorize (then relay and exchange) takes a callback URL with the response in its query",
      ],
    ])
  })

  it('a JARM mode against metadata without jwks_uri cannot be verified', async () => {
    const run = await loginAgainst(
      {
        metadata: (metadata) =>
          Object.fromEntries(Object.entries(metadata).filter(([name]) => name !== 'jwks_uri')),
      },
      ['--response-mode', 'query.jwt'],
    )
    expectFailure(
      run,
      2,
      'usage_error',
      "--response-mode query.jwt needs the issuer's keys to verify the response, and the metadata has no jwks_uri",
    )
    expect(run.browserRuns).toEqual([])
  })
})
