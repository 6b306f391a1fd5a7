import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import type { IO } from '../io/io.js'
import {
  authorizationRequest,
  relayCommand,
  requireListenerForMode,
  shellWord,
} from './authorize-step.js'
import type { AuthorizeOptions } from './authorize-step.js'
import { discoverServer, Flow, setupDpop, usesPar } from './flow.js'
import type { Warning } from './flow.js'
import { writeStateFile } from './state-file.js'
import { storeKeyFor } from './token-cache.js'
import type { FlowState } from './state-file.js'

export interface AuthorizeCommandOptions extends AuthorizeOptions {
  /** `--state-file`; a fresh private file when not given. */
  stateFile: string | undefined
  /** The secret or key file the client authenticates with, kept by path for `exchange`. */
  clientAuthFile: string | undefined
}

export interface AuthorizeResult {
  authorization_url: string
  state_file: string
  redirect_uri: string
  /** When the request was pushed: when its `request_uri` stops working. */
  expires_at?: string
  warnings: Warning[]
}

/**
 * `pkce authorize`: the first leg of the flow. Everything `login` does up to the browser —
 * discovery, PKCE, state, nonce, PAR, the DPoP key — then a state file for `pkce exchange`, and no
 * listener: the browser may be on another machine (`pkce relay`).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 */
export async function runAuthorize(
  opts: AuthorizeCommandOptions,
  ctx: Ctx,
): Promise<AuthorizeResult> {
  if (opts.redirectUri.port === '0') {
    throw new CliError('usage_error', 'authorize needs a fixed port in the redirect URI, not 0', {
      hint: 'the callback comes back later, to a listener started by pkce relay: pass --port <n>',
    })
  }
  requireListenerForMode(opts.request.responseMode, 'pkce authorize (then relay and exchange)')
  const flow = new Flow(opts.http, ctx)
  const { target, request } = opts
  try {
    const as = await discoverServer(target.issuer, flow, ctx)
    const pushing = usesPar(request.par, as, ctx)
    await setupDpop(opts.dpop, as, flow, ctx, true)
    const redirectUri = opts.redirectUri.href
    const authorization = await authorizationRequest(opts, as, redirectUri, pushing, flow, ctx)
    const dpop = flow.dpop
    const { exportJWK } = await import('jose')
    const state: FlowState = {
      version: 1,
      issuer: target.issuer,
      client_id: target.client.client_id,
      client_auth: {
        method: target.client.auth.method,
        ...(opts.clientAuthFile === undefined ? {} : { file: opts.clientAuthFile }),
      },
      redirect_uri: redirectUri,
      code_verifier: authorization.request.codeVerifier,
      code_challenge: authorization.request.codeChallenge,
      state: authorization.request.state,
      nonce: authorization.request.nonce ?? null,
      scope: request.scope,
      audience: request.audience ?? null,
      max_age: request.maxAgeSeconds ?? null,
      parameters: [...authorization.request.params],
      authorization_url: authorization.url.href,
      par: authorization.par,
      dpop:
        dpop === undefined
          ? null
          : {
              alg: dpop.key.alg,
              jwk: opts.dpop?.key ?? {
                ...(await exportJWK(dpop.key.privateKey)),
                alg: dpop.key.alg,
              },
            },
      store_key: storeKeyFor(target, request, dpop !== undefined),
      created_at: ctx.now().toISOString(),
    }
    ctx.secrets.add(state.dpop?.jwk.d)
    const stateFile = await writeStateFile(opts.stateFile, state, ctx)
    ctx.reporter.notice('Open this URL to sign in:', authorization.url.href)
    ctx.reporter.notice(
      'Or, on a machine with a browser, run:',
      relayCommand(authorization, redirectUri),
    )
    ctx.reporter.notice(
      'Then finish here, pasting the callback URL:',
      `pkce exchange --state-file ${shellWord(stateFile)} --callback-url -`,
    )
    return {
      authorization_url: authorization.url.href,
      state_file: stateFile,
      redirect_uri: redirectUri,
      ...(authorization.par === null ? {} : { expires_at: authorization.par.expires_at }),
      warnings: flow.warnings,
    }
  } catch (error) {
    flow.annotate(error)
    throw error
  }
}

export function renderAuthorize(result: AuthorizeResult, io: IO): void {
  io.out(`${result.state_file}\n`)
}
