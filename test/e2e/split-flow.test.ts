import { spawn } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import { BIN, jsonOf, runCli, startCli } from '../helpers/spawn-cli.js'
import { freePort } from './split.js'
import { startTestTenant } from './tenant.js'
import type { TestTenant } from './tenant.js'

// The flow split in legs against the test tenant: `authorize` here, a browser that stops at the
// redirect (as one on another machine would), `exchange` with the captured URL; and `relay` as
// that other machine.

let tenant: TestTenant
let dir: string

beforeAll(async () => {
  tenant = await startTestTenant()
  dir = await mkdtemp(join(tmpdir(), 'pkce-split-'))
})
afterAll(async () => {
  await tenant.close()
  await rm(dir, { recursive: true, force: true })
})

interface Authorized {
  authorization_url: string
  state_file: string
  redirect_uri: string
  expires_at?: string
}

async function authorize(args: string[], clientId: string = DEFAULT_CLIENT_IDS.public) {
  const run = await runCli(
    [
      'authorize',
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      clientId,
      '--port',
      String(await freePort()),
      '--json',
      ...args,
    ],
    { env: tenant.env, timeoutMs: 30_000 },
  )
  expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
  return { run, doc: jsonOf(run) as unknown as Authorized & { ok: boolean } }
}

/** The browser on the other machine: signs in and consents, then leaves the redirect unvisited. */
async function callbackFor(authorizationUrl: string): Promise<string> {
  const ca = readFileSync(tenant.caFile, 'utf8')
  return (await driveAuthorization(authorizationUrl, { ca, stopAtCallback: true })).callbackUrl
}

function exchange(args: string[], stdin?: string) {
  return runCli(['exchange', ...args], {
    env: tenant.env,
    timeoutMs: 30_000,
    ...(stdin === undefined ? {} : { stdin }),
  })
}

function tokenRequests(): number {
  return tenant.requests().filter((request) => request === 'POST /oauth/token').length
}

