import { generateKeyPairSync } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rootCertificates } from 'node:tls'
import { exportJWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCaFile, readPrivateKey, readSecret, readTextFile } from '../../src/commands/inputs.js'
import { testCtx } from '../helpers/test-ctx.js'

let dir: string
let count = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-inputs-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Writes a fresh file (mode 600 unless told) and returns its path. */
async function file(content: string, mode = 0o600): Promise<string> {
  count += 1
  const path = join(dir, `input-${count}`)
  await writeFile(path, content, { mode })
  return path
}

function pkcs8(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString()
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey
const ed25519 = generateKeyPairSync('ed25519').privateKey

/** The usage error a bad input must be: exit 2, the message exact. */
function usage(message: string, hint?: string): Record<string, unknown> {
  return { code: 'usage_error', exitCode: 2, message, hint }
}

describe('readTextFile()', () => {
  it('returns the text of the file', async () => {
    const path = await file('some text\n', 0o644)
    expect(await readTextFile(path, '--key-file')).toBe('some text\n')
  })

  it('a file that cannot be read is a usage error naming the flag and the file', async () => {
    const path = join(dir, 'absent.pem')
    await expect(readTextFile(path, '--key-file')).rejects.toMatchObject(
      usage(`cannot read --key-file ${path} (ENOENT)`),
    )
  })

  it('a directory is one too', async () => {
    await expect(readTextFile(dir, '--jwks-file')).rejects.toMatchObject(
      usage(`cannot read --jwks-file ${dir} (EISDIR)`),
    )
  })
})

describe('readSecret()', () => {
  it('SO-1: reads a file, drops one trailing newline and registers the secret', async () => {
    const path = await file('s3cr3t-value\r\n')
    const ctx = testCtx()
    expect(await readSecret(path, 'the client secret', ctx)).toBe('s3cr3t-value')
    expect(ctx.secrets.redact('x s3cr3t-value y')).toBe('x [redacted 12 chars] y')
    expect(ctx.stderr()).toBe('')
  })

  it('keeps all but the last newline', async () => {
    const path = await file('line one\nline two\n\n')
    expect(await readSecret(path, 'the client secret', testCtx())).toBe('line one\nline two\n')
  })

  it('SO-1: a file others can read gets a warning, and is still used', async () => {
    const path = await file('s3cr3t-value\n', 0o644)
    const ctx = testCtx()
    expect(await readSecret(path, 'the client secret', ctx)).toBe('s3cr3t-value')
    expect(ctx.events).toEqual(['warn secret_file_readable'])
    expect(ctx.stderr()).toBe(
      `warning: ${path} can be read by other users (chmod 600 ${path}) (secret_file_readable)\n`,
    )
  })

  it('stdin (-)', async () => {
    const ctx = testCtx({ stdin: 'from-stdin-secret\n' })
    expect(await readSecret('-', 'the client secret', ctx)).toBe('from-stdin-secret')
  })

  it('CI-2: stdin that is a terminal is secret_missing, with a hint', async () => {
    await expect(
      readSecret('-', 'the client secret', testCtx({ stdinIsTTY: true })),
    ).rejects.toMatchObject({
      code: 'secret_missing',
      exitCode: 2,
      message: 'the client secret: stdin is a terminal',
      hint: 'pipe the secret in, e.g. --client-secret-file - < secret.txt, or pass a file path',
    })
  })

  it('a missing file is secret_missing naming it', async () => {
    const path = join(dir, 'no-secret')
    await expect(readSecret(path, 'the client secret', testCtx())).rejects.toMatchObject({
      code: 'secret_missing',
      exitCode: 2,
      message: `cannot read the client secret from ${path} (ENOENT)`,
    })
  })

  it('an empty file or stdin is secret_missing', async () => {
    const path = await file('\n')
    await expect(readSecret(path, 'the client secret', testCtx())).rejects.toMatchObject({
      code: 'secret_missing',
      message: `the client secret in ${path} is empty`,
    })
    await expect(readSecret('-', 'the password', testCtx({ stdin: '' }))).rejects.toMatchObject({
      code: 'secret_missing',
      message: 'the password in stdin is empty',
    })
  })
})

describe('readPrivateKey(): PEM', () => {
  it('RSA (PKCS#8): RS256, the JWK with every private member registered', async () => {
    const path = await file(pkcs8(rsa))
    const ctx = testCtx()
    const { key, alg } = await readPrivateKey(path, 'the private key', ctx)
    const expected = rsa.export({ format: 'jwk' })
    expect(alg).toBe('RS256')
    expect(key).toMatchObject({ kty: 'RSA', n: expected.n, e: expected.e, d: expected.d })
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
      const value = expected[member] ?? ''
      expect(ctx.secrets.redact(value)).toBe(`[redacted ${value.length} chars]`)
    }
  })

  it('RSA (PKCS#1)', async () => {
    const path = await file(rsa.export({ format: 'pem', type: 'pkcs1' }).toString())
    expect((await readPrivateKey(path, 'the private key', testCtx())).alg).toBe('RS256')
  })

  it('P-256, P-384 and P-521: ES256, ES384, ES512 (RFC 7518 §3.4)', async () => {
    const algs = []
    for (const key of [p256, p384, p521]) {
      const path = await file(pkcs8(key))
      const loaded = await readPrivateKey(path, 'the private key', testCtx())
      expect(loaded.key).toMatchObject({ kty: 'EC', d: key.export({ format: 'jwk' }).d })
      algs.push(loaded.alg)
    }
    expect(algs).toEqual(['ES256', 'ES384', 'ES512'])
  })

  it('P-384 as SEC1 (BEGIN EC PRIVATE KEY)', async () => {
    const path = await file(p384.export({ format: 'pem', type: 'sec1' }).toString())
    const { key, alg } = await readPrivateKey(path, 'the private key', testCtx())
    expect(alg).toBe('ES384')
    expect(key.crv).toBe('P-384')
  })

  it('Ed25519: EdDSA', async () => {
    const path = await file(pkcs8(ed25519))
    const { key, alg } = await readPrivateKey(path, 'the DPoP key', testCtx())
    expect(alg).toBe('EdDSA')
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519' })
  })

  it('a requested alg the key signs with is used', async () => {
    const path = await file(pkcs8(rsa))
    expect((await readPrivateKey(path, 'the DPoP key', testCtx(), 'PS384')).alg).toBe('PS384')
  })

  it('a requested alg the key cannot sign with is a usage error', async () => {
    const path = await file(pkcs8(p256))
    await expect(readPrivateKey(path, 'the DPoP key', testCtx(), 'ES384')).rejects.toMatchObject(
      usage(
        `the DPoP key in ${path} is a P-256 EC key and cannot sign with ES384 (it signs with ES256)`,
      ),
    )
  })

  it('MD-5: an RSA key under 2048 bits', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
    const path = await file(pkcs8(small))
    await expect(readPrivateKey(path, 'the private key', testCtx())).rejects.toMatchObject(
      usage(
        `the private key in ${path} is a 1024-bit RSA key; RSA keys need at least 2048 bits (RFC 7518 §3.3)`,
      ),
    )
  })

  it('key types and curves pkce does not sign with', async () => {
    const k1 = await file(pkcs8(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey))
    const ed448 = await file(pkcs8(generateKeyPairSync('ed448').privateKey))
    const x25519 = await file(pkcs8(generateKeyPairSync('x25519').privateKey))
    const pss = await file(
      pkcs8(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey),
    )
    const hint = 'use an RSA, EC (P-256/384/521) or Ed25519 key'
    await expect(readPrivateKey(k1, 'the DPoP key', testCtx())).rejects.toMatchObject(
      usage(`the DPoP key in ${k1} is an unsupported private key type (ec secp256k1)`, hint),
    )
    await expect(readPrivateKey(ed448, 'the DPoP key', testCtx())).rejects.toMatchObject(
      usage(`the DPoP key in ${ed448} is an unsupported private key type (ed448)`, hint),
    )
    await expect(readPrivateKey(x25519, 'the DPoP key', testCtx())).rejects.toMatchObject(
      usage(`the DPoP key in ${x25519} is an unsupported private key type (x25519)`, hint),
    )
    // jose (WebCrypto) cannot import an id-RSASSA-PSS key; it used to crash at the import.
    await expect(readPrivateKey(pss, 'the DPoP key', testCtx())).rejects.toMatchObject(
      usage(`the DPoP key in ${pss} is an unsupported private key type (rsa-pss)`, hint),
    )
  })

  it('an encrypted key says so', async () => {
    const encrypted = rsa.export({
      format: 'pem',
      type: 'pkcs8',
      cipher: 'aes-256-cbc',
      passphrase: 'passphrase',
    })
    const path = await file(encrypted.toString())
    await expect(readPrivateKey(path, 'the private key', testCtx())).rejects.toMatchObject(
      usage(
        `the private key in ${path} is encrypted; pkce reads unencrypted keys only`,
        'write a decrypted copy (mode 600), e.g. openssl pkey -in key.pem -out plain.pem',
      ),
    )
  })

  it('a public key, a certificate or other text is not a private key', async () => {
    const publicPem = await file(
      generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .publicKey.export({ format: 'pem', type: 'spki' })
        .toString(),
    )
    const certificate = await file(rootCertificates[0] ?? '')
    const text = await file('not a key\n')
    for (const path of [publicPem, certificate, text]) {
      await expect(readPrivateKey(path, 'the private key', testCtx())).rejects.toMatchObject(
        usage(`the private key in ${path} is not a PEM private key or a JWK`),
      )
    }
  })

  it('stdin (-) is named stdin', async () => {
    await expect(
      readPrivateKey('-', 'the DPoP key', testCtx({ stdin: 'not a key\n' })),
    ).rejects.toMatchObject(usage('the DPoP key in stdin is not a PEM private key or a JWK'))
  })
})

