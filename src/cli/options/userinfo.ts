import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { UserinfoOptions } from '../../commands/userinfo.js'
import { addDpopOptions, toDpopOptions } from './dpop.js'
import type { RawDpopOptions } from './dpop.js'
import { addHttpOptions, toHttpSettings } from './http.js'
import type { RawHttpOptions } from './http.js'
import { addTargetOptions, toIssuer } from './target.js'
import type { RawTargetOptions } from './target.js'

// `pkce userinfo`: an access token at the UserInfo endpoint.

export interface RawUserinfoOptions extends RawTargetOptions, RawDpopOptions, RawHttpOptions {
  accessTokenFile?: string
  idTokenFile?: string
}

export function addUserinfoOptions(command: Command): Command {
  addTargetOptions(command)
    .option('--access-token-file <path|->', 'the access token, from a file or stdin (required)')
    .option('--id-token-file <path>', 'an ID token whose sub the UserInfo sub must equal (IT-13)')
  return addHttpOptions(addDpopOptions(command))
}

/** Tokens are secrets: from files or stdin only (docs/security.md SO-1). */
export async function toUserinfoOptions(
  raw: RawUserinfoOptions,
  ctx: Ctx,
): Promise<UserinfoOptions> {
  const issuer = await toIssuer(raw)
  if (raw.accessTokenFile === undefined) {
    throw new CliError('usage_error', '--access-token-file <path|-> is required', {
      hint: 'pkce login --print access_token > at.txt gives one',
    })
  }
  const { readSecret } = await import('../../commands/inputs.js')
  const accessToken = await readSecret(raw.accessTokenFile, 'the access token', ctx)
  let idTokenSub: string | undefined
  if (raw.idTokenFile !== undefined) {
    const { decodeToken } = await import('../../jwt/decode.js')
    const idToken = await readSecret(raw.idTokenFile, 'the ID token', ctx)
    let decoded
    try {
      decoded = decodeToken(idToken)
    } catch (error) {
      throw new CliError('usage_error', `the ID token in ${raw.idTokenFile} cannot be decoded`, {
        cause: error,
      })
    }
    const sub = decoded.payload?.sub
    if (typeof sub !== 'string') {
      throw new CliError('usage_error', `the ID token in ${raw.idTokenFile} has no sub`)
    }
    idTokenSub = sub
  }
  return {
    issuer,
    accessToken,
    dpop: await toDpopOptions(raw, ctx),
    idTokenSub,
    http: await toHttpSettings(raw, false),
  }
}
