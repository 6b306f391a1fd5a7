import type { Ctx } from '../context.js'
import type { IO } from '../io/io.js'
import { claimLines, formatClaimLines, heading } from '../io/render.js'
import { decodeToken } from '../jwt/decode.js'
import type { Check } from '../jwt/verify.js'
import {
  checkUserinfoSubject,
  processUserinfoResponse,
  userinfoEndpoint,
  userinfoRequest,
} from '../oauth/userinfo.js'
import { sanitize } from '../sanitize.js'
import { claimGloss } from './decode-explain.js'
import { discoverServer, Flow, setupDpop } from './flow.js'
import type { DpopOptions, Warning } from './flow.js'
import type { HttpSettings } from './http-settings.js'

export interface UserinfoOptions {
  issuer: string
  accessToken: string
  /** A DPoP-bound access token goes with a proof by its key (RFC 9449 §7.1). */
  dpop: DpopOptions | undefined
  /** The ID token's `sub`, when one is at hand: the UserInfo `sub` must equal it (IT-13). */
  idTokenSub: string | undefined
  http: HttpSettings
}

export interface UserinfoResult {
  issuer: string
  userinfo_endpoint: string
  /** `json`, or `jwt` for a signed response, shown decoded and NOT verified. */
  format: 'json' | 'jwt'
  claims: Record<string, unknown>
  checks: Check[]
  warnings: Warning[]
  timings_ms: Record<string, number>
}

/**
 * `pkce userinfo`: the claims the UserInfo endpoint returns for an access token, presented in the
 * `Authorization` header only (Bearer, or DPoP with `ath`), and checked against the ID token's
 * `sub` when one is at hand.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#UserInfo
 */
export async function runUserinfo(opts: UserinfoOptions, ctx: Ctx): Promise<UserinfoResult> {
  const flow = new Flow(opts.http, ctx)
  ctx.secrets.add(opts.accessToken)
  try {
    const as = await discoverServer(opts.issuer, flow, ctx)
    await setupDpop(opts.dpop, as, flow, ctx)
    const url = userinfoEndpoint(as)
    const tokenType = flow.dpop === undefined ? 'Bearer' : 'DPoP'
    ctx.reporter.step(`Calling ${url.href} with the ${tokenType} access token`)
    const response = await flow.send(
      { method: 'GET', url, stage: 'userinfo', accessToken: opts.accessToken },
      (headers) => userinfoRequest(as, opts.accessToken, tokenType, flow.http, headers),
    )
    const processed = await processUserinfoResponse(response)
    flow.lap('userinfo')
    let claims: Record<string, unknown>
    if (processed.format === 'json') {
      claims = processed.claims
    } else {
      const decoded = decodeToken(processed.jwt, 'userinfo_invalid')
      claims = decoded.payload ?? {}
      flow.warn(
        'userinfo_jwt_unverified',
        'the UserInfo response is a signed JWT: shown decoded, its signature not verified',
      )
    }
    if (opts.idTokenSub !== undefined && typeof claims.sub === 'string') {
      try {
        checkUserinfoSubject({ sub: claims.sub }, opts.idTokenSub)
        flow.checks.push({ name: 'userinfo.sub', ok: true, detail: "equals the ID token's sub" })
      } catch (error) {
        flow.checks.push({
          name: 'userinfo.sub',
          ok: false,
          detail: "differs from the ID token's sub",
        })
        throw error
      }
    }
    return {
      issuer: opts.issuer,
      userinfo_endpoint: url.href,
      format: processed.format,
      claims,
      checks: flow.checks,
      warnings: flow.warnings,
      timings_ms: flow.total(),
    }
  } catch (error) {
    flow.annotate(error)
    throw error
  }
}

export function renderUserinfo(result: UserinfoResult, io: IO, now: Date): void {
  const c = io.color.out
  let out = heading(
    `UserInfo (${result.format === 'json' ? 'JSON' : 'signed JWT, NOT verified'})`,
    c,
  )
  out += formatClaimLines(claimLines(result.claims, now, claimGloss), c)
  for (const check of result.checks) {
    out += `  ${check.ok ? c.green('✓') : c.red('✗')} ${check.name} ${sanitize(check.detail)}\n`
  }
  io.out(out)
}
