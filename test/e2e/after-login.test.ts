import { readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_AUDIENCE, DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { BIN, jsonOf, runCli } from '../helpers/spawn-cli.js'
import { freePort } from './split.js'
import { startTestTenant } from './tenant.js'
import type { TestTenant } from './tenant.js'

// After the login: refresh, and the token store with `pkce token`, against the test tenant.

const BROWSER = `"${process.execPath}" "${BIN}" sandbox-user`
const SCOPE = 'openid profile offline_access read:messages'

let tenant: TestTenant
let dir: string
let store: string

beforeAll(async () => {
  tenant = await startTestTenant()
  dir = await mkdtemp(join(tmpdir(), 'pkce-after-login-'))
  store = join(dir, 'store')
})
afterAll(async () => {
  await tenant.close()
  await rm(dir, { recursive: true, force: true })
})

const env = (): Record<string, string> => ({ ...tenant.env, PKCE_CACHE_DIR: store })

function target(): string[] {
  return [
    '--issuer',
    tenant.sandbox.issuer,
    '--client-id',
    DEFAULT_CLIENT_IDS.public,
    '--audience',
    DEFAULT_AUDIENCE,
    '--scope',
    SCOPE,
  ]
}

function pkce(args: string[]) {
  return runCli(args, { env: env(), timeoutMs: 40_000 })
}

function tokenRequests(): number {
  return tenant.requests().filter((request) => request === 'POST /oauth/token').length
}

describe('pkce refresh', () => {
  it('a refresh token from login gives new tokens, validated as login does, and says what changed', async () => {
    const login = await pkce([
      'login',
      ...target(),
      '--port',
      '0',
      '--browser',
      BROWSER,
      '--print',
      'refresh_token',
    ])
    expect({ code: login.code, stderr: login.stderr }).toMatchObject({ code: 0 })
    const refreshTokenFile = join(dir, 'rt')
    await writeFile(refreshTokenFile, login.stdout, { mode: 0o600 })
    const run = await pkce([
      'refresh',
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--audience',
      DEFAULT_AUDIENCE,
      '--refresh-token-file',
      refreshTokenFile,
      '--json',
    ])
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
    const doc = jsonOf(run) as {
      changes: { refresh_token: string }
      tokens: { token_type: string; refresh_token: string | null }
      checks: { name: string; ok: boolean }[]
      access_token: { verified: boolean }
    }
    expect(doc.tokens.token_type).toBe('Bearer')
    expect(doc.access_token.verified).toBe(true)
    expect(['rotated', 'kept']).toContain(doc.changes.refresh_token)
    expect(doc.checks.every((check) => check.ok)).toBe(true)
    expect(run.stderr).not.toContain(login.stdout.trim())
  })

  it('a refresh token the server does not know is exit 3 invalid_grant with the refresh hint', async () => {
    const refreshTokenFile = join(dir, 'bogus-rt')
    await writeFile(refreshTokenFile, 'not-a-refresh-token-the-server-issued\n', { mode: 0o600 })
    const run = await pkce([
      'refresh',
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--refresh-token-file',
      refreshTokenFile,
      '--json',
    ])
    expect(run.code).toBe(3)
    expect(jsonOf(run).error).toMatchObject({
      code: 'token_error',
      oauth: { error: 'invalid_grant' },
      hint: 'the refresh token was revoked, has expired, was already used once rotation replaced it, or was issued to another client; sign in again with pkce login',
    })
  })
})

describe('the token store and pkce token', () => {
  it('nothing stored: exit 4 token_unavailable, and no browser, no request', async () => {
    const before = tenant.requests().length
    const run = await pkce(['token', ...target(), '--json'])
    expect(run.code).toBe(4)
    expect((jsonOf(run).error as { code: string }).code).toBe('token_unavailable')
    expect(tenant.requests().length).toBe(before)
  })

  it('login --save, then token from the store; a stale entry is refreshed once by 8 parallel runs', async () => {
    const login = await pkce(['login', ...target(), '--port', '0', '--browser', BROWSER, '--save'])
    expect({ code: login.code, stderr: login.stderr }).toMatchObject({ code: 0 })
    expect(statSync(store).mode & 0o777).toBe(0o700)
    const [file] = readdirSync(store).filter((name) => name.endsWith('.json'))
    expect(file).toMatch(/^[0-9a-f]{64}\.json$/u)
    const entryPath = join(store, file ?? '')
    expect(statSync(entryPath).mode & 0o777).toBe(0o600)

    const fromStore = await pkce(['token', ...target(), '--json'])
    expect({ code: fromStore.code, stderr: fromStore.stderr }).toMatchObject({ code: 0 })
    expect(jsonOf(fromStore)).toMatchObject({ ok: true, source: 'store', token_type: 'Bearer' })

    // The entry as if its access token had expired: the next runs must refresh it, once.
    const entry = JSON.parse(readFileSync(entryPath, 'utf8')) as Record<string, unknown>
    await writeFile(entryPath, JSON.stringify({ ...entry, expires_at: '2000-01-01T00:00:00.000Z' }))
    const before = tokenRequests()
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => pkce(['token', ...target(), '--json'])),
    )
    expect(runs.map((run) => run.code)).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    const sources = runs.map((run) => (jsonOf(run) as { source: string }).source).sort()
    expect(sources).toEqual([
      'refresh',
      'store',
      'store',
      'store',
      'store',
      'store',
      'store',
      'store',
    ])
    expect(tokenRequests() - before).toBe(1)
    const tokens = new Set(
      runs.map((run) => (jsonOf(run) as { access_token: string }).access_token),
    )
    expect(tokens.size).toBe(1)

    const plain = await pkce(['token', ...target()])
    expect(plain.code).toBe(0)
    expect(plain.stdout).toBe(`${[...tokens][0] ?? ''}\n`)
    expect(plain.stderr).toBe('')
  })

  it('another audience is another entry: no token for it', async () => {
    const run = await pkce([
      'token',
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--audience',
      'https://another.api.test/',
      '--scope',
      SCOPE,
    ])
    expect(run.code).toBe(4)
  })

  it('token --list shows the entry, never a token', async () => {
    const run = await pkce(['token', '--list', '--json'])
    expect(run.code).toBe(0)
    const doc = jsonOf(run) as { entries: { key: { issuer: string; audience: string } }[] }
    expect(doc.entries.map((entry) => entry.key.audience)).toContain(DEFAULT_AUDIENCE)
    expect(run.stdout).not.toMatch(/access_token|refresh_token|eyJ/u)
  })
})

