import { readFile, stat } from 'node:fs/promises'
import { createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import {
  joseCurve,
  jwkAlgorithms,
  keyObjectAlgorithms,
  MIN_RSA_BITS,
  PRIVATE_MEMBERS,
  publicPart,
} from '../jwt/algorithms.js'

// Local input, read before the first request: a file that cannot be read or used is a usage error
// (exit 2) naming the flag or the file, never an internal error or a failure later (issue 11).

/** Reads a non-secret text file a flag names (a CA, a public key), failing as a usage error. */
export async function readTextFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new CliError(
      'usage_error',
      `cannot read ${flag} ${path} (${(error as { code?: string }).code ?? String(error)})`,
    )
  }
}

const CERTIFICATE_BEGIN = '-----BEGIN CERTIFICATE-----'

/**
 * Reads `--ca-file`: PEM text holding at least one certificate, each of which parses. TLS skips
 * what it cannot parse without a word, so a wrong file would surface only as a certificate error
 * at the first request (security.md TL-1).
 */
export async function readCaFile(path: string): Promise<string> {
  const text = await readTextFile(path, '--ca-file')
  const blocks = text.split(CERTIFICATE_BEGIN).slice(1)
  if (blocks.length === 0) {
    throw new CliError(
      'usage_error',
      `--ca-file ${path} holds no PEM certificate (${CERTIFICATE_BEGIN})`,
    )
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(`${CERTIFICATE_BEGIN}${block}`)
    } catch {
      throw new CliError(
        'usage_error',
        `--ca-file ${path}: certificate ${index + 1} of ${blocks.length} is not a valid X.509 certificate`,
      )
    }
  })
  return text
}

/**
 * Reads a secret from a file or from stdin (`-`), the only places secrets come from (security.md
 * SO-1). One trailing newline is dropped; a file others can read gets a warning.
 */
export async function readSecret(path: string, what: string, ctx: Ctx): Promise<string> {
  let text: string
  if (path === '-') {
    if (ctx.io.stdinIsTTY) {
      throw new CliError('secret_missing', `${what}: stdin is a terminal`, {
        hint: 'pipe the secret in, e.g. --client-secret-file - < secret.txt, or pass a file path',
      })
    }
    text = await ctx.io.readStdin()
  } else {
    try {
      text = await readFile(path, 'utf8')
      const mode = (await stat(path)).mode
      if ((mode & 0o077) !== 0) {
        ctx.reporter.warn(
          'secret_file_readable',
          `${path} can be read by other users (chmod 600 ${path})`,
        )
      }
    } catch (error) {
      throw new CliError(
        'secret_missing',
        `cannot read ${what} from ${path} (${(error as { code?: string }).code ?? String(error)})`,
      )
    }
  }
  const secret = text.replace(/\r?\n$/u, '')
  if (secret === '')
    throw new CliError('secret_missing', `${what} in ${path === '-' ? 'stdin' : path} is empty`)
  ctx.secrets.add(secret)
  return secret
}

/** A private key as JWK plus the JWS `alg` it signs with. */
export interface PrivateKey {
  key: JWK
  alg: string
}

