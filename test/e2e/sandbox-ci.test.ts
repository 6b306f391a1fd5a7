import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, jsonOf, runCli, startCli } from '../helpers/spawn-cli.js'
import type { CliProcess } from '../helpers/spawn-cli.js'

// README "Using pkce in CI", minus GitHub Actions itself: a sandbox in the background, a headless
// login against it, claims asserted, the raw access token captured.
let sandbox: CliProcess
let ready: {
  issuer: string
  ca_file: string
  clients: { client_id: string; client_secret_file?: string }[]
}

beforeAll(async () => {
  sandbox = startCli(['sandbox', '--port', '0', '--https', '--json'], { timeoutMs: 120_000 })
  await sandbox.waitFor('stdout', /^\}\n/mu, 15_000)
  ready = JSON.parse(sandbox.stdout()) as typeof ready
})
afterAll(async () => {
  sandbox.child.kill('SIGINT')
  await sandbox.done
})

const browser = `"${process.execPath}" "${BIN}" sandbox-user`

describe('the CI recipe against `pkce sandbox`', () => {
  it('prints one ready document: issuer, clients with their credential files, the CA', () => {
    expect(ready.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    expect(ready.clients.map((client) => client.client_id)).toEqual([
      'sandbox-public',
      'sandbox-confidential',
      'sandbox-private-key-jwt',
    ])
    expect(ready.ca_file).toMatch(/ca\.pem$/)
  })

  it('login --print access_token with --expect-claim and --require-scope passes', async () => {
    const run = await runCli(
      [
        'login',
        '--issuer',
        ready.issuer,
        '--client-id',
        'sandbox-public',
        '--port',
        '0',
        '--browser',
        browser,
        '--audience',
        'https://api.sandbox.test/',
        '--scope',
        'openid read:messages',
        '--expect-claim',
        'azp=sandbox-public',
        '--require-scope',
        'read:messages',
        '--expect-valid-for',
        '1h',
        '--print',
        'access_token',
      ],
      { env: { NODE_EXTRA_CA_CERTS: ready.ca_file } },
    )
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/)
  })

  it('a failed --expect-claim exits 4 with assertion_failed', async () => {
    const run = await runCli(
      [
        'login',
        '--issuer',
        ready.issuer,
        '--client-id',
        'sandbox-public',
        '--port',
        '0',
        '--browser',
        browser,
        '--audience',
        'https://api.sandbox.test/',
        '--expect-claim',
        'azp=someone-else',
        '--json',
      ],
      { env: { NODE_EXTRA_CA_CERTS: ready.ca_file } },
    )
    expect(run.code).toBe(4)
    const doc = jsonOf(run)
    expect((doc.error as { code: string }).code).toBe('assertion_failed')
    const failed = (doc.checks as { ok: boolean; name: string }[]).filter((check) => !check.ok)
    expect(failed).toHaveLength(1)
  })
})

describe('pkce sandbox options', () => {
  it('one ready line on stdout; --config clients and users, --require-par and --skip-consent reach the tenant', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkce-sandbox-config-'))
    const config = join(dir, 'tenant.json')
    writeFileSync(
      config,
      JSON.stringify({
        users: [{ username: 'ada@example.test', name: 'Ada' }],
        clients: [{ client_id: 'ci-app', token_endpoint_auth_method: 'client_secret_basic' }],
      }),
    )
    const custom = startCli(
      ['sandbox', '--port', '0', '--config', config, '--require-par', '--skip-consent'],
      {
        timeoutMs: 60_000,
      },
    )
    try {
      const [, issuer] = await custom.waitFor(
        'stdout',
        /^pkce sandbox ready: issuer (\S+)\n$/mu,
        15_000,
      )
      expect(custom.stdout()).toBe(`pkce sandbox ready: issuer ${issuer}\n`)
      await custom.waitFor('stderr', /Ctrl-C stops the sandbox/u, 5_000)
      expect(custom.stderr()).toMatch(
        /^ {2}ci-app {18} client_secret_basic {2}--client-secret-file \S+ci-app\.secret$/mu,
      )
      const metadata = (await (
        await fetch(`${issuer}.well-known/openid-configuration`)
      ).json()) as Record<string, unknown>
      expect(metadata.require_pushed_authorization_requests).toBe(true)
      const secretFile =
        /--client-secret-file (\S+ci-app\.secret)$/mu.exec(custom.stderr())?.[1] ?? ''
      const run = await runCli(
        [
          'login',
          '--issuer',
          issuer ?? '',
          '--client-id',
          'ci-app',
          '--client-secret-file',
          secretFile,
          '--client-auth',
          'client_secret_basic',
          '--port',
          '0',
          '--browser',
          `${browser} --username ada@example.test`,
          '--json',
        ],
        { timeoutMs: 30_000 },
      )
      expect(run.code).toBe(0)
      const doc = jsonOf(run) as {
        par: unknown
        id_token: { payload: { email: string; name: string } }
      }
      expect(doc.par).not.toBeNull()
      expect(doc.id_token.payload).toMatchObject({ email: 'ada@example.test', name: 'Ada' })
      // --skip-consent: the tenant showed a login page but never a consent page (its request
      // log on stderr: a consent step answers 303 at once instead of 200 with the page).
      expect(custom.stderr()).toMatch(/^GET \/u\/login\/\S+ 200$/mu)
      expect(custom.stderr()).toMatch(/^GET \/u\/consent\/\S+ 303$/mu)
      expect(custom.stderr()).not.toMatch(/^GET \/u\/consent\/\S+ 200$/mu)
    } finally {
      custom.child.kill('SIGINT')
      await custom.done
    }
  })
})

describe('pkce demo', () => {
  it('--headless completes a verified login with no account anywhere', async () => {
    const run = await runCli(['demo', '--headless', '--json'], { timeoutMs: 60_000 })
    expect(run.code).toBe(0)
    const doc = jsonOf(run)
    expect(doc.headless).toBe(true)
    const login = doc.login as {
      tokens: { refresh_token: string | null }
      access_token: { kind: string; verified: boolean }
      checks: { ok: boolean }[]
    }
    expect(login.tokens.refresh_token).toEqual(expect.any(String))
    expect(login.access_token).toMatchObject({ kind: 'jws', verified: true })
    expect(login.checks.every((check) => check.ok)).toBe(true)
  })
})

describe('pkce sandbox on a port it may not bind', () => {
  it('LL-2: a privileged port is port_in_use (exit 5), "not allowed", not an internal error (issue 11: it was exit 1)', () => {
    // As root every port may be bound, so the run drops to nobody; anyone else is refused as is.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
    const run = spawnSync(process.execPath, [BIN, 'sandbox', '--port', '80', '--json'], {
      ...asUser,
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect({ status: run.status, stdout: JSON.parse(run.stdout) as unknown }).toEqual({
      status: 5,
      stdout: {
        ok: false,
        error: {
          code: 'port_in_use',
          message: 'cannot start the sandbox on 127.0.0.1:80: the port is not allowed',
          hint: 'pass --port <n>, or --port 0 for a free one',
        },
      },
    })
  })
})
