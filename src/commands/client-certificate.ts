import { createHash, createPrivateKey, X509Certificate } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { CliError } from '../errors.js'
import { readTextFile } from './inputs.js'

/** The client certificate a run presents on its TLS connections (RFC 8705 §2). */
export interface ClientCertificate {
  /** `--client-cert`'s PEM text: the certificate, then any intermediates. */
  cert: string
  /** `--client-key`'s PEM text (a secret: never printed). */
  key: string
  passphrase: string | undefined
  /** base64url SHA-256 of the DER certificate: what `cnf["x5t#S256"]` must equal (RFC 8705 §3.1). */
  x5tS256: string
  subject: string
}

export interface ClientCertificatePaths {
  cert: string
  key: string
  passphraseFile: string | undefined
}

/**
 * Reads `--client-cert`, `--client-key` and `--client-key-passphrase-file` before any request,
 * and checks that the key is the certificate's: a mismatch found at the handshake would look like
 * the server refusing the certificate (security.md D-6: local input is exit 2).
 */
export async function readClientCertificate(
  paths: ClientCertificatePaths,
): Promise<ClientCertificate> {
  const cert = await readTextFile(paths.cert, '--client-cert')
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(cert)
  } catch {
    throw new CliError('usage_error', `--client-cert ${paths.cert} holds no PEM certificate`, {
      hint: 'pass the client certificate as PEM (-----BEGIN CERTIFICATE-----)',
    })
  }
  let key: string
  try {
    key = await readFile(paths.key, 'utf8')
  } catch (error) {
    throw new CliError(
      'usage_error',
      `cannot read --client-key ${paths.key} (${(error as { code?: string }).code ?? String(error)})`,
    )
  }
  const passphrase =
    paths.passphraseFile === undefined
      ? undefined
      : (await readTextFile(paths.passphraseFile, '--client-key-passphrase-file')).replace(
          /\r?\n$/u,
          '',
        )
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key, format: 'pem', passphrase: passphrase ?? '' })
  } catch (error) {
    const code = (error as { code?: string }).code
    const encrypted = /ENCRYPTED/u.test(key)
    throw new CliError(
      'usage_error',
      encrypted
        ? `cannot decrypt --client-key ${paths.key}${passphrase === undefined ? ': it is encrypted' : ': wrong passphrase'}`
        : `--client-key ${paths.key} holds no PEM private key (${code ?? 'unreadable'})`,
      {
        hint: encrypted
          ? 'pass --client-key-passphrase-file <path> with the key’s passphrase'
          : 'pass the private key of --client-cert as PEM',
      },
    )
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new CliError(
      'usage_error',
      `--client-key ${paths.key} is not the key of the certificate in --client-cert ${paths.cert} (${certificate.subject.replace(/\n/gu, ', ')})`,
      { hint: 'pass the private key the certificate was issued for' },
    )
  }
  return {
    cert,
    key,
    passphrase,
    x5tS256: createHash('sha256').update(certificate.raw).digest('base64url'),
    subject: certificate.subject.replace(/\n/gu, ', '),
  }
}