/** A login with the public client and no audience (its access token is good at /userinfo). */
async function plainLogin(extra: string[] = []): Promise<Record<string, unknown>> {
  const run = await pkce([
    'login',
    '--issuer',
    tenant.sandbox.issuer,
    '--client-id',
    DEFAULT_CLIENT_IDS.public,
    '--scope',
    'openid profile email offline_access',
    '--port',
    '0',
    '--browser',
    BROWSER,
    '--json',
    ...extra,
  ])
  expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
  return jsonOf(run)
}

async function secretFile(name: string, value: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, `${value}\n`, { mode: 0o600 })
  return path
}

describe('pkce userinfo and pkce revoke', () => {
  it('userinfo with the Bearer access token: the claims, and sub equal to the ID token’s', async () => {
    const login = (await plainLogin()) as { tokens: { access_token: string; id_token: string } }
    const run = await pkce([
      'userinfo',
      '--issuer',
      tenant.sandbox.issuer,
      '--access-token-file',
      await secretFile('at', login.tokens.access_token),
      '--id-token-file',
      await secretFile('idt', login.tokens.id_token),
      '--json',
    ])
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
    const doc = jsonOf(run) as { format: string; claims: { sub: string }; checks: unknown[] }
    expect(doc.format).toBe('json')
    expect(doc.checks).toEqual([
      { name: 'userinfo.sub', ok: true, detail: "equals the ID token's sub" },
    ])
    expect(run.stderr).not.toContain(login.tokens.access_token)
  })

  it('userinfo with a DPoP-bound access token: presented as DPoP with its key', async () => {
    const { privateKey } = await import('jose').then(({ generateKeyPair }) =>
      generateKeyPair('ES256', { extractable: true }),
    )
    const { exportJWK } = await import('jose')
    const keyFile = await secretFile('dpop.jwk', JSON.stringify(await exportJWK(privateKey)))
    const login = (await plainLogin(['--dpop', '--dpop-key', keyFile])) as {
      tokens: { access_token: string; token_type: string }
    }
    expect(login.tokens.token_type).toBe('DPoP')
    const run = await pkce([
      'userinfo',
      '--issuer',
      tenant.sandbox.issuer,
      '--access-token-file',
      await secretFile('dpop-at', login.tokens.access_token),
      '--dpop',
      '--dpop-key',
      keyFile,
      '--json',
    ])
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
    expect((jsonOf(run) as { claims: { sub: string } }).claims.sub).toEqual(expect.any(String))
  })

  it('revoke a refresh token; a refresh with it is then exit 3 invalid_grant', async () => {
    const login = (await plainLogin()) as { tokens: { refresh_token: string } }
    const rtFile = await secretFile('revoked-rt', login.tokens.refresh_token)
    const client = ['--issuer', tenant.sandbox.issuer, '--client-id', DEFAULT_CLIENT_IDS.public]
    const revoke = await pkce(['revoke', ...client, '--refresh-token-file', rtFile, '--json'])
    expect({ code: revoke.code, stderr: revoke.stderr }).toMatchObject({ code: 0 })
    expect(jsonOf(revoke)).toMatchObject({
      ok: true,
      revoked: true,
      token_type_hint: 'refresh_token',
    })
    const refresh = await pkce(['refresh', ...client, '--refresh-token-file', rtFile, '--json'])
    expect(refresh.code).toBe(3)
    expect((jsonOf(refresh).error as { oauth: { error: string } }).oauth.error).toBe(
      'invalid_grant',
    )
  })

  it('logout revokes the stored refresh token and removes the entry; token then has none', async () => {
    const flags = [
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--scope',
      'openid offline_access',
    ]
    const login = await pkce(['login', ...flags, '--port', '0', '--browser', BROWSER, '--save'])
    expect(login.code).toBe(0)
    const logout = await pkce(['logout', ...flags, '--json'])
    expect({ code: logout.code, stderr: logout.stderr }).toMatchObject({ code: 0 })
    expect(jsonOf(logout)).toEqual({ ok: true, removed: 1, revoked: 1, warnings: [] })
    const token = await pkce(['token', ...flags])
    expect(token.code).toBe(4)
  })
})

