import type { Ctx } from '../context.js'
import type { Check } from '../jwt/verify.js'
import type { Assertions } from './assertions.js'
import { validateCallback } from './authorize-step.js'
import type { Target } from './authorize-step.js'
import { exchangeCode } from './exchange-step.js'
import type { AccessTokenReport, DecodedJwt, TokenSet } from './exchange-step.js'
import { discoverServer, Flow, setupDpop } from './flow.js'
import type { DpopOptions, DpopReport, ParReport, Warning } from './flow.js'
import type { HttpSettings } from './http-settings.js'
import { deleteStateFile } from './state-file.js'
import { assertOnTokens } from './token-assertions.js'
import type { CacheKey } from './token-store.js'

/** Where the code comes from: a callback URL checked against the stored request, or a bare code. */
export type CodeSource =
  { kind: 'callback'; url: URL; state: string } | { kind: 'code'; code: string }

export interface ExchangeOptions {
  target: Target
  /** Byte for byte the `redirect_uri` of the authorization request (RFC 6749 §4.1.3). */
  redirectUri: string
  codeVerifier: string
  source: CodeSource
  /** The nonce sent, when known: an ID token with a nonce and none expected is refused (SN-4). */
  nonce: string | undefined
  scope: string
  audience: string | undefined
  maxAgeSeconds: number | undefined
  dpop: DpopOptions | undefined
  http: HttpSettings
  clockToleranceSeconds: number
  assertions: Assertions
  /** `--save`: the token store entry the tokens go to. */
  save: CacheKey | undefined
  /** The state file this exchange finishes; deleted once the tokens are validated (FS-2). */
  stateFile: string | undefined
  /** From the state file: the request this exchange finishes, for the report. */
  authorization: {
    authorization_url: string
    code_challenge: string
    par: ParReport | null
    /** When `authorize` ran: an ID token issued before it is old (docs/security.md D-5). */
    started_at: Date
  } | null
}

export interface ExchangeResult {
  issuer: string
  client_id: string
  redirect_uri: string
  authorization_url: string | null
  state_file: string | null
  pkce: { code_verifier: string; code_challenge: string | null; code_challenge_method: 'S256' }
  state: string | null
  nonce: string | null
  par: ParReport | null
  dpop: DpopReport | null
  tokens: TokenSet
  id_token: DecodedJwt | null
  access_token: AccessTokenReport
  checks: Check[]
  warnings: Warning[]
  timings_ms: Record<string, number>
}

/**
 * `pkce exchange`: the second leg. Validates the callback exactly as the listener does (state, iss,
 * error, duplicates), exchanges the code with the stored verifier (and DPoP key), validates and
 * returns the tokens as `login` does. A callback that fails its checks makes no token request.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.5
 */
export async function runExchange(opts: ExchangeOptions, ctx: Ctx): Promise<ExchangeResult> {
  const started = opts.authorization?.started_at ?? ctx.now()
  const flow = new Flow(opts.http, ctx)
  const { target, source } = opts
  try {
    const as = await discoverServer(target.issuer, flow, ctx)
    await setupDpop(opts.dpop, as, flow, ctx)
    const code =
      source.kind === 'callback'
        ? validateCallback(source.url, source.state, { as, issuer: target.issuer }, flow)
        : source.code
    const validated = await exchangeCode(
      { code, redirectUri: opts.redirectUri, codeVerifier: opts.codeVerifier, scope: opts.scope },
      {
        as,
        target,
        expect: {
          nonce: opts.nonce,
          audience: opts.audience,
          maxAgeSeconds: opts.maxAgeSeconds,
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
    if (opts.save !== undefined) {
      const { saveTokens, storedDpopKey } = await import('./token-cache.js')
      await saveTokens(opts.save, validated, storedDpopKey(opts.dpop), ctx)
    }
    if (opts.stateFile !== undefined) await deleteStateFile(opts.stateFile)
    return {
      issuer: target.issuer,
      client_id: target.client.client_id,
      redirect_uri: opts.redirectUri,
      authorization_url: opts.authorization?.authorization_url ?? null,
      state_file: opts.stateFile ?? null,
      pkce: {
        code_verifier: opts.codeVerifier,
        code_challenge: opts.authorization?.code_challenge ?? null,
        code_challenge_method: 'S256',
      },
      state: source.kind === 'callback' ? source.state : null,
      nonce: opts.nonce ?? null,
      par: opts.authorization?.par ?? null,
      dpop: flow.dpop?.report ?? null,
      ...validated,
      checks: flow.checks,
      warnings: flow.warnings,
      timings_ms: flow.total(),
    }
  } catch (error) {
    flow.annotate(error)
    throw error
  }
}
