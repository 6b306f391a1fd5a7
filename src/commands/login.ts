import type { JWK } from 'jose'
import type { Ctx } from '../context.js'
import type { Check } from '../jwt/verify.js'
import type { Loopback } from '../net/loopback.js'
import type { Assertions } from './assertions.js'
import {
  authorizationRequest,
  failurePage,
  pastedCode,
  presentAuthorizationUrl,
  receiveResponse,
  relayCommand,
  requireListenerForMode,
  startListener,
} from './authorize-step.js'
import type {
  AuthorizationResponseReport,
  AuthorizeOptions,
  ListenerOptions,
} from './authorize-step.js'
import { exchangeCode } from './exchange-step.js'
import type { AccessTokenReport, DecodedJwt, TokenSet } from './exchange-step.js'
import { discoverServer, Flow, setupDpop, usesPar } from './flow.js'
import type { DpopReport, ParReport, Warning } from './flow.js'
import { assertOnTokens } from './token-assertions.js'

export interface LoginOptions extends AuthorizeOptions {
  listener: ListenerOptions
  clockToleranceSeconds: number
  assertions: Assertions
  /** `--save`: keep the tokens (and a DPoP key) in the token store for `pkce token`. */
  save: boolean
}

export interface LoginResult {
  issuer: string
  client_id: string
  redirect_uri: string
  authorization_url: string
  pkce: { code_verifier: string; code_challenge: string; code_challenge_method: 'S256' }
  state: string
  nonce: string | null
  par: ParReport | null
  dpop: DpopReport | null
  tokens: TokenSet
  id_token: DecodedJwt | null
  access_token: AccessTokenReport
  checks: Check[]
  warnings: Warning[]
  timings_ms: Record<string, number>
  /** Only with a JARM --response-mode: the verified response JWT, decoded (additive member). */
  authorization_response?: AuthorizationResponseReport
}

/**
 * The whole Authorization Code + PKCE flow: discovery, the authorize step (request, direct or
 * pushed, browser, loopback callback), the exchange step (code exchange and validation of
 * everything that came back), then the CI assertions. Progress goes to the reporter; the result
 * is data for `renderLogin` and `--json`.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1
 * @see https://www.rfc-editor.org/rfc/rfc7636
 */
export async function runLogin(opts: LoginOptions, ctx: Ctx): Promise<LoginResult> {
  const started = ctx.now()
  const { target, request } = opts
  if (opts.listener.receipt !== 'listener') {
    requireListenerForMode(request.responseMode, `--${opts.listener.receipt}`)
  }
  const flow = new Flow(opts.http, ctx)
  let loopback: Loopback | undefined
  try {
    const as = await discoverServer(target.issuer, flow, ctx)
    const pushing = usesPar(request.par, as, ctx)
    // A saved DPoP-bound token needs its key later: only then is the key made extractable.
    await setupDpop(opts.dpop, as, flow, ctx, opts.save)
    const { receipt } = opts.listener
    if (receipt === 'listener') {
      loopback = await startListener(opts.redirectUri, ctx, request.responseMode)
      remoteSessionHint(loopback.redirectUri, ctx)
    }
    const redirectUri = loopback?.redirectUri.href ?? opts.redirectUri.href
    const authorization = await authorizationRequest(opts, as, redirectUri, pushing, flow, ctx)
    if (receipt === 'remote') {
      ctx.reporter.notice('Open this URL to sign in:', authorization.url.href)
      ctx.reporter.notice(
        'On a machine with a browser, run this, then paste what it prints here:',
        relayCommand(authorization, redirectUri),
      )
    } else {
      await presentAuthorizationUrl(authorization.url, opts.listener.browser, ctx)
    }
    if (receipt === 'paste') {
      ctx.reporter.step(
        'After signing in, the browser will fail to load the page it lands on: that is expected. Copy the whole address from its address bar.',
      )
    }
    const context = {
      as,
      issuer: target.issuer,
      timeoutMs: opts.listener.timeoutMs,
      clientId: target.client.client_id,
      responseMode: request.responseMode,
      clockToleranceSeconds: opts.clockToleranceSeconds,
    }
    const received =
      loopback === undefined
        ? undefined
        : await receiveResponse(loopback, authorization, context, flow, ctx)
    const code =
      received?.code ?? (await pastedCode(authorization, redirectUri, context, flow, ctx))
    const validated = await exchangeCode(
      {
        code,
        redirectUri,
        codeVerifier: authorization.request.codeVerifier,
        scope: request.scope,
      },
      {
        as,
        target,
        expect: {
          nonce: authorization.request.nonce,
          audience: request.audience,
          maxAgeSeconds: request.maxAgeSeconds,
          clockToleranceSeconds: opts.clockToleranceSeconds,
          allowDpopDowngrade: opts.dpop?.allowDowngrade === true,
          flowStartedAt: started,
        },
      },
      flow,
      ctx,
    )
    assertOnTokens(opts.assertions, validated, flow, ctx)
    flow.lap('validate')
    if (opts.save) {
      const { cacheKey } = await import('./token-store.js')
      const { saveTokens, storeKeyFor } = await import('./token-cache.js')
      const key = cacheKey(storeKeyFor(target, request, flow.dpop !== undefined))
      await saveTokens(key, validated, await exportedDpopKey(flow), ctx)
    }
    await loopback?.finish({
      ok: true,
      title: 'Signed in',
      message: 'pkce received and validated the tokens.',
    })
    return {
      issuer: target.issuer,
      client_id: target.client.client_id,
      redirect_uri: redirectUri,
      authorization_url: authorization.url.href,
      pkce: {
        code_verifier: authorization.request.codeVerifier,
        code_challenge: authorization.request.codeChallenge,
        code_challenge_method: 'S256',
      },
      state: authorization.request.state,
      nonce: authorization.request.nonce ?? null,
      par: authorization.par,
      dpop: flow.dpop?.report ?? null,
      ...validated,
      checks: flow.checks,
      warnings: flow.warnings,
      timings_ms: flow.total(),
      ...(received === undefined || received.response.jarm === null
        ? {}
        : { authorization_response: received.response }),
    }
  } catch (error) {
    flow.annotate(error)
    await loopback?.finish(failurePage(error, ctx))
    throw error
  } finally {
    await loopback?.close()
  }
}

/**
 * Over SSH the browser is on another machine and cannot reach this listener: say how to forward
 * the port, or to paste instead.
 */
function remoteSessionHint(redirectUri: URL, ctx: Ctx): void {
  if ((ctx.env.SSH_CONNECTION ?? '') === '' && (ctx.env.SSH_TTY ?? '') === '') return
  const { port } = redirectUri
  ctx.reporter.step(
    `This looks like an SSH session: on the machine with the browser run ssh -L ${port}:127.0.0.1:${port} <this host> first, or run again with --paste`,
  )
}

/** The DPoP key as the store keeps it, when the run has one (made extractable for `--save`). */
async function exportedDpopKey(flow: Flow): Promise<{ alg: string; jwk: JWK } | undefined> {
  if (flow.dpop === undefined) return undefined
  const { exportJWK } = await import('jose')
  const { alg, privateKey } = flow.dpop.key
  return { alg, jwk: { ...(await exportJWK(privateKey)), alg } }
}