describe('refresh and userinfo from the store; exchange --save', () => {
  it('refresh with no token file refreshes the stored entry and stores the result; userinfo takes the stored token', async () => {
    const flags = [
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--scope',
      'openid email offline_access',
    ]
    const login = await pkce(['login', ...flags, '--port', '0', '--browser', BROWSER, '--save'])
    expect(login.code).toBe(0)
    const before = await pkce(['token', ...flags])
    const refresh = await pkce(['refresh', ...flags, '--json'])
    expect({ code: refresh.code, stderr: refresh.stderr }).toMatchObject({ code: 0 })
    const refreshed = jsonOf(refresh) as { tokens: { access_token: string } }
    expect(refreshed.tokens.access_token).not.toBe(before.stdout.trim())
    const after = await pkce(['token', ...flags])
    expect(after.stdout.trim()).toBe(refreshed.tokens.access_token)

    const userinfo = await pkce(['userinfo', ...flags, '--json'])
    expect({ code: userinfo.code, stderr: userinfo.stderr }).toMatchObject({ code: 0 })
    expect((jsonOf(userinfo) as { checks: unknown[] }).checks).toEqual([
      { name: 'userinfo.sub', ok: true, detail: "equals the ID token's sub" },
    ])
  })

  it('exchange --save stores under the flags authorize was given', async () => {
    const port = await freePort()
    const flags = [
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--scope',
      'openid phone offline_access',
    ]
    const authorize = await pkce(['authorize', ...flags, '--port', String(port), '--json'])
    expect(authorize.code).toBe(0)
    const doc = jsonOf(authorize) as { authorization_url: string; state_file: string }
    const { driveAuthorization } = await import('../../src/sandbox/scripted-agent.js')
    const { callbackUrl } = await driveAuthorization(doc.authorization_url, {
      ca: readFileSync(tenant.caFile, 'utf8'),
      stopAtCallback: true,
    })
    const exchange = await pkce([
      'exchange',
      '--state-file',
      doc.state_file,
      '--callback-url',
      callbackUrl,
      '--save',
    ])
    expect({ code: exchange.code, stderr: exchange.stderr }).toMatchObject({ code: 0 })
    const token = await pkce(['token', ...flags, '--json'])
    expect({ code: token.code, stderr: token.stderr }).toMatchObject({ code: 0 })
    expect(jsonOf(token)).toMatchObject({ ok: true, source: 'store' })
  })
})

describe('token --login, --force-refresh, and a DPoP-bound refresh from the store', () => {
  const flags = (scope: string): string[] => [
    '--issuer',
    tenant.sandbox.issuer,
    '--client-id',
    DEFAULT_CLIENT_IDS.public,
    '--scope',
    scope,
  ]

  it('token --login signs in once and saves; then the store; --force-refresh refreshes a valid token', async () => {
    const scope = 'openid address offline_access'
    const first = await pkce([
      'token',
      ...flags(scope),
      '--login',
      '--port',
      '0',
      '--browser',
      BROWSER,
      '--json',
    ])
    expect({ code: first.code, stderr: first.stderr }).toMatchObject({ code: 0 })
    expect(jsonOf(first)).toMatchObject({ ok: true, source: 'login' })
    const second = await pkce(['token', ...flags(scope), '--json'])
    expect(jsonOf(second)).toMatchObject({ ok: true, source: 'store' })
    const forced = await pkce(['token', ...flags(scope), '--force-refresh', '--json'])
    expect({ code: forced.code, stderr: forced.stderr }).toMatchObject({ code: 0 })
    expect(jsonOf(forced)).toMatchObject({ ok: true, source: 'refresh' })
  })

  it('a DPoP-bound login saved with its key refreshes from the store as DPoP', async () => {
    const scope = 'openid phone email offline_access'
    const login = await pkce([
      'login',
      ...flags(scope),
      '--dpop',
      '--port',
      '0',
      '--browser',
      BROWSER,
      '--save',
    ])
    expect({ code: login.code, stderr: login.stderr }).toMatchObject({ code: 0 })
    const refresh = await pkce(['refresh', ...flags(scope), '--dpop', '--json'])
    expect({ code: refresh.code, stderr: refresh.stderr }).toMatchObject({ code: 0 })
    const doc = jsonOf(refresh) as { tokens: { token_type: string }; dpop: { jkt: string } | null }
    expect(doc.tokens.token_type).toBe('DPoP')
    expect(doc.dpop?.jkt).toMatch(/^[\w-]{43}$/u)
  })
})