describe('pkce authorize → browser elsewhere → pkce exchange', () => {
  it('public client: the state file is private and holds no secret; exchange validates as login does and deletes it', async () => {
    const { doc } = await authorize([])
    expect(Object.keys(doc).sort()).toEqual([
      'authorization_url',
      'ok',
      'redirect_uri',
      'state_file',
      'warnings',
    ])
    expect(statSync(doc.state_file).mode & 0o777).toBe(0o600)
    const state = JSON.parse(readFileSync(doc.state_file, 'utf8')) as Record<string, unknown>
    expect(state).toMatchObject({
      version: 1,
      issuer: tenant.sandbox.issuer,
      client_id: DEFAULT_CLIENT_IDS.public,
      client_auth: { method: 'none' },
      redirect_uri: doc.redirect_uri,
      dpop: null,
      par: null,
    })
    expect(state.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/u)
    expect(doc.authorization_url).not.toContain(state.code_verifier as string)

    const callback = await callbackFor(doc.authorization_url)
    const run = await exchange([
      '--state-file',
      doc.state_file,
      '--callback-url',
      callback,
      '--json',
    ])
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
    const result = jsonOf(run)
    expect(result).toMatchObject({
      ok: true,
      issuer: tenant.sandbox.issuer,
      client_id: DEFAULT_CLIENT_IDS.public,
      redirect_uri: doc.redirect_uri,
      authorization_url: doc.authorization_url,
      state_file: doc.state_file,
      tokens: { token_type: 'Bearer' },
    })
    const checks = (result.checks as { name: string; ok: boolean }[]).map((check) => check.name)
    expect(checks.slice(0, 2)).toEqual(['callback.state', 'callback.iss'])
    expect(checks).toContain('id_token.signature')
    expect(checks).toContain('id_token.nonce')
    expect(existsSync(doc.state_file)).toBe(false)
  })

  it('the human report on stdout after `--callback-url -` from stdin, like login’s', async () => {
    const { doc } = await authorize([])
    const callback = await callbackFor(doc.authorization_url)
    const run = await exchange(
      ['--state-file', doc.state_file, '--callback-url', '-'],
      `${callback}\n`,
    )
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('✓ login succeeded: every check passed')
  })

  it('PAR with a confidential client, and the state file keeps the secret by path only (FS-2)', async () => {
    const { doc } = await authorize(
      ['--par', '--client-secret-file', tenant.secretFile],
      DEFAULT_CLIENT_IDS.confidential,
    )
    expect(doc.expires_at).toMatch(/^\d{4}-\d\d-\d\dT/u)
    expect(new URL(doc.authorization_url).searchParams.has('request_uri')).toBe(true)
    const text = readFileSync(doc.state_file, 'utf8')
    expect(JSON.parse(text)).toMatchObject({
      client_auth: { method: 'client_secret_post', file: tenant.secretFile },
    })
    expect(text).not.toContain(readFileSync(tenant.secretFile, 'utf8').trim())
    const run = await exchange([
      '--state-file',
      doc.state_file,
      '--callback-url',
      await callbackFor(doc.authorization_url),
      '--json',
    ])
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
    const result = jsonOf(run) as { ok: boolean; par: { request_uri: string } }
    expect(result.ok).toBe(true)
    expect(result.par.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/u)
  })

  it('DPoP: the private key is in the state file and nowhere else; exchange binds the token to it', async () => {
    const { doc } = await authorize(['--dpop'])
    const state = JSON.parse(readFileSync(doc.state_file, 'utf8')) as {
      dpop: { alg: string; jwk: Record<string, unknown> }
    }
    expect(state.dpop.alg).toBe('ES256')
    expect(typeof state.dpop.jwk.d).toBe('string')
    const run = await exchange([
      '--state-file',
      doc.state_file,
      '--callback-url',
      await callbackFor(doc.authorization_url),
      '--json',
    ])
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
    const result = jsonOf(run) as { tokens: { token_type: string }; dpop: { jkt: string } }
    expect(result.tokens.token_type).toBe('DPoP')
    expect(run.stdout).not.toContain(state.dpop.jwk.d as string)
  })

  it('a tampered callback (another state) is exit 4 state_mismatch: no token request, the state file kept', async () => {
    const { doc } = await authorize([])
    const callback = new URL(await callbackFor(doc.authorization_url))
    callback.searchParams.set('state', 'forged-state-value-forged-state-value')
    const before = tokenRequests()
    const run = await exchange([
      '--state-file',
      doc.state_file,
      '--callback-url',
      callback.href,
      '--json',
    ])
    expect(run.code).toBe(4)
    expect((jsonOf(run).error as { code: string }).code).toBe('state_mismatch')
    expect(tokenRequests()).toBe(before)
    expect(existsSync(doc.state_file)).toBe(true)
  })

  it('a pasted URL that is not the redirect URI is exit 2 before any request', async () => {
    const { doc } = await authorize([])
    const run = await exchange([
      '--state-file',
      doc.state_file,
      '--callback-url',
      'https://evil.test/callback?code=x&state=y',
    ])
    expect(run.code).toBe(2)
    expect(run.stderr.split('\n')[0]).toBe(
      `error: the callback URL is not the redirect URI ${doc.redirect_uri}: it starts https://evil.test/callback`,
    )
  })

  it('--code with --code-verifier-file; the same code again is exit 3 invalid_grant with the hint', async () => {
    const { doc } = await authorize([])
    const state = JSON.parse(readFileSync(doc.state_file, 'utf8')) as {
      code_verifier: string
      nonce: string
    }
    const verifierFile = join(dir, 'verifier')
    await writeFile(verifierFile, `${state.code_verifier}\n`, { mode: 0o600 })
    const code = new URL(await callbackFor(doc.authorization_url)).searchParams.get('code') ?? ''
    const args = [
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--redirect-uri',
      doc.redirect_uri,
      '--code',
      code,
      '--code-verifier-file',
      verifierFile,
      '--nonce',
      state.nonce,
      '--json',
    ]
    const first = await exchange(args)
    expect({ code: first.code, stderr: first.stderr }).toMatchObject({ code: 0 })
    const again = await exchange(args)
    expect(again.code).toBe(3)
    expect(jsonOf(again).error).toMatchObject({
      code: 'token_error',
      oauth: { error: 'invalid_grant' },
      hint: 'a code works once and lives about a minute (on Auth0); the code_verifier and redirect_uri must equal those of the authorization request; run the flow again',
    })
  })
})

