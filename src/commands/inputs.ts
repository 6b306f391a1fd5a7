import { readFile, stat } from 'node:fs/promises'
import { createPrivateKey } from 'node:crypto'
import type { JWK } from 'jose'
import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'

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

function algorithmFor(keyType: string | undefined, curve: string | undefined): string {
  switch (keyType) {
    case 'rsa':
      return 'RS256'
    case 'rsa-pss':
      return 'PS256'
    case 'ed25519':
      return 'EdDSA'
    case 'ec':
      return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[curve ?? ''] ?? 'ES256'
    default:
      throw new CliError('usage_error', `unsupported private key type ${String(keyType)}`, {
        hint: 'use an RSA, EC (P-256/384/521) or Ed25519 key',
      })
  }
}

/**
 * Loads a private key from a PEM (PKCS#8) or JWK file as a JWK plus the JWS `alg` it signs with
 * (the JWK's own `alg` when it has one).
 */
export async function readPrivateKey(
  path: string,
  what: string,
  ctx: Ctx,
): Promise<{ key: JWK; alg: string }> {
  const text = await readSecret(path, what, ctx)
  const { exportJWK, importPKCS8 } = await import('jose')
  if (text.trimStart().startsWith('{')) {
    let jwk: JWK
    try {
      jwk = JSON.parse(text) as JWK
    } catch {
      throw new CliError('usage_error', `${what} in ${path} is neither PEM nor JSON`)
    }
    if (typeof jwk.d !== 'string')
      throw new CliError(
        'usage_error',
        `${what} in ${path} is a public JWK; a private key is needed`,
      )
    const pem = createPrivateKey({ key: jwk as never, format: 'jwk' })
    return {
      key: jwk,
      alg: jwk.alg ?? algorithmFor(pem.asymmetricKeyType, pem.asymmetricKeyDetails?.namedCurve),
    }
  }
  let inspected
  try {
    inspected = createPrivateKey(text)
  } catch {
    throw new CliError('usage_error', `${what} in ${path} is not a PEM private key or a JWK`)
  }
  const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[
    inspected.asymmetricKeyDetails?.namedCurve ?? ''
  ]
  const alg = algorithmFor(inspected.asymmetricKeyType, curve)
  const pkcs8 = inspected.export({ format: 'pem', type: 'pkcs8' }).toString()
  const key = await exportJWK(await importPKCS8(pkcs8, alg, { extractable: true }))
  ctx.secrets.add(key.d)
  return { key, alg }
}
