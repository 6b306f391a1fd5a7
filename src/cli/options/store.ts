import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import type { LogoutOptions, TokenOptions } from '../../commands/token.js'
import { NO_ASSERTIONS } from '../../commands/assertions.js'
import { CliError } from '../../errors.js'
import { addClientAuthOptions } from './client-auth.js'
import { addDpopOptions, toDpopOptions } from './dpop.js'
import type { RawDpopOptions } from './dpop.js'
import { addHttpOptions, toHttpSettings } from './http.js'
import type { RawHttpOptions } from './http.js'
import { addListenerOptions, toListenerOptions, toRedirectUri } from './listener.js'
import type { RawListenerOptions } from './listener.js'
import { addRequestOptions, toAuthorizationRequest } from './request.js'
import type { RawRequestOptions } from './request.js'
import { addTargetOptions, toClient, toIssuer } from './target.js'
import type { RawTargetOptions } from './target.js'
import { addValidationOptions, toClockToleranceSeconds } from './validation.js'
import type { RawValidationOptions } from './validation.js'
import { parseDuration } from '../../commands/assertions.js'
import { parser } from './assertions.js'
import { withDefault } from './values.js'

// The token store: `--save` on the commands that obtain tokens, and `pkce token`'s own flags.

const DEFAULT_MIN_VALID_SECONDS = 60

export interface RawSaveOptions {
  save?: boolean
}

export interface RawTokenCommandOptions {
  minValid?: number
  forceRefresh?: boolean
  list?: boolean
  login?: boolean
}

export function addSaveOption(command: Command): Command {
  return command.option(
    '--save',
    'keep the tokens in the token store (0600, ~/.cache/pkce/tokens) for pkce token',
  )
}

export function addTokenCommandOptions(command: Command): Command {
  return command
    .option(
      '--min-valid <duration>',
      withDefault('refresh unless the stored token is valid this long: 90s, 5m, 1h', '60s'),
      parser(parseDuration),
    )
    .option('--force-refresh', 'refresh even when the stored token is still valid')
    .option(
      '--login',
      'with nothing usable stored, sign in through the browser and save (as login --save)',
    )
    .option('--list', 'list the stored entries (never a token)')
}

export function toMinValidSeconds(raw: RawTokenCommandOptions): number {
  return raw.minValid ?? DEFAULT_MIN_VALID_SECONDS
}

export interface RawTokenOptions
  extends
    RawListenerOptions,
    RawTargetOptions,
    RawRequestOptions,
    RawDpopOptions,
    RawHttpOptions,
    RawValidationOptions,
    RawTokenCommandOptions {}

/** `pkce token`: login's target and request flags (they make the cache key) and the store's. */
export function addTokenOptions(command: Command): Command {
  return addListenerOptions(
    addTokenCommandOptions(
      addValidationOptions(
        addHttpOptions(
          addDpopOptions(addRequestOptions(addClientAuthOptions(addTargetOptions(command)))),
        ),
      ),
    ),
  )
}

export async function toTokenOptions(raw: RawTokenOptions, ctx: Ctx): Promise<TokenOptions> {
  const issuer = await toIssuer(raw)
  const request = await toAuthorizationRequest(raw, ctx)
  const client = await toClient(raw, ctx)
  const target = { issuer, client }
  const dpop = await toDpopOptions(raw, ctx)
  const http = await toHttpSettings(raw, false)
  const clockToleranceSeconds = toClockToleranceSeconds(raw)
  let login: TokenOptions['login']
  if (raw.login === true) {
    const redirectUri = await toRedirectUri(raw, ctx.env)
    login = {
      target,
      request,
      redirectUri,
      dpop,
      http,
      listener: await toListenerOptions(raw, redirectUri, ctx),
      clockToleranceSeconds,
      assertions: NO_ASSERTIONS,
      save: true,
    }
  }
  return {
    target,
    request,
    dpop,
    http,
    clockToleranceSeconds,
    minValidSeconds: toMinValidSeconds(raw),
    forceRefresh: raw.forceRefresh === true,
    login,
  }
}

export interface RawLogoutOptions
  extends RawTargetOptions, RawRequestOptions, RawDpopOptions, RawHttpOptions {
  all?: boolean
  /** `--no-revoke` makes it false. */
  revoke?: boolean
}

/** `pkce logout`: the flags that name an entry (as `token`), or `--all`. */
export function addLogoutOptions(command: Command): Command {
  return addHttpOptions(
    addDpopOptions(addRequestOptions(addClientAuthOptions(addTargetOptions(command)))),
  )
    .option('--all', 'every entry in the token store')
    .option('--no-revoke', 'delete without revoking the refresh tokens')
}

export async function toLogoutOptions(raw: RawLogoutOptions, ctx: Ctx): Promise<LogoutOptions> {
  const named = raw.domain !== undefined || raw.issuer !== undefined
  if (raw.all !== true && !named) {
    throw new CliError('usage_error', 'say which entry: the flags you logged in with, or --all')
  }
  return {
    target: named ? { issuer: await toIssuer(raw), client: await toClient(raw, ctx) } : undefined,
    request: named ? await toAuthorizationRequest(raw, ctx) : undefined,
    dpop: raw.dpop === true,
    all: raw.all === true,
    revoke: raw.revoke !== false,
    http: await toHttpSettings(raw, false),
  }
}
