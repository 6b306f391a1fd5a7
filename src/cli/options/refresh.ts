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
import { audienceOption, scopeOption } from './request.js'
import { addTargetOptions, toClient, toIssuer } from './target.js'
import type { RawTargetOptions } from './target.js'
import { addValidationOptions, toClockToleranceSeconds } from './validation.js'
import type { RawValidationOptions } from './validation.js'

// `pkce refresh`: the refresh token grant, with login's client authentication and DPoP flags.

export interface RawRefreshOptions
  extends
    RawTargetOptions,
    RawDpopOptions,
    RawHttpOptions,
    RawValidationOptions,
    RawAssertionOptions,
    RawTokenOutputOptions {
  refreshTokenFile?: string
  scope?: string
  audience?: string
}

export function addRefreshOptions(command: Command): Command {
  addClientAuthOptions(addTargetOptions(command))
    .option('--refresh-token-file <path|->', 'the refresh token, from a file or stdin (required)')
    .addOption(scopeOption('the original grant’s'))
    .addOption(audienceOption())
  return addTokenOutputOptions(
    addValidationOptions(addAssertionOptions(addHttpOptions(addDpopOptions(command)))),
  )
}

/** The refresh token is a secret: from a file or stdin only (docs/security.md SO-1). */
export async function toRefreshOptions(raw: RawRefreshOptions, ctx: Ctx): Promise<RefreshOptions> {
  const issuer = await toIssuer(raw)
  if (raw.refreshTokenFile === undefined) {
    throw new CliError('usage_error', '--refresh-token-file <path|-> is required', {
      hint: 'pkce login --print refresh_token > rt.txt (with offline_access in --scope) gives one',
    })
  }
  const client = await toClient(raw, ctx)
  const { readSecret } = await import('../../commands/inputs.js')
  return {
    target: { issuer, client },
    refreshToken: await readSecret(raw.refreshTokenFile, 'the refresh token', ctx),
    scope: raw.scope,
    audience: raw.audience,
    dpop: await toDpopOptions(raw, ctx),
    http: await toHttpSettings(raw, raw.showTokens === true),
    clockToleranceSeconds: toClockToleranceSeconds(raw),
    assertions: toAssertions(raw),
  }
}