// What node:crypto needs to import a private JWK of each type (RFC 7518 §6.2.2, §6.3.2; RFC 8037
// §2). RFC 7518 makes RSA's CRT members optional, but Node refuses a key without them.
const JWK_MEMBERS: ReadonlyMap<unknown, readonly string[]> = new Map([
  ['EC', ['x', 'y', 'd']],
  ['OKP', ['x', 'd']],
  ['RSA', ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi']],
])

const SUPPORTED_KEYS_HINT = 'use an RSA, EC (P-256/384/521) or Ed25519 key'

function unsupportedKey(where: string, kind: unknown[]): CliError {
  const shown = kind.filter((part) => part !== undefined).map(String)
  return new CliError(
    'usage_error',
    `${where} is an unsupported private key type (${shown.length === 0 ? 'no "kty"' : shown.join(' ')})`,
    { hint: SUPPORTED_KEYS_HINT },
  )
}

/** "P-384 EC", "RSA", "Ed25519": a key's kind, for messages. */
function keyKind(kty: string, crv: unknown): string {
  if (kty === 'EC') return `${String(crv)} EC`
  return kty === 'OKP' ? String(crv) : kty
}

/** "a P-384 EC key", "an RSA key pair". */
function aKey(kind: string, noun: string): string {
  return `${kind.startsWith('P-') ? 'a' : 'an'} ${kind} ${noun}`
}

/** Registers every private member with the redactor before anything can print the key (SO-2). */
function registerPrivateMembers(jwk: JWK, ctx: Ctx): void {
  for (const member of PRIVATE_MEMBERS) {
    const value = jwk[member]
    if (typeof value === 'string') ctx.secrets.add(value)
  }
}

// RFC 7518 §3.3 (security.md MD-5): jose refuses to sign with a shorter key, at the first request.
function checkRsaSize(privateKey: KeyObject, where: string): void {
  const bits = privateKey.asymmetricKeyDetails?.modulusLength
  if (bits !== undefined && bits < MIN_RSA_BITS) {
    throw new CliError(
      'usage_error',
      `${where} is a ${bits}-bit RSA key; RSA keys need at least ${MIN_RSA_BITS} bits (RFC 7518 §3.3)`,
    )
  }
}

/**
 * The `alg` to sign with: the one asked for (`--dpop-alg`), else the JWK's own, else the key's
 * default; each must be one the key signs with, or jose fails at the first request.
 */
function chooseAlgorithm(
  algorithms: readonly string[],
  choice: { own: unknown; requested: string | undefined },
  where: string,
  kind: string,
): string {
  const { own, requested } = choice
  if (own !== undefined && typeof own !== 'string')
    throw new CliError('usage_error', `${where} has an "alg" that is not a string`)
  for (const alg of [own, requested]) {
    if (alg !== undefined && !algorithms.includes(alg)) {
      throw new CliError(
        'usage_error',
        `${where} is ${aKey(kind, 'key')} and cannot sign with ${alg} (it signs with ${algorithms.join(', ')})`,
      )
    }
  }
  if (own !== undefined && requested !== undefined && own !== requested)
    throw new CliError('usage_error', `${where} is for ${own} (its "alg"), not ${requested}`)
  return requested ?? own ?? (algorithms[0] as string)
}

const PROBE = Buffer.from('pkce private key check')

/**
 * Node imports a JWK's public members as given, without deriving them from `d`: sign and verify
 * once, so a JWK whose x/y (or n/e) belong to another key fails here, not at the server.
 */
function formsKeyPair(jwk: JWK, privateKey: KeyObject): boolean {
  try {
    const publicKey = createPublicKey({ key: publicPart(jwk), format: 'jwk' })
    const digest = jwk.kty === 'OKP' ? null : 'sha256'
    return verify(digest, PROBE, publicKey, sign(digest, PROBE, privateKey))
  } catch {
    return false
  }
}

function listed(names: readonly string[]): string {
  return names.length === 1
    ? (names[0] as string)
    : `${names.slice(0, -1).join(', ')} and ${names.at(-1) as string}`
}

function privateKeyFromJwk(
  text: string,
  where: string,
  ctx: Ctx,
  requested: string | undefined,
): PrivateKey {
  let jwk: JWK
  try {
    jwk = JSON.parse(text) as JWK
  } catch {
    throw new CliError('usage_error', `${where} is neither PEM nor JSON`)
  }
  registerPrivateMembers(jwk, ctx)
  const algorithms = jwkAlgorithms(jwk)
  const members = JWK_MEMBERS.get(jwk.kty)
  if (algorithms.length === 0 || members === undefined || jwk.kty === undefined)
    throw unsupportedKey(where, [jwk.kty, jwk.crv])
  if (typeof jwk.d !== 'string')
    throw new CliError('usage_error', `${where} is a public JWK; a private key is needed`)
  const missing = members.find((name) => typeof (jwk as Record<string, unknown>)[name] !== 'string')
  if (missing !== undefined) {
    throw new CliError('usage_error', `${where} is not a valid private JWK: it has no "${missing}"`)
  }
  let privateKey: KeyObject | undefined
  try {
    privateKey = createPrivateKey({ key: jwk, format: 'jwk' })
  } catch {
    privateKey = undefined
  }
  const kind = keyKind(jwk.kty, jwk.crv)
  if (privateKey === undefined || !formsKeyPair(jwk, privateKey)) {
    throw new CliError(
      'usage_error',
      `${where} is not a valid private JWK: its ${listed(members)} do not form ${aKey(kind, 'key pair')}`,
    )
  }
  checkRsaSize(privateKey, where)
  // RFC 7517 §4.3: a key whose key_ops leave out "sign" must not sign; WebCrypto refuses it.
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('sign'))) {
    throw new CliError('usage_error', `${where} has "key_ops" without "sign"`)
  }
  const alg = chooseAlgorithm(algorithms, { own: jwk.alg, requested }, where, kind)
  return { key: jwk, alg }
}

async function privateKeyFromPem(
  text: string,
  where: string,
  ctx: Ctx,
  requested: string | undefined,
): Promise<PrivateKey> {
  // Reading an encrypted key would need a passphrase prompt; say so instead of "not a key".
  if (/^(?:-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED)/mu.test(text)) {
    throw new CliError('usage_error', `${where} is encrypted; pkce reads unencrypted keys only`, {
      hint: 'write a decrypted copy (mode 600), e.g. openssl pkey -in key.pem -out plain.pem',
    })
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(text)
  } catch {
    throw new CliError('usage_error', `${where} is not a PEM private key or a JWK`)
  }
  const type = privateKey.asymmetricKeyType
  const curve = privateKey.asymmetricKeyDetails?.namedCurve
  const algorithms = keyObjectAlgorithms(type, curve)
  if (algorithms.length === 0) throw unsupportedKey(where, [type, curve])
  checkRsaSize(privateKey, where)
  // What keyObjectAlgorithms() accepts: rsa, ec on a JOSE curve, ed25519.
  const kind =
    type === 'ec' ? keyKind('EC', joseCurve(curve)) : type === 'ed25519' ? 'Ed25519' : 'RSA'
  const alg = chooseAlgorithm(algorithms, { own: undefined, requested }, where, kind)
  const { exportJWK, importPKCS8 } = await import('jose')
  const pkcs8 = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const key = await exportJWK(await importPKCS8(pkcs8, alg, { extractable: true }))
  registerPrivateMembers(key, ctx)
  return { key, alg }
}

/**
 * Loads a private key from a PEM (PKCS#8, PKCS#1 or SEC1) or JWK file as a JWK plus the JWS `alg`
 * it signs with: `requested` (`--dpop-alg`) if given, else the JWK's own `alg`, else the default
 * for its type and curve. Every private member is registered with the redactor (SO-2).
 */
export async function readPrivateKey(
  path: string,
  what: string,
  ctx: Ctx,
  requested?: string,
): Promise<PrivateKey> {
  const text = await readSecret(path, what, ctx)
  const where = `${what} in ${path === '-' ? 'stdin' : path}`
  return text.trimStart().startsWith('{')
    ? privateKeyFromJwk(text, where, ctx, requested)
    : privateKeyFromPem(text, where, ctx, requested)
}
