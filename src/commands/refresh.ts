import type { Ctx } from '../context.js'
import { isCliError, withHint } from '../errors.js'
import type { Check } from '../jwt/verify.js'
import { refreshTokenGrant } from '../oauth/token.js'
import type { Assertions } from './assertions.js'
import type { CacheKey } from './token-store.js'
import type { Target } from './authorize-step.js'
import { requestTokens, validateTokens } from './exchange-step.js'
import type { AccessTokenReport, DecodedJwt, TokenSet } from './exchange-step.js'
import { discoverServer, Flow, setupDpop } from './flow.js'
import type { DpopOptions, DpopReport, Warning } from './flow.js'
import type { HttpSettings } from './http-settings.js'
import { assertOnTokens } from './token-assertions.js'

export interface RefreshOptions {
  target: Target
  refreshToken: string
  /** A narrower scope to ask for; the original grant's when undefined (RFC 6749 §6). */
  scope: string | undefined
  /** The `aud` a JWT access token must carry (`--audience`). */
  audience: string | undefined
  /** A DPoP-bound refresh token needs the key it was bound to (RFC 9449 §5). */
  dpop: DpopOptions | undefined
  http: HttpSettings
  clockToleranceSeconds: number
  assertions: Assertions
  /** The store entry the refresh token came from: the new tokens replace it. */
  storeKey: CacheKey | undefined
}

export interface RefreshResult {
  issuer: string
  client_id: string
  /** What changed: a new refresh token (rotation), and the granted scope against the one before. */
  changes: {
    refresh_token: 'rotated' | 'kept'
    scope: string | null
  }
  dpop: DpopReport | null
  tokens: TokenSet
  id_token: DecodedJwt | null
  access_token: AccessTokenReport
  checks: Check[]
  warnings: Warning[]
  timings_ms: Record<string, number>
}

const INVALID_GRANT_HINT =
  'the refresh token was revoked, has expired, was already used once rotation replaced it, or was issued to another client; sign in again with pkce login'

/**
 * `pkce refresh`: `grant_type=refresh_token` with the flow's client authentication and DPoP key,
 * then the same validation as `login` — a returned ID token without the nonce check, which a
 * refresh cannot make (OIDC Core §12.2).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokenResponse
 */
export async function runRefresh(opts: RefreshOptions, ctx: Ctx): Promise<RefreshResult> {
  const started = ctx.now()
  const flow = new Flow(opts.http, ctx)
  const { target } = opts
  ctx.secrets.add(opts.refreshToken)
  try {
    const as = await discoverServer(target.issuer, flow, ctx)
    await setupDpop(opts.dpop, as, flow, ctx)
    ctx.reporter.step(`Refreshing at ${as.token_endpoint}`)
    const tokens = await requestTokens(
      refreshTokenGrant(opts.refreshToken, opts.scope),
      false,
      { as, target },
      flow,
      ctx,
    ).catch((error: unknown) => {
      if (isCliError(error) && error.oauth?.error === 'invalid_grant')
        throw withHint(error, INVALID_GRANT_HINT)
      throw error
    })
    const validated = await validateTokens(
      tokens,
      {
        as,
        target,
        expect: {
          nonce: null,
          audience: opts.audience,
          maxAgeSeconds: undefined,
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
    if (opts.storeKey !== undefined) {
      const { saveTokens, storedDpopKey } = await import('./token-cache.js')
      // Without rotation the refresh token sent stays the one to keep (RFC 6749 §6).
      const kept = validated.tokens.refresh_token ?? opts.refreshToken
      await saveTokens(
        opts.storeKey,
        { ...validated, tokens: { ...validated.tokens, refresh_token: kept } },
        storedDpopKey(opts.dpop),
        ctx,
      )
    }
    const rotated =
      validated.tokens.refresh_token !== null &&
      validated.tokens.refresh_token !== opts.refreshToken
    ctx.reporter.step(
      rotated
        ? 'The refresh token was rotated: the old one is spent, keep the new one'
        : 'No new refresh token: the one sent stays valid',
    )
    return {
      issuer: target.issuer,
      client_id: target.client.client_id,
      changes: { refresh_token: rotated ? 'rotated' : 'kept', scope: validated.tokens.scope },
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
