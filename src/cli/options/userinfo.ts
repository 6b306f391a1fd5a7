import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { UserinfoOptions } from '../../commands/userinfo.js'
import { addDpopOptions, toDpopOptions } from './dpop.js'
import type { RawDpopOptions } from './dpop.js'
import { addHttpOptions, toHttpSettings } from './http.js'
import type { RawHttpOptions } from './http.js'
import { addRequestOptions, toAuthorizationRequest } from './request.js'
import type { RawRequestOptions } from './request.js'
import { addTargetOptions, toClient, toIssuer } from './target.js'
import type { RawTargetOptions } from './target.js'

// `pkce userinfo`: an access token at the UserInfo endpoint.

export interface RawUserinfoOptions
  extends RawTargetOptions, RawRequestOptions, RawDpopOptions, RawHttpOptions {
  accessTokenFile?: string
  idTokenFile?: string
}

export function addUserinfoOptions(command: Command): Command {
  addRequestOptions(addTargetOptions(command))
    .option(
      '--access-token-file <path|->',
      'the access token, from a file or stdin; else the token store entry the flags name',
    )
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
    // From the store: the access token, its DPoP key and the ID token's sub, as login --save kept them.
    const client = await toClient(raw, ctx)
    const request = await toAuthorizationRequest(raw, ctx)
    const { loadStoredEntry } = await import('../../commands/token-cache.js')
    const { entry } = await loadStoredEntry({ issuer, client }, request, raw.dpop === true, ctx)
    const sub = entry.id_token_claims?.sub
    return {
      issuer,
      accessToken: entry.access_token,
      dpop:
        entry.dpop === undefined
          ? undefined
          : { alg: entry.dpop.alg, key: entry.dpop.jwk, allowDowngrade: false },
      idTokenSub: typeof sub === 'string' ? sub : undefined,
      http: await toHttpSettings(raw, false),
    }
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