describe('pkce relay: the browser half on another machine', () => {
  it('relay listens on the URL’s redirect URI, hands back the callback URL on stdout; exchange finishes', async () => {
    const { doc } = await authorize([])
    const browser = `"${process.execPath}" "${BIN}" sandbox-user --ca-file "${tenant.caFile}"`
    const relay = await runCli(
      ['relay', doc.authorization_url, '--browser', browser, '--timeout', '20'],
      {
        env: tenant.env,
        timeoutMs: 30_000,
      },
    )
    expect({ code: relay.code, stderr: relay.stderr }).toMatchObject({ code: 0 })
    const callback = relay.stdout.trim()
    expect(callback.startsWith(`${doc.redirect_uri}?`)).toBe(true)
    expect(relay.stdout).toBe(`${callback}\n`)
    const run = await exchange(
      ['--state-file', doc.state_file, '--callback-url', '-', '--json'],
      relay.stdout,
    )
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
  })

  it('a URL whose redirect URI is not loopback http is exit 2 before listening', async () => {
    const url = new URL(tenant.sandbox.issuer)
    url.pathname = '/authorize'
    url.searchParams.set('redirect_uri', 'https://app.example.com/callback')
    const run = await runCli(['relay', url.href, '--no-browser'], { env: tenant.env })
    expect(run.code).toBe(2)
    expect(run.stderr.split('\n')[0]).toBe(
      'error: the redirect URI must be http on localhost, 127.0.0.1 or [::1], not https://app.example.com/callback',
    )
  })

  it('login --remote: prints the relay command and reads the relayed URL on stdin', async () => {
    const cli = startCli(
      [
        'login',
        '--issuer',
        tenant.sandbox.issuer,
        '--client-id',
        DEFAULT_CLIENT_IDS.public,
        '--port',
        String(await freePort()),
        '--remote',
        '--json',
      ],
      { env: tenant.env, timeoutMs: 30_000, keepStdinOpen: true },
    )
    const [, url] = await cli.waitFor('stderr', /pkce relay '([^']+)'/u, 20_000)
    cli.child.stdin?.end(`${await callbackFor(url ?? '')}\n`)
    const run = await cli.done
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
    expect(jsonOf(run)).toMatchObject({ ok: true, tokens: { token_type: 'Bearer' } })
  })

  it('login --paste on a terminal (a pseudo-terminal from script(1)): the prompt, then the pasted URL finishes the flow', async () => {
    const port = await freePort()
    const command = [
      process.execPath,
      BIN,
      'login',
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--port',
      String(port),
      '--paste',
      '--no-browser',
      '--print',
      'id_token',
    ]
      .map((word) => `'${word}'`)
      .join(' ')
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, ...tenant.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let screen = ''
    const seen = (pattern: RegExp): Promise<RegExpExecArray> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${String(pattern)} in:\n${screen}`)),
          20_000,
        )
        const check = (): void => {
          const match = pattern.exec(screen)
          if (match === null) return
          clearTimeout(timer)
          child.stdout.off('data', onData)
          resolve(match)
        }
        const onData = (chunk: Buffer): void => {
          screen += chunk.toString()
          check()
        }
        child.stdout.on('data', onData)
        check()
      })
    const [, url] = await seen(/(https:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/u)
    await seen(/Paste the callback URL: /u)
    child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()))
    child.stdin.write(`${await callbackFor(url ?? '')}\r`)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(screen).toContain(
      'After signing in, the browser will fail to load the page it lands on: that is expected.',
    )
    expect(screen).toMatch(/\beyJ[\w-]+\.[\w-]+\.[\w-]+/u)
  })

  it('login --paste without a terminal is exit 2 naming the other legs, before any request', async () => {
    const run = await runCli(
      [
        'login',
        '--issuer',
        tenant.sandbox.issuer,
        '--client-id',
        DEFAULT_CLIENT_IDS.public,
        '--paste',
      ],
      { env: tenant.env },
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toBe(
      'error: --paste asks for the callback URL on a terminal, and stdin is not one\nhint: use pkce authorize, then pkce exchange --callback-url, or login --remote with the URL on stdin\n',
    )
  })
})