describe('readPrivateKey(): JWK', () => {
  async function jwkFile(jwk: object): Promise<string> {
    return file(JSON.stringify(jwk))
  }

  it('RSA: RS256, the JWK as given', async () => {
    const jwk = { ...(await exportJWK(rsa)), kid: 'client-key' }
    const path = await jwkFile(jwk)
    expect(await readPrivateKey(path, 'the private key', testCtx())).toEqual({
      key: jwk,
      alg: 'RS256',
    })
  })

  it('P-256, P-384 and P-521 without "alg": ES256, ES384, ES512 from the JWK’s crv', async () => {
    const algs = []
    for (const key of [p256, p384, p521]) {
      const path = await jwkFile(await exportJWK(key))
      algs.push((await readPrivateKey(path, 'the DPoP key', testCtx())).alg)
    }
    expect(algs).toEqual(['ES256', 'ES384', 'ES512'])
  })

  it('Ed25519: EdDSA, or its own alg Ed25519 (RFC 9864)', async () => {
    const jwk = await exportJWK(ed25519)
    expect((await readPrivateKey(await jwkFile(jwk), 'the DPoP key', testCtx())).alg).toBe('EdDSA')
    const named = await jwkFile({ ...jwk, alg: 'Ed25519' })
    expect((await readPrivateKey(named, 'the DPoP key', testCtx())).alg).toBe('Ed25519')
  })

  it('its own alg, when the key signs with it', async () => {
    const path = await jwkFile({ ...(await exportJWK(rsa)), alg: 'PS512' })
    expect((await readPrivateKey(path, 'the private key', testCtx())).alg).toBe('PS512')
  })

  it('SO-2: d is registered with the redactor', async () => {
    const jwk = await exportJWK(p384)
    const ctx = testCtx()
    await readPrivateKey(await jwkFile(jwk), 'the DPoP key', ctx)
    expect(ctx.secrets.redact(`d=${jwk.d ?? ''}`)).toBe('d=[redacted 64 chars]')
  })

  it('key_ops with "sign" is accepted', async () => {
    const path = await jwkFile({ ...(await exportJWK(p256)), key_ops: ['sign'] })
    expect((await readPrivateKey(path, 'the DPoP key', testCtx())).alg).toBe('ES256')
  })

  it('a public JWK is refused', async () => {
    const jwk = await exportJWK(p256)
    const path = await jwkFile({ kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y })
    await expect(readPrivateKey(path, 'the DPoP key', testCtx())).rejects.toMatchObject(
      usage(`the DPoP key in ${path} is a public JWK; a private key is needed`),
    )
  })

  it('text starting with { that is not JSON', async () => {
    const path = await file('{ not json')
    await expect(readPrivateKey(path, 'the DPoP key', testCtx())).rejects.toMatchObject(
      usage(`the DPoP key in ${path} is neither PEM nor JSON`),
    )
  })

  it('key types pkce does not sign with, and a JWK with no kty', async () => {
    const hint = 'use an RSA, EC (P-256/384/521) or Ed25519 key'
    const cases: [object, string][] = [
      [{ kty: 'oct', k: 'c2hhcmVkLXNlY3JldC1rZXk' }, 'oct'],
      [await exportJWK(generateKeyPairSync('ed448').privateKey), 'OKP Ed448'],
      [
        await exportJWK(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey),
        'EC secp256k1',
      ],
      [{ d: 'some-private-value' }, 'no "kty"'],
    ]
    for (const [jwk, kind] of cases) {
      const path = await jwkFile(jwk)
      await expect(readPrivateKey(path, 'the DPoP key', testCtx())).rejects.toMatchObject(
        usage(`the DPoP key in ${path} is an unsupported private key type (${kind})`, hint),
      )
    }
  })

  it('a symmetric key’s k is registered before it is refused', async () => {
    const ctx = testCtx()
    const path = await jwkFile({ kty: 'oct', k: 'c2hhcmVkLXNlY3JldC1rZXk' })
    await expect(readPrivateKey(path, 'the DPoP key', ctx)).rejects.toMatchObject({
      code: 'usage_error',
    })
    expect(ctx.secrets.redact('c2hhcmVkLXNlY3JldC1rZXk')).toBe('[redacted 23 chars]')
  })

  it('an RSA JWK without its CRT members', async () => {
    const { kty, n, e, d } = await exportJWK(rsa)
    const path = await jwkFile({ kty, n, e, d })
    await expect(readPrivateKey(path, 'the private key', testCtx())).rejects.toMatchObject(
      usage(`the private key in ${path} is not a valid private JWK: it has no "p"`),
    )
  })

  it('x and y that are not a point on the curve', async () => {
    const jwk = await exportJWK(p521)
    const path = await jwkFile({ ...jwk, x: jwk.y, y: jwk.x })
    await expect(readPrivateKey(path, 'the private key', testCtx())).rejects.toMatchObject(
      usage(
        `the private key in ${path} is not a valid private JWK: its x, y and d do not form a P-521 EC key pair`,
      ),
    )
  })

  it('public members of another key (RSA n, Ed25519 x)', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    const rsaPath = await jwkFile({ ...(await exportJWK(rsa)), n: (await exportJWK(other)).n })
    await expect(readPrivateKey(rsaPath, 'the private key', testCtx())).rejects.toMatchObject(
      usage(
        `the private key in ${rsaPath} is not a valid private JWK: its n, e, d, p, q, dp, dq and qi do not form an RSA key pair`,
      ),
    )
    const otherEd = await exportJWK(generateKeyPairSync('ed25519').privateKey)
    const edPath = await jwkFile({ ...(await exportJWK(ed25519)), x: otherEd.x })
    await expect(readPrivateKey(edPath, 'the DPoP key', testCtx())).rejects.toMatchObject(
      usage(
        `the DPoP key in ${edPath} is not a valid private JWK: its x and d do not form an Ed25519 key pair`,
      ),
    )
  })

  it('MD-5: an RSA JWK under 2048 bits', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
    const path = await jwkFile(await exportJWK(small))
    await expect(readPrivateKey(path, 'the private key', testCtx())).rejects.toMatchObject(
      usage(
        `the private key in ${path} is a 1024-bit RSA key; RSA keys need at least 2048 bits (RFC 7518 §3.3)`,
      ),
    )
  })

  it('key_ops without "sign" (RFC 7517 §4.3), or not an array', async () => {
    const jwk = await exportJWK(p256)
    for (const keyOps of [['verify'], 'sign']) {
      const path = await jwkFile({ ...jwk, key_ops: keyOps })
      await expect(readPrivateKey(path, 'the DPoP key', testCtx())).rejects.toMatchObject(
        usage(`the DPoP key in ${path} has "key_ops" without "sign"`),
      )
    }
  })

  it('an "alg" the key cannot sign with, or one that is not a string', async () => {
    const jwk = await exportJWK(p384)
    const wrong = await jwkFile({ ...jwk, alg: 'ES256' })
    await expect(readPrivateKey(wrong, 'the DPoP key', testCtx())).rejects.toMatchObject(
      usage(
        `the DPoP key in ${wrong} is a P-384 EC key and cannot sign with ES256 (it signs with ES384)`,
      ),
    )
    const hmac = await jwkFile({ ...(await exportJWK(rsa)), alg: 'HS256' })
    await expect(readPrivateKey(hmac, 'the private key', testCtx())).rejects.toMatchObject(
      usage(
        `the private key in ${hmac} is an RSA key and cannot sign with HS256 (it signs with RS256, RS384, RS512, PS256, PS384, PS512)`,
      ),
    )
    const number = await jwkFile({ ...jwk, alg: 384 })
    await expect(readPrivateKey(number, 'the DPoP key', testCtx())).rejects.toMatchObject(
      usage(`the DPoP key in ${number} has an "alg" that is not a string`),
    )
  })

  it('a requested alg other than the JWK’s own', async () => {
    const path = await jwkFile({ ...(await exportJWK(rsa)), alg: 'RS256' })
    await expect(readPrivateKey(path, 'the DPoP key', testCtx(), 'PS256')).rejects.toMatchObject(
      usage(`the DPoP key in ${path} is for RS256 (its "alg"), not PS256`),
    )
  })

  it('a requested alg the key signs with, when the JWK names none', async () => {
    const path = await jwkFile(await exportJWK(ed25519))
    expect((await readPrivateKey(path, 'the DPoP key', testCtx(), 'Ed25519')).alg).toBe('Ed25519')
  })
})

