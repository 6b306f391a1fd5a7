import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import type { AuthorizeCommandOptions } from '../../commands/authorize.js'
import type { AuthorizeOptions } from '../../commands/authorize-step.js'
import type { LoginOptions } from '../../commands/login.js'
import { addAssertionOptions, toAssertions } from './assertions.js'
import type { RawAssertionOptions } from './assertions.js'
import { addClientAuthOptions } from './client-auth.js'
import { addDpopOptions, toDpopOptions } from './dpop.js'
import type { RawDpopOptions } from './dpop.js'
import { addHttpOptions, toHttpSettings } from './http.js'
import type { RawHttpOptions } from './http.js'
import {
  addListenerOptions,
  addRedirectOptions,
  toListenerOptions,
  toRedirectUri,
} from './listener.js'
import { addStateFileOption } from './exchange.js'
import type { RawListenerOptions, RawRedirectOptions } from './listener.js'
import { addTokenOutputOptions } from './output.js'
import type { RawTokenOutputOptions } from './output.js'
import { addParOption, addRequestOptions, toAuthorizationRequest } from './request.js'
import { addSaveOption } from './store.js'
import type { RawSaveOptions } from './store.js'
import type { RawRequestOptions } from './request.js'
import { addTargetOptions, toClient, toIssuer } from './target.js'
import type { RawTargetOptions } from './target.js'
import { addValidationOptions, toClockToleranceSeconds } from './validation.js'
import type { RawValidationOptions } from './validation.js'

// The options of the commands that run the flow (`login`, `par`), composed from the concerns.

export interface RawAuthorizeOptions
  extends
    RawTargetOptions,
    RawRequestOptions,
    RawRedirectOptions,
    RawDpopOptions,
    RawHttpOptions,
    RawTokenOutputOptions {}

export interface RawLoginOptions
  extends
    RawAuthorizeOptions,
    RawListenerOptions,
    RawValidationOptions,
    RawAssertionOptions,
    RawSaveOptions {}

/** Every flag of a command that runs the flow. */
export function addFlowOptions(command: Command): Command {
  return addSaveOption(
    addTokenOutputOptions(
      addValidationOptions(
        addListenerOptions(
          addAssertionOptions(
            addHttpOptions(
              addDpopOptions(addRequestOptions(addClientAuthOptions(addTargetOptions(command)))),
            ),
          ),
        ),
      ),
    ),
  )
}

/** `pkce authorize`: the request's flags, and where its state goes; no listener, no browser. */
export function addAuthorizeCommandOptions(command: Command): Command {
  return addStateFileOption(
    addHttpOptions(
      addDpopOptions(
        addRedirectOptions(
          addParOption(addRequestOptions(addClientAuthOptions(addTargetOptions(command)))),
        ),
      ),
    ),
  )
}

export async function toAuthorizeCommandOptions(
  raw: RawAuthorizeOptions & { stateFile?: string },
  ctx: Ctx,
): Promise<AuthorizeCommandOptions> {
  return {
    ...(await toAuthorizeOptions(raw, ctx)),
    stateFile: raw.stateFile,
    clientAuthFile: raw.privateKeyFile ?? raw.clientSecretFile,
  }
}

/** Everything an authorization request needs, checked, before the first request. */
export async function toAuthorizeOptions(
  raw: RawAuthorizeOptions,
  ctx: Ctx,
): Promise<AuthorizeOptions> {
  const issuer = await toIssuer(raw)
  const request = await toAuthorizationRequest(raw, ctx)
  const client = await toClient(raw, ctx)
  return {
    target: { issuer, client },
    request,
    redirectUri: await toRedirectUri(raw, ctx.env),
    dpop: await toDpopOptions(raw, ctx),
    http: await toHttpSettings(raw, raw.showTokens === true),
  }
}

export async function toLoginOptions(raw: RawLoginOptions, ctx: Ctx): Promise<LoginOptions> {
  const authorize = await toAuthorizeOptions(raw, ctx)
  return {
    ...authorize,
    listener: await toListenerOptions(raw, authorize.redirectUri, ctx),
    clockToleranceSeconds: toClockToleranceSeconds(raw),
    assertions: toAssertions(raw),
    save: raw.save === true,
  }
}
