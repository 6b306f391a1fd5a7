import { Option } from 'commander'
import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { RevokeOptions } from '../../commands/revoke.js'
import { addClientAuthOptions } from './client-auth.js'
import { addHttpOptions, toHttpSettings } from './http.js'
import type { RawHttpOptions } from './http.js'
import { addTargetOptions, toClient, toIssuer } from './target.js'
import type { RawTargetOptions } from './target.js'
import { withDefault } from './values.js'

// `pkce revoke`: RFC 7009 at the revocation endpoint, with login's client authentication.

const HINTS = ['refresh_token', 'access_token'] as const

export interface RawRevokeOptions extends RawTargetOptions, RawHttpOptions {
  tokenFile?: string
  refreshTokenFile?: string
  tokenTypeHint?: (typeof HINTS)[number]
}

export function addRevokeOptions(command: Command): Command {
  addClientAuthOptions(addTargetOptions(command))
    .addOption(
      new Option('--token-file <path|->', 'the token to revoke, from a file or stdin').conflicts(
        'refreshTokenFile',
      ),
    )
    .option('--refresh-token-file <path|->', 'a refresh token to revoke (sets the hint)')
    .addOption(
      new Option(
        '--token-type-hint <type>',
        withDefault('what the token is (RFC 7009 §2.1)', 'refresh_token'),
      ).choices(HINTS),
    )
  return addHttpOptions(command)
}

export async function toRevokeOptions(raw: RawRevokeOptions, ctx: Ctx): Promise<RevokeOptions> {
  const issuer = await toIssuer(raw)
  const path = raw.tokenFile ?? raw.refreshTokenFile
  if (path === undefined) {
    throw new CliError('usage_error', 'say what to revoke: --token-file or --refresh-token-file')
  }
  const client = await toClient(raw, ctx)
  const { readSecret } = await import('../../commands/inputs.js')
  return {
    target: { issuer, client },
    token: await readSecret(path, 'the token', ctx),
    tokenTypeHint:
      raw.refreshTokenFile === undefined ? (raw.tokenTypeHint ?? 'refresh_token') : 'refresh_token',
    http: await toHttpSettings(raw, false),
  }
}
