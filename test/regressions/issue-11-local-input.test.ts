import { generateKeyPairSync } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { decodeProtectedHeader, exportJWK } from 'jose'
import type { JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import type { Ctx } from '../../src/context.js'
import { readPrivateKey } from '../../src/commands/inputs.js'
import { main } from '../../src/main.js'
import { callbackFrom, ISSUER, ORIGIN, withMockTenant } from '../helpers/mock-tenant.js'
import type { Capture } from '../helpers/mock-tenant.js'
import { withTempFiles } from '../helpers/temp-files.js'
import { testCtx } from '../helpers/test-ctx.js'

// Issue 11: bad local input (keys, CA files) must be exit 2 with one `error:` line naming the
// input, found before the first request; never exit 1 ("internal error") or a later exit 5.

const LOGIN = ['login', '--issuer', ISSUER, '--client-id', 'abc', '--scope', 'profile']

const files = withTempFiles('pkce-issue-11-')
const file = files.file
const mock = withMockTenant()

function ecKey(curve: string): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: curve }).privateKey
}

/** A fresh private EC key on `curve` as a JWK file, after `edit`. */
async function jwkFile(name: string, curve: string, edit = (jwk: JWK): object => jwk) {
  return file(name, JSON.stringify(edit(await exportJWK(ecKey(curve)))))
}

/** The key's x and y swapped: not a point on its curve. */
const swapped = (jwk: JWK): object => ({ ...jwk, x: jwk.y, y: jwk.x })

/** A private key as a PKCS#8 PEM file. */
function pemFile(name: string, key: KeyObject): Promise<string> {
  return file(name, key.export({ format: 'pem', type: 'pkcs8' }).toString())
}

/** Runs the CLI in process against the MockAgent; no interceptor means no request is expected. */
async function run(
  argv: string[],
  openBrowser?: Ctx['openBrowser'],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const ctx = testCtx({
    dispatcher: mock.agent,
    now: new Date(),
    ...(openBrowser === undefined ? {} : { openBrowser }),
  })
  const code = await main(argv, ctx)
  return { code, stdout: ctx.stdout(), stderr: ctx.stderr() }
}

/**
 * A tenant for one login without `openid` (so no ID token): discovery, then a token endpoint that
 * records the request and answers with a DPoP-bound token when a proof came.
 */
function tenant(): Capture {
  mock.discovery({
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    dpop_signing_alg_values_supported: ['ES256', 'ES384', 'ES512'],
  })
  return mock.tokenEndpoint(({ headers }) => ({
    access_token: 'opaque-access-token',
    token_type: headers.dpop === undefined ? 'Bearer' : 'DPoP',
    expires_in: 60,
  }))
}

/** `login` with a browser stub that calls the loopback callback with a code. */
function login(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run([...LOGIN, '--port', '0', '--browser', 'stub', ...argv], (url) => {
    void fetch(callbackFrom(url.searchParams))
    return Promise.resolve()
  })
}

describe('issue 11: a P-384 or P-521 private JWK without "alg" signs with ES384 / ES512', () => {
  it('readPrivateKey() takes the alg from the JWK’s own crv', async () => {
    const p384 = await jwkFile('p384.json', 'P-384')
    const p521 = await jwkFile('p521.json', 'P-521')
    expect((await readPrivateKey(p384, 'the DPoP key', testCtx())).alg).toBe('ES384')
    expect((await readPrivateKey(p521, 'the private key', testCtx())).alg).toBe('ES512')
  })

  it('--dpop-key with a P-384 JWK: the login succeeds with ES384 proofs', async () => {
    const server = tenant()
    const key = await jwkFile('dpop-p384.json', 'P-384')
    const result = await login(['--dpop', '--dpop-key', key, '--json'])
    expect(result.stderr).not.toContain('error:')
    expect(result.code).toBe(0)
    expect(decodeProtectedHeader(server.headers().dpop ?? '')).toMatchObject({
      typ: 'dpop+jwt',
      alg: 'ES384',
      jwk: { kty: 'EC', crv: 'P-384' },
    })
  })

  it('--private-key-file with a P-521 JWK: the client assertion is signed with ES512', async () => {
    const server = tenant()
    const key = await jwkFile('client-p521.json', 'P-521')
    const result = await login(['--private-key-file', key, '--json'])
    expect(result.stderr).not.toContain('error:')
    expect(result.code).toBe(0)
    const assertion = server.form().get('client_assertion') ?? ''
    expect(decodeProtectedHeader(assertion).alg).toBe('ES512')
  })
})

