import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_AUDIENCE, DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { BIN, jsonOf, runCli } from '../helpers/spawn-cli.js'
import { splitFlow } from './split.js'
import { startTestTenant } from './tenant.js'
import type { TestTenant } from './tenant.js'

// Client authentication against the test tenant (issue 18): client_secret_jwt for login, PAR and
// refresh, and --header on the wire with its value redacted in the trace.

const BROWSER = `"${process.execPath}" "${BIN}" sandbox-user`
const JWT_CLIENT = 'sandbox-secret-jwt-app'
const SCOPE = 'openid profile offline_access read:messages'

let tenant: TestTenant
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-client-auth-'))
  const configFile = join(dir, 'tenant.json')
  await writeFile(
    configFile,
    JSON.stringify({
      clients: [
        { client_id: DEFAULT_CLIENT_IDS.public, token_endpoint_auth_method: 'none' },
        {
          client_id: DEFAULT_CLIENT_IDS.confidential,
          token_endpoint_auth_method: 'client_secret_post',
        },
        {
          client_id: DEFAULT_CLIENT_IDS.privateKeyJwt,
          token_endpoint_auth_method: 'private_key_jwt',
        },
        { client_id: JWT_CLIENT, token_endpoint_auth_method: 'client_secret_jwt' },
      ],
      audiences: [{ identifier: DEFAULT_AUDIENCE, scopes: ['read:messages'] }],
    }),
  )
  tenant = await startTestTenant({ configFile })
})
afterAll(async () => {
  await tenant.close()
  await rm(dir, { recursive: true, force: true })
})

function pkce(args: string[]) {
  return runCli(args, { env: tenant.env, timeoutMs: 40_000 })
}

function login(clientArgs: string[], extra: string[] = []) {
  return pkce([
    'login',
    '--issuer',
    tenant.sandbox.issuer,
    ...clientArgs,
    '--audience',
    DEFAULT_AUDIENCE,
    '--scope',
    SCOPE,
    '--port',
    '0',
    '--browser',
    BROWSER,
    '--timeout',
    '20',
    ...extra,
  ])
}

const jwtClient = (): string[] => [
  '--client-id',
  JWT_CLIENT,
  '--client-secret-file',
  tenant.secretFiles[JWT_CLIENT] ?? '',
  '--client-auth',
  'client_secret_jwt',
]

describe.concurrent('client_secret_jwt against the sandbox tenant', () => {
  it('login: the HS256 assertion authenticates the client; the trace shows it redacted', async () => {
    const run = await login(jwtClient(), ['--json', '--verbose'])
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    expect(jsonOf(run).ok).toBe(true)
    expect(run.stderr).toContain(
      '>   client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer\n',
    )
    expect(run.stderr).toMatch(/> {3}client_assertion=\[redacted \d+ chars\]\n/u)
    expect(run.stderr).not.toContain('client_secret=')
  })

  it('login --par: the PAR request is authenticated the same way', async () => {
    const before = tenant.requests().filter((r) => r === 'POST /oauth/par').length
    const run = await login(jwtClient(), ['--par', '--json'])
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    expect(tenant.requests().filter((r) => r === 'POST /oauth/par').length).toBe(before + 1)
  })

  it('refresh: a refresh token from login is renewed with a client_secret_jwt assertion', async () => {
    const first = await login(jwtClient(), ['--print', 'refresh_token'])
    expect({ code: first.code, stderr: first.code === 0 ? '' : first.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    const file = join(dir, 'rt')
    await writeFile(file, first.stdout, { mode: 0o600 })
    const run = await pkce([
      'refresh',
      '--issuer',
      tenant.sandbox.issuer,
      ...jwtClient(),
      '--refresh-token-file',
      file,
      '--json',
    ])
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
  })

  it('a wrong secret is refused by the server: exit 3 invalid_client', async () => {
    const file = join(dir, 'wrong-secret')
    await writeFile(file, 'not-the-secret-of-this-client-at-all-0123456789\n', { mode: 0o600 })
    const run = await login(
      [
        '--client-id',
        JWT_CLIENT,
        '--client-secret-file',
        file,
        '--client-auth',
        'client_secret_jwt',
      ],
      ['--json'],
    )
    expect(run.code).toBe(3)
    expect(jsonOf(run).error).toMatchObject({ oauth: { error: 'invalid_client' } })
  })

  it('authorize, then exchange: the state file names the method, exchange signs a new assertion', async () => {
    const run = await splitFlow(tenant, jwtClient(), [])
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
  })
})

describe('--header against the sandbox tenant', () => {
  it('is sent on each request; a secret-looking value is redacted in the trace', async () => {
    const run = await login(
      ['--client-id', DEFAULT_CLIENT_IDS.public],
      [
        '--header',
        'X-Api-Key: header-secret-value-123',
        '--header',
        'client-certificate-ca-verified: SUCCESS',
        '--verbose',
      ],
    )
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    expect(run.stderr).toContain('> x-api-key: [redacted 23 chars]\n')
    expect(run.stderr).toContain('> client-certificate-ca-verified: SUCCESS\n')
    expect(run.stderr).not.toContain('header-secret-value-123')
  })
})
