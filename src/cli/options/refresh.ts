import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { RefreshOptions } from '../../commands/refresh.js'
import { addAssertionOptions, toAssertions } from './assertions.js'
import type { RawAssertionOptions } from './assertions.js'
import { addClientAuthOptions } from './client-auth.js'
import { addDpopOptions, toDpopOptions } from './dpop.js'
import type { RawDpopOptions } from './dpop.js'
import { addHttpOptions, toHttpSettings } from './http.js'
import type { RawHttpOptions } from './http.js'
import { addTokenOutputOptions } from './output.js'
import type { RawTokenOutputOptions } from './output.js'
import { addRequestOptions, toAuthorizationRequest } from './request.js'
import type { RawRequestOptions } from './request.js'
import { addTargetOptions, toClient, toIssuer } from './target.js'
import type { RawTargetOptions } from './target.js'
import { addValidationOptions, toClockToleranceSeconds } from './validation.js'
import type { RawValidationOptions } from './validation.js'

// `pkce refresh`: the refresh token grant, with login's client authentication and DPoP flags.

export interface RawRefreshOptions
  extends
    RawTargetOptions,
    RawRequestOptions,
    RawDpopOptions,
    RawHttpOptions,
    RawValidationOptions,
    RawAssertionOptions,
    RawTokenOutputOptions {
  refreshTokenFile?: string
}

export function addRefreshOptions(command: Command): Command {
  addRequestOptions(addClientAuthOptions(addTargetOptions(command))).option(
    '--refresh-token-file <path|->',
    'the refresh token, from a file or stdin; else the token store entry the flags name',
  )
  return addTokenOutputOptions(
    addValidationOptions(addAssertionOptions(addHttpOptions(addDpopOptions(command)))),
  )
}

/** The refresh token is a secret: from a file or stdin only (docs/security.md SO-1). */
export async function toRefreshOptions(raw: RawRefreshOptions, ctx: Ctx): Promise<RefreshOptions> {
  const issuer = await toIssuer(raw)
  const client = await toClient(raw, ctx)
  const target = { issuer, client }
  const common = {
    target,
    audience: raw.audience,
    http: await toHttpSettings(raw, raw.showTokens === true),
    clockToleranceSeconds: toClockToleranceSeconds(raw),
    assertions: toAssertions(raw),
  }
  if (raw.refreshTokenFile === undefined) {
    // From the store: the entry login --save wrote for the same flags, its DPoP key included.
    const request = await toAuthorizationRequest(raw, ctx)
    const { loadStoredEntry } = await import('../../commands/token-cache.js')
    const { key, entry } = await loadStoredEntry(target, request, raw.dpop === true, ctx)
    if (entry.refresh_token === undefined) {
      throw new CliError('token_unavailable', 'the stored entry has no refresh token', {
        hint: 'log in again with offline_access in --scope and --save',
      })
    }
    return {
      ...common,
      refreshToken: entry.refresh_token,
      scope: undefined,
      dpop:
        entry.dpop === undefined
          ? undefined
          : {
              alg: entry.dpop.alg,
              key: entry.dpop.jwk,
              allowDowngrade: raw.allowDpopDowngrade === true,
            },
      storeKey: key,
    }
  }
  const { readSecret } = await import('../../commands/inputs.js')
  return {
    ...common,
    refreshToken: await readSecret(raw.refreshTokenFile, 'the refresh token', ctx),
    // RFC 6749 §6: a scope is sent only when asked for, and may only narrow the grant.
    scope: raw.scope,
    dpop: await toDpopOptions(raw, ctx),
    storeKey: undefined,
  }
}
