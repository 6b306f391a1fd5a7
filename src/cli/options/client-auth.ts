import { Option } from 'commander'
import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { ClientAuth } from '../../oauth/client-auth.js'
import { withDefault } from './values.js'

// How a confidential client authenticates at the token and PAR endpoints (RFC 6749 §2.3).

const SECRET_METHODS = ['client_secret_post', 'client_secret_basic', 'client_secret_jwt'] as const
// RFC 8705 §2.1, §2.2: the TLS client certificate authenticates; the body carries only client_id.
const TLS_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'] as const
const METHODS = [...SECRET_METHODS, ...TLS_METHODS] as const
const DEFAULT_SECRET_METHOD = 'client_secret_post'

export interface RawClientAuthOptions {
  clientSecretFile?: string
  clientAuth?: (typeof METHODS)[number]
  privateKeyFile?: string
  /** `--client-cert`, an HTTP option: the TLS methods need it. */
  clientCert?: string
  /** Hidden: present only to refuse a secret on argv with a useful message (SO-1). */
  clientSecret?: string
}

export function addClientAuthOptions(command: Command): Command {
  return command
    .option('--client-secret-file <path|->', 'read the client secret from a file, or stdin with -')
    .addOption(
      new Option(
        '--client-auth <method>',
        withDefault(
          'how to send the secret (client_secret_jwt: an HS256 assertion), or a TLS method with --client-cert',
          DEFAULT_SECRET_METHOD,
        ),
      ).choices(METHODS),
    )
    .addOption(
      new Option(
        '--private-key-file <pem|jwk>',
        'private key for private_key_jwt client authentication',
      ).conflicts('clientSecretFile'),
    )
    .addOption(new Option('--client-secret <secret>').hideHelp())
}

/** The client authentication; secrets and keys only from files or stdin (docs/security.md SO-1). */
export async function toClientAuth(raw: RawClientAuthOptions, ctx: Ctx): Promise<ClientAuth> {
  if (raw.clientSecret !== undefined) {
    throw new CliError(
      'secret_on_argv',
      'secrets are not accepted as flag values: other users see them in ps and shell history',
      {
        hint: 'use --client-secret-file <path>, or --client-secret-file - to read it from stdin',
      },
    )
  }
  const method = raw.clientAuth
  if (method === 'tls_client_auth' || method === 'self_signed_tls_client_auth') {
    if (raw.clientSecretFile !== undefined || raw.privateKeyFile !== undefined) {
      throw new CliError(
        'usage_error',
        `--client-auth ${method} sends no secret or assertion: the TLS client certificate authenticates`,
        { hint: 'drop --client-secret-file / --private-key-file' },
      )
    }
    if (raw.clientCert === undefined) {
      throw new CliError('usage_error', `--client-auth ${method} needs a client certificate`, {
        hint: 'pass --client-cert <pem> and --client-key <pem>',
      })
    }
    return { method }
  }
  const { readPrivateKey, readSecret } = await import('../../commands/inputs.js')
  if (raw.privateKeyFile !== undefined) {
    const { key, alg } = await readPrivateKey(raw.privateKeyFile, 'the private key', ctx)
    return { method: 'private_key_jwt', key, alg }
  }
  if (raw.clientSecretFile !== undefined) {
    const secret = await readSecret(raw.clientSecretFile, 'the client secret', ctx)
    return { method: method ?? DEFAULT_SECRET_METHOD, secret }
  }
  return { method: 'none' }
}
