import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_AUDIENCE, DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { BIN, jsonOf, runCli } from '../helpers/spawn-cli.js'
import { startTestTenant } from './tenant.js'
import type { TestTenant } from './tenant.js'

const BROWSER = `"${process.execPath}" "${BIN}" sandbox-user`

let open: TestTenant
let strict: TestTenant

beforeAll(async () => {
  ;[open, strict] = await Promise.all([
    startTestTenant(),
    startTestTenant({ requirePar: true, requireDpop: true, dpopNonce: true }),
  ])
})
afterAll(async () => {
  await Promise.all([open.close(), strict.close()])
})

function cli(tenant: TestTenant, command: 'login' | 'par', args: string[]) {
  const flow = command === 'login' ? ['--port', '0', '--browser', BROWSER, '--timeout', '20'] : []
  return runCli([command, '--issuer', tenant.sandbox.issuer, ...flow, ...args, '--json'], {
    env: tenant.env,
    timeoutMs: 30_000,
  })
}

const secretClient = (tenant: TestTenant) => [
  '--client-id',
  DEFAULT_CLIENT_IDS.confidential,
  '--client-secret-file',
  tenant.secretFile,
]
const keyClient = (tenant: TestTenant) => [
  '--client-id',
  DEFAULT_CLIENT_IDS.privateKeyJwt,
  '--private-key-file',
  tenant.keyFile,
]

describe.concurrent('pkce par (RFC 9126)', () => {
  it.each([
    [
      'client_secret_post',
      (t: TestTenant) => [...secretClient(t), '--client-auth', 'client_secret_post'],
    ],
    [
      'client_secret_basic',
      (t: TestTenant) => [...secretClient(t), '--client-auth', 'client_secret_basic'],
    ],
    ['private_key_jwt', keyClient],
  ])('pushes with %s and prints what finishing the flow needs', async (_method, client) => {
    const run = await cli(open, 'par', client(open))
    expect(run.code).toBe(0)
    const doc = jsonOf(run)
    expect(Object.keys(doc)).toEqual([
      'ok',
      'issuer',
      'client_id',
      'redirect_uri',
      'request_uri',
      'expires_in',
      'expires_at',
      'authorization_url',
      'code_verifier',
      'code_challenge',
      'code_challenge_method',
      'state',
      'nonce',
      'dpop',
      'warnings',
      'timings_ms',
    ])
    expect(doc.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/)
    expect(doc.expires_in).toBe(30)
    const url = new URL(doc.authorization_url as string)
    expect([...url.searchParams.keys()]).toEqual(['client_id', 'request_uri'])
    expect(url.searchParams.get('request_uri')).toBe(doc.request_uri)
    expect(doc.redirect_uri).toBe('http://127.0.0.1:8484/callback')
  })

  it('a public client is refused, and the error names the flags to add', async () => {
    const run = await cli(open, 'par', ['--client-id', DEFAULT_CLIENT_IDS.public])
    expect(run.code).toBe(3)
    const error = jsonOf(run).error as { code: string; hint: string; stage: string }
    expect(error.code).toBe('par_error')
    expect(error.stage).toBe('par')
    expect(error.hint).toBe(
      'Auth0 accepts PAR only from confidential clients: add --client-secret-file <path> or --private-key-file <key>',
    )
  })

  it('authorization_details reach the server as sent', async () => {
    const details = [
      { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '12.00' } },
    ]
    // As on Auth0, authorization_details types belong to an API, so an audience goes with them.
    const run = await cli(open, 'par', [
      ...secretClient(open),
      '--audience',
      DEFAULT_AUDIENCE,
      '--authorization-details',
      JSON.stringify(details),
    ])
    expect(run.code).toBe(0)
    expect(open.sandbox.lastAuthorizationDetails).toEqual(details)
  })

  it('--authorization-details that is not an array of typed objects is a usage error', async () => {
    const run = await cli(open, 'par', [
      ...secretClient(open),
      '--authorization-details',
      '{"type":"x"}',
    ])
    expect(run.code).toBe(2)
    expect((jsonOf(run).error as { message: string }).message).toBe(
      '--authorization-details must be a JSON array of objects, each with a string "type" (RFC 9396 §2)',
    )
  })
})

