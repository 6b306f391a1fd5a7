import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
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
