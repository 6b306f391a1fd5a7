import { createHash, createPublicKey, X509Certificate } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_AUDIENCE, DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { createSandboxCertificates } from '../../src/sandbox/ca.js'
import { BIN, jsonOf, runCli } from '../helpers/spawn-cli.js'
import { splitFlow } from './split.js'
import { startTestTenant } from './tenant.js'
import type { TestTenant } from './tenant.js'

// mTLS client authentication (RFC 8705, issue 18) against the test tenant's mTLS listener: a
// self-signed client certificate registered by its x5c, mtls_endpoint_aliases, cnf["x5t#S256"].

const BROWSER = `"${process.execPath}" "${BIN}" sandbox-user`
const MTLS_CLIENT = 'sandbox-self-signed-mtls-app'
const client = createSandboxCertificates()
const der = new X509Certificate(client.cert).raw

let tenant: TestTenant
let dir: string
let certFile: string
let keyFile: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-mtls-'))
  certFile = join(dir, 'client.pem')
  keyFile = join(dir, 'client.key')
  await writeFile(certFile, client.cert)
  await writeFile(keyFile, client.key, { mode: 0o600 })
  const jwk = { ...(await exportJWK(createPublicKey(client.cert))), x5c: [der.toString('base64')] }
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
        {
          client_id: MTLS_CLIENT,
          token_endpoint_auth_method: 'self_signed_tls_client_auth',
          jwks: { keys: [jwk] },
        },
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

function login(extra: string[]) {
  return runCli(
    [
      'login',
      '--issuer',
      tenant.sandbox.issuer,
      '--client-id',
      MTLS_CLIENT,
      '--client-auth',
      'self_signed_tls_client_auth',
      '--client-cert',
      certFile,
      '--client-key',
      keyFile,
      '--audience',
      DEFAULT_AUDIENCE,
      '--scope',
      'openid profile offline_access read:messages',
      '--port',
      '0',
      '--browser',
      BROWSER,
      '--timeout',
      '20',
      ...extra,
    ],
    { env: tenant.env, timeoutMs: 40_000 },
  )
}

describe.concurrent('self_signed_tls_client_auth against the mTLS listener', () => {
  it('login: the aliases are followed and named; the access token is bound to the certificate', async () => {
    const run = await login(['--json'])
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    expect(run.stderr).toMatch(
      /mTLS: token_endpoint is the alias https:\/\/127\.0\.0\.1:\d+\/oauth\/token \(mtls_endpoint_aliases\)/u,
    )
    const doc = jsonOf(run) as { checks: { name: string; ok: boolean; detail: string }[] }
    const x5t = createHash('sha256').update(der).digest('base64url')
    expect(doc.checks.find((check) => check.name === 'access_token.cnf.x5t#S256')).toEqual({
      name: 'access_token.cnf.x5t#S256',
      ok: true,
      detail: `equals the client certificate thumbprint ${x5t}`,
    })
  })

  it('login --par: PAR goes to the alias too, authenticated by the certificate', async () => {
    const run = await login(['--par', '--json'])
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    expect(run.stderr).toMatch(
      /mTLS: pushed_authorization_request_endpoint is the alias https:\/\/127\.0\.0\.1:\d+\/oauth\/par/u,
    )
  })

  it('refresh: the refresh token from login is renewed over the alias with the certificate', async () => {
    const first = await login(['--print', 'refresh_token'])
    expect({ code: first.code, stderr: first.code === 0 ? '' : first.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    const file = join(dir, 'rt')
    await writeFile(file, first.stdout, { mode: 0o600 })
    const run = await runCli(
      [
        'refresh',
        '--issuer',
        tenant.sandbox.issuer,
        '--client-id',
        MTLS_CLIENT,
        '--client-auth',
        'self_signed_tls_client_auth',
        '--client-cert',
        certFile,
        '--client-key',
        keyFile,
        '--audience',
        DEFAULT_AUDIENCE,
        '--refresh-token-file',
        file,
        '--json',
      ],
      { env: tenant.env, timeoutMs: 40_000 },
    )
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    const doc = jsonOf(run) as { checks: { name: string; ok: boolean }[] }
    expect(doc.checks).toContainEqual(
      expect.objectContaining({ name: 'access_token.cnf.x5t#S256', ok: true }),
    )
  })

  it('another certificate than the registered one: the server refuses the client (exit 3)', async () => {
    const other = createSandboxCertificates()
    const otherCert = join(dir, 'other.pem')
    const otherKey = join(dir, 'other.key')
    await writeFile(otherCert, other.cert)
    await writeFile(otherKey, other.key, { mode: 0o600 })
    const run = await runCli(
      [
        'login',
        '--issuer',
        tenant.sandbox.issuer,
        '--client-id',
        MTLS_CLIENT,
        '--client-auth',
        'self_signed_tls_client_auth',
        '--client-cert',
        otherCert,
        '--client-key',
        otherKey,
        '--port',
        '0',
        '--browser',
        BROWSER,
        '--timeout',
        '20',
        '--json',
      ],
      { env: tenant.env, timeoutMs: 40_000 },
    )
    expect(run.code).toBe(3)
    expect(jsonOf(run).error).toMatchObject({ oauth: { error: 'invalid_client' } })
  })

  it('authorize, then exchange with the certificate given again: bound to it, over the alias', async () => {
    const certArgs = ['--client-cert', certFile, '--client-key', keyFile]
    const run = await splitFlow(
      tenant,
      [
        '--client-id',
        MTLS_CLIENT,
        '--client-auth',
        'self_signed_tls_client_auth',
        ...certArgs,
        '--audience',
        DEFAULT_AUDIENCE,
      ],
      certArgs,
    )
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    const doc = jsonOf(run) as { checks: { name: string; ok: boolean }[] }
    expect(doc.checks).toContainEqual(
      expect.objectContaining({ name: 'access_token.cnf.x5t#S256', ok: true }),
    )
  })
})