describe('readCaFile()', () => {
  const [first = '', second = ''] = rootCertificates

  it('TL-1: returns the PEM text of one or more certificates', async () => {
    const one = await file(first, 0o644)
    expect(await readCaFile(one)).toBe(first)
    const bundle = `# a bundle\n${first}\n${second}\n`
    expect(await readCaFile(await file(bundle, 0o644))).toBe(bundle)
  })

  it('a file with no certificate: empty, text, a private key', async () => {
    for (const content of ['', 'hello\n', pkcs8(p256)]) {
      const path = await file(content, 0o644)
      await expect(readCaFile(path)).rejects.toMatchObject(
        usage(`--ca-file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`),
      )
    }
  })

  it('a certificate that does not parse, even beside one that does', async () => {
    const broken = '-----BEGIN CERTIFICATE-----\nMIIBbroken\n-----END CERTIFICATE-----\n'
    const path = await file(`${first}\n${broken}`, 0o644)
    await expect(readCaFile(path)).rejects.toMatchObject(
      usage(`--ca-file ${path}: certificate 2 of 2 is not a valid X.509 certificate`),
    )
  })

  it('a truncated certificate', async () => {
    const path = await file(first.slice(0, first.length / 2), 0o644)
    await expect(readCaFile(path)).rejects.toMatchObject(
      usage(`--ca-file ${path}: certificate 1 of 1 is not a valid X.509 certificate`),
    )
  })

  it('a file that cannot be read', async () => {
    const path = join(dir, 'no-ca.pem')
    await expect(readCaFile(path)).rejects.toMatchObject(
      usage(`cannot read --ca-file ${path} (ENOENT)`),
    )
  })
})