describe.concurrent('login --par and --dpop', () => {
  it('login --par: pushes, then opens /authorize with client_id and request_uri only', async () => {
    const run = await cli(open, 'login', [...secretClient(open), '--par'])
    expect(run.code).toBe(0)
    const doc = jsonOf(run)
    expect((doc.par as { request_uri: string }).request_uri).toMatch(
      /^urn:ietf:params:oauth:request_uri:/,
    )
    expect([...new URL(doc.authorization_url as string).searchParams.keys()]).toEqual([
      'client_id',
      'request_uri',
    ])
  })

  it('par --open goes on like login --par: it opens the URL and finishes the flow', async () => {
    const run = await runCli(
      [
        'par',
        '--open',
        '--issuer',
        open.sandbox.issuer,
        ...secretClient(open),
        '--port',
        '0',
        '--browser',
        BROWSER,
        '--json',
      ],
      { env: open.env, timeoutMs: 30_000 },
    )
    expect(run.code).toBe(0)
    const doc = jsonOf(run)
    expect((doc.par as { request_uri: string }).request_uri).toMatch(
      /^urn:ietf:params:oauth:request_uri:/,
    )
    expect((doc.checks as { ok: boolean }[]).every((check) => check.ok)).toBe(true)
  })

  it('a PAR error stops the run before any browser opens', async () => {
    const marker = join(open.dir, 'browser-ran')
    const browser = `"${process.execPath}" -e "require('fs').writeFileSync('${marker}', '')"`
    const run = await runCli(
      [
        'login',
        '--issuer',
        open.sandbox.issuer,
        '--client-id',
        DEFAULT_CLIENT_IDS.public,
        '--par',
        '--port',
        '0',
        '--browser',
        browser,
        '--json',
      ],
      { env: open.env },
    )
    expect(run.code).toBe(3)
    expect((jsonOf(run).error as { code: string }).code).toBe('par_error')
    expect(run.stderr).not.toContain('Open this URL')
    expect(existsSync(marker)).toBe(false)
  })

  it('--dpop: the token is DPoP-bound and cnf.jkt equals the key thumbprint', async () => {
    const run = await cli(open, 'login', [
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--dpop',
      '--audience',
      DEFAULT_AUDIENCE,
    ])
    expect(run.code).toBe(0)
    const doc = jsonOf(run)
    const dpop = doc.dpop as {
      jkt: string
      alg: string
      nonce_retries: number
      proofs: { header: Record<string, unknown>; claims: Record<string, unknown> }[]
      jwk: Record<string, unknown>
    }
    expect((doc.tokens as { token_type: string }).token_type).toBe('DPoP')
    expect(dpop.alg).toBe('ES256')
    expect(dpop.nonce_retries).toBe(0)
    expect(Object.keys(dpop.jwk).sort()).toEqual(['crv', 'kty', 'x', 'y'])
    expect(dpop.proofs).toHaveLength(1)
    expect(dpop.proofs[0]?.claims.htu).toBe(`${open.sandbox.issuer}oauth/token`)
    const payload = (doc.access_token as { payload: { cnf: { jkt: string } } }).payload
    expect(payload.cnf.jkt).toBe(dpop.jkt)
    expect(new URL(doc.authorization_url as string).searchParams.get('dpop_jkt')).toBe(dpop.jkt)
    const checks = (doc.checks as { name: string; ok: boolean }[]).filter(
      (check) => check.name.startsWith('dpop') || check.name.includes('cnf'),
    )
    expect(checks).toEqual([
      { name: 'dpop.token_type', ok: true, detail: 'DPoP' },
      {
        name: 'access_token.cnf.jkt',
        ok: true,
        detail: `equals the DPoP key thumbprint ${dpop.jkt}`,
      },
    ])
    expect(run.stdout).not.toContain('"d":')
  })

  it('--dpop-alg EdDSA signs the proofs with a fresh Ed25519 key', async () => {
    const run = await cli(open, 'login', [
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--dpop',
      '--dpop-alg',
      'EdDSA',
    ])
    expect(run.code).toBe(0)
    const dpop = jsonOf(run).dpop as {
      alg: string
      jwk: { kty: string; crv: string }
      proofs: { header: { alg: string } }[]
    }
    expect(dpop.alg).toBe('EdDSA')
    expect(dpop.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' })
    expect(dpop.proofs.map((proof) => proof.header.alg)).toEqual(['EdDSA'])
  })

  it('--dpop-key uses the given key: its thumbprint is the dpop_jkt', async () => {
    const { generateKeyPairSync } = await import('node:crypto')
    const { calculateJwkThumbprint } = await import('jose')
    const { writeFileSync } = await import('node:fs')
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const keyFile = join(open.dir, 'dpop.pem')
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 })
    const expected = await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }), 'sha256')
    const run = await cli(open, 'login', [
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--dpop',
      '--dpop-key',
      keyFile,
    ])
    expect(run.code).toBe(0)
    expect((jsonOf(run).dpop as { jkt: string }).jkt).toBe(expected)
    expect(run.stdout).not.toContain(privateKey.export({ format: 'jwk' }).d ?? 'never')
  })

  it('a --dpop-alg the server does not list is a usage error naming one it does', async () => {
    const run = await cli(open, 'login', [
      '--client-id',
      DEFAULT_CLIENT_IDS.public,
      '--dpop',
      '--dpop-alg',
      'ES512',
    ])
    expect(run.code).toBe(2)
    expect(jsonOf(run).error).toMatchObject({
      code: 'usage_error',
      message:
        'the server does not accept DPoP proofs signed with ES512 (it lists ES256, EdDSA, RS256, PS256)',
      hint: 'pass --dpop-alg ES256',
    })
  })

  it('a tenant requiring PAR and DPoP with nonces: PAR is used by itself, one nonce retry per endpoint, private_key_jwt', async () => {
    const run = await cli(strict, 'login', [
      ...keyClient(strict),
      '--dpop',
      '--audience',
      DEFAULT_AUDIENCE,
    ])
    expect(run.code).toBe(0)
    expect(run.stderr).toContain(
      'The server requires pushed authorization requests (require_pushed_authorization_requests): using PAR',
    )
    const doc = jsonOf(run)
    const dpop = doc.dpop as {
      nonce_retries: number
      proofs: { claims: { jti: string; nonce?: string; htu: string } }[]
    }
    expect(dpop.nonce_retries).toBeGreaterThanOrEqual(1)
    const jtis = dpop.proofs.map((proof) => proof.claims.jti)
    expect(new Set(jtis).size).toBe(jtis.length)
    expect(dpop.proofs.at(-1)?.claims.nonce).toEqual(expect.any(String))
    expect((doc.tokens as { token_type: string }).token_type).toBe('DPoP')
  })

  it('a tenant requiring DPoP refuses a Bearer-only code exchange: exit 3 with its error', async () => {
    const run = await cli(strict, 'login', [...keyClient(strict)])
    expect(run.code).toBe(3)
    const error = jsonOf(run).error as { code: string; stage: string; oauth: { error: string } }
    expect(error.code).toBe('token_error')
    expect(error.stage).toBe('token')
    expect(error.oauth.error).toBe('invalid_grant')
  })
})