describe('issue 11: a malformed private JWK is exit 2 naming the file', () => {
  it('--dpop-key: an EC key whose x and y are not a point on its curve', async () => {
    const path = await jwkFile('bad-point.json', 'P-256', swapped)
    const result = await run([...LOGIN, '--dpop', '--dpop-key', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: the DPoP key in ${path} is not a valid private JWK: its x, y and d do not form a P-256 EC key pair\n`,
    })
  })

  it('--private-key-file: the same key', async () => {
    const path = await jwkFile('bad-point-384.json', 'P-384', swapped)
    const result = await run([...LOGIN, '--private-key-file', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: the private key in ${path} is not a valid private JWK: its x, y and d do not form a P-384 EC key pair\n`,
    })
  })

  it('x and y of another key: a valid point, but not the public half of d', async () => {
    const other = await exportJWK(ecKey('P-256'))
    const path = await jwkFile('mismatch.json', 'P-256', (jwk) => ({
      ...jwk,
      x: other.x,
      y: other.y,
    }))
    const result = await run([...LOGIN, '--dpop', '--dpop-key', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: the DPoP key in ${path} is not a valid private JWK: its x, y and d do not form a P-256 EC key pair\n`,
    })
  })

  it('--json: one usage_error document', async () => {
    const path = await jwkFile('bad-point-json.json', 'P-256', swapped)
    const result = await run([...LOGIN, '--dpop', '--dpop-key', path, '--json'])
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: {
        code: 'usage_error',
        message: `the DPoP key in ${path} is not a valid private JWK: its x, y and d do not form a P-256 EC key pair`,
      },
    })
  })
})

describe('issue 11: the private members of a JWK are registered with the redactor', () => {
  it('an EC key’s d', async () => {
    const jwk = await exportJWK(ecKey('P-256'))
    const path = await file('redact-ec.json', JSON.stringify(jwk))
    const ctx = testCtx()
    await readPrivateKey(path, 'the DPoP key', ctx)
    expect(ctx.secrets.redact(`d=${jwk.d}`)).toBe('d=[redacted 43 chars]')
  })

  it('an RSA key’s d, p, q, dp, dq and qi', async () => {
    const jwk = await exportJWK(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)
    const path = await file('redact-rsa.json', JSON.stringify(jwk))
    const ctx = testCtx()
    await readPrivateKey(path, 'the private key', ctx)
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
      const value = jwk[member] ?? ''
      expect(ctx.secrets.redact(value)).toBe(`[redacted ${value.length} chars]`)
    }
  })
})

describe('issue 11: --ca-file is read and checked before any request', () => {
  it('a file with no certificate in it: exit 2 naming the file', async () => {
    const path = await file('not-a-ca.pem', 'hello\n')
    const result = await run([...LOGIN, '--ca-file', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: --ca-file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n`,
    })
  })

  it('a file that cannot be read: exit 2 naming the file', async () => {
    const path = files.path('missing.pem')
    const result = await run([...LOGIN, '--ca-file', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: cannot read --ca-file ${path} (ENOENT)\n`,
    })
  })

  it('decode --verify --ca-file: the same check', async () => {
    const path = await file('not-a-ca-decode.pem', 'hello\n')
    const result = await run([
      'decode',
      '--verify',
      '--jwks-uri',
      `${ORIGIN}/jwks.json`,
      '--ca-file',
      path,
      'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
    ])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: --ca-file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n`,
    })
  })
})

describe('issue 11: other key problems are exit 2 before the first request', () => {
  it('an RSA key under 2048 bits (security.md MD-5)', async () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
    const path = await pemFile('rsa-1024.pem', key)
    const result = await run([...LOGIN, '--private-key-file', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: the private key in ${path} is a 1024-bit RSA key; RSA keys need at least 2048 bits (RFC 7518 §3.3)\n`,
    })
  })

  it('a PEM key on a curve pkce does not sign with (secp256k1)', async () => {
    const path = await pemFile('k1.pem', ecKey('secp256k1'))
    const result = await run([...LOGIN, '--dpop', '--dpop-key', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `error: the DPoP key in ${path} is an unsupported private key type (ec secp256k1)\n` +
        'hint: use an RSA, EC (P-256/384/521) or Ed25519 key\n',
    })
  })

  it('an RSA-PSS (id-RSASSA-PSS) PEM key, which jose cannot import', async () => {
    const key = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey
    const path = await pemFile('pss.pem', key)
    const result = await run([...LOGIN, '--private-key-file', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `error: the private key in ${path} is an unsupported private key type (rsa-pss)\n` +
        'hint: use an RSA, EC (P-256/384/521) or Ed25519 key\n',
    })
  })

  it('a JWK whose "alg" its key cannot sign with', async () => {
    const path = await jwkFile('wrong-alg.json', 'P-256', (jwk) => ({ ...jwk, alg: 'RS256' }))
    const result = await run([...LOGIN, '--private-key-file', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: the private key in ${path} is a P-256 EC key and cannot sign with RS256 (it signs with ES256)\n`,
    })
  })

  it('--dpop-alg that the --dpop-key cannot sign with', async () => {
    const path = await jwkFile('dpop-384.json', 'P-384')
    const result = await run([...LOGIN, '--dpop', '--dpop-alg', 'ES256', '--dpop-key', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: the DPoP key in ${path} is a P-384 EC key and cannot sign with ES256 (it signs with ES384)\n`,
    })
  })

  it('a --dpop-alg pkce cannot sign with (none, a MAC, ES256K)', async () => {
    for (const alg of ['none', 'HS256', 'ES256K']) {
      const result = await run([...LOGIN, '--dpop', '--dpop-alg', alg])
      expect(result).toEqual({
        code: 2,
        stdout: '',
        stderr:
          `error: --dpop-alg ${alg} is not an algorithm pkce signs with\n` +
          'hint: use one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519 (RFC 9449 §4.2: asymmetric, never none or a MAC)\n',
      })
    }
  })

  it('a JWK whose key_ops leave out "sign" (RFC 7517 §4.3)', async () => {
    const path = await jwkFile('verify-only.json', 'P-256', (jwk) => ({
      ...jwk,
      key_ops: ['verify'],
    }))
    const result = await run([...LOGIN, '--dpop', '--dpop-key', path])
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: the DPoP key in ${path} has "key_ops" without "sign"\n`,
    })
  })
})
