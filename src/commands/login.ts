import type { JSONWebKeySet, JWTPayload, ProtectedHeaderParameters } from 'jose'
import type { Ctx } from '../context.js'
import { CliError, isCliError } from '../errors.js'
import type { IO } from '../io/io.js'
import { decodeToken } from '../jwt/decode.js'
import { allowedIdTokenAlgorithms, validateIdToken } from '../jwt/id-token.js'
import { CheckList, ID_TOKEN_CODES, verifyJwt } from '../jwt/verify.js'
import type { Check, JwksSource } from '../jwt/verify.js'
import {
  authorizationParams,
  buildAuthorizationUrl,
  validateAuthorizationResponse,
} from '../oauth/authorize.js'
import type { Client } from '../oauth/client-auth.js'
import { clientCredentials } from '../oauth/client-auth.js'
import { discover } from '../oauth/discovery.js'
import type { AuthorizationServer } from '../oauth/discovery.js'
import type { Loopback } from '../net/loopback.js'
import type { Http } from '../oauth/http.js'
import { jwksRequest, processJwksResponse } from '../oauth/jwks.js'
import { challengeS256, generateCodeVerifier, generateRandomValue } from '../oauth/pkce.js'
import { authorizationCodeGrant, processTokenResponse, tokenRequest } from '../oauth/token.js'
import type { TokenResponse } from '../oauth/token.js'
import { renderLoginResult } from './login-render.js'
import type { HttpSettings } from './http-settings.js'
import { createCommandHttp } from './http-settings.js'

export type BrowserMode = { kind: 'system' } | { kind: 'none' } | { kind: 'command'; argv: string[] }

export interface LoginOptions {
  /** Exactly as configured: compared byte for byte with the metadata and tokens. */
  issuer: string
  client: Client
  redirectUri: URL
  scope: string
  /** Optional authorization parameters in wire names, in order (audience, organization, …). */
  extra: [string, string][]
  codeVerifier: string | undefined
  state: string | undefined
  nonce: string | undefined
  maxAgeSeconds: number | undefined
  browser: BrowserMode
  timeoutMs: number
  clockToleranceSeconds: number
  http: HttpSettings
}

export interface DecodedJwt {
  header: ProtectedHeaderParameters
  payload: JWTPayload
}

export interface AccessTokenReport {
  kind: 'jws' | 'jwe' | 'unsecured' | 'opaque'
  header: ProtectedHeaderParameters | null
  payload: JWTPayload | null
  verified: boolean
  note: string | undefined
}

export interface Warning {
  code: string
  message: string
}

export interface LoginResult {
  issuer: string
  client_id: string
  redirect_uri: string
  authorization_url: string
  pkce: { code_verifier: string; code_challenge: string; code_challenge_method: 'S256' }
  state: string
  nonce: string | null
  tokens: {
    token_type: string
    access_token: string
    id_token: string | null
    refresh_token: string | null
    expires_in: number | null
    scope: string | null
  }
  id_token: DecodedJwt | null
  access_token: AccessTokenReport
  checks: Check[]
  warnings: Warning[]
  timings_ms: Record<string, number>
}

/** A JWKS source over `jwks_uri`: one fetch, and at most one refetch in the whole run (HC-5). */
function jwksSource(as: AuthorizationServer, http: Http): JwksSource {
  let cached: Promise<JSONWebKeySet> | undefined
  let refetched = false
  const load = async (): Promise<JSONWebKeySet> => {
    if (as.jwks_uri === undefined) {
      throw new CliError('metadata_invalid', 'the metadata has no jwks_uri, so tokens cannot be verified', { stage: 'validate' })
    }
    return processJwksResponse(await jwksRequest(as.jwks_uri, http))
  }
  return async (refresh) => {
    if (refresh && !refetched) {
      refetched = true
      cached = load()
    }
    cached ??= load()
    return cached
  }
}

const OPENID = /(^|\s)openid(\s|$)/u

/**
 * The whole Authorization Code + PKCE flow: discovery, authorization request, loopback callback,
 * code exchange, then validation of everything that came back. Progress goes to the reporter;
 * the result is data for `renderLogin` and `--json`.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1
 * @see https://www.rfc-editor.org/rfc/rfc7636
 */
export async function runLogin(opts: LoginOptions, ctx: Ctx): Promise<LoginResult> {
  const { reporter } = ctx
  const started = ctx.now()
  const clock = performance.now()
  const timings: Record<string, number> = {}
  const lap = (name: string, since: number): number => {
    const now = performance.now()
    timings[name] = Math.round(now - since)
    return now
  }
  const checks: Check[] = []
  const warnings: Warning[] = []
  const warn = (code: string, message: string): void => {
    warnings.push({ code, message })
    reporter.warn(code, message)
  }
  const { issuer } = opts
  const issuerUrl = new URL(issuer)
  const http = createCommandHttp(opts.http, ctx)
  let loopback: Loopback | undefined
  try {
    if (issuerUrl.protocol === 'http:') {
      warn('insecure_loopback_issuer', `using plain http to the loopback issuer ${issuer}`)
    }
    reporter.step(`Discovering ${issuer}`)
    let mark = performance.now()
    const as = await discover(issuer, http)
    mark = lap('discovery', mark)
    const methods = as.code_challenge_methods_supported
    if (methods !== undefined && !methods.includes('S256')) {
      throw new CliError('pkce_s256_unsupported', `the server lists code_challenge_methods_supported ${JSON.stringify(methods)} without S256`, {
        stage: 'discovery',
        hint: 'pkce always uses S256 (RFC 9700 §2.1.1); plain is never sent',
      })
    }
    if (methods === undefined) {
      warn('pkce_support_unconfirmed', 'the metadata has no code_challenge_methods_supported; PKCE support is unconfirmed, state still protects the flow')
    }

    const codeVerifier = opts.codeVerifier ?? generateCodeVerifier(ctx.random)
    const codeChallenge = challengeS256(codeVerifier)
    const state = opts.state ?? generateRandomValue(ctx.random)
    const wantsIdToken = OPENID.test(opts.scope)
    const nonce = wantsIdToken ? (opts.nonce ?? generateRandomValue(ctx.random)) : undefined

    const { startLoopback } = await import('../net/loopback.js')
    loopback = await startLoopback({
      redirectUri: opts.redirectUri,
      onStray: (event) => reporter.step(`listener: ${event}`),
    })
    const redirectUri = loopback.redirectUri.href
    const authorizationUrl = buildAuthorizationUrl(
      as,
      issuerUrl,
      authorizationParams({
        client_id: opts.client.client_id,
        redirect_uri: redirectUri,
        scope: opts.scope,
        state,
        nonce,
        code_challenge: codeChallenge,
        dpop_jkt: undefined,
        extra: opts.extra,
      }),
    )
    reporter.step(`PKCE code_verifier ${codeVerifier}`)
    reporter.step(`PKCE code_challenge ${codeChallenge} (S256)`)
    reporter.notice('Open this URL to sign in:', authorizationUrl.href)
    await openBrowser(authorizationUrl, opts.browser, ctx)
    const stopWaiting = reporter.wait(`Waiting for the callback on ${redirectUri} (up to ${Math.round(opts.timeoutMs / 1000)}s, Ctrl-C to stop)`)
    let callback: URL
    try {
      callback = await loopback.waitForCallback(opts.timeoutMs, ctx.signal)
    } finally {
      stopWaiting()
    }
    mark = lap('authorize', mark)
    reporter.step('Callback received')
    const response = validateAuthorizationResponse(callback, {
      state,
      issuer,
      issRequired: as.authorization_response_iss_parameter_supported === true,
    })
    checks.push({ name: 'callback.state', ok: true, detail: 'equals the state sent' })
    if (callback.searchParams.has('iss')) checks.push({ name: 'callback.iss', ok: true, detail: `equals ${issuer}` })
    if (response.issUnadvertised) {
      warn('iss_unadvertised', 'the callback carries iss although the metadata does not advertise authorization_response_iss_parameter_supported')
    }

    reporter.step(`Exchanging the code at ${as.token_endpoint}`)
    const credentials = await clientCredentials(opts.client, issuer, ctx.now(), generateRandomValue(ctx.random))
    for (const [name, value] of credentials.form) if (name === 'client_assertion') ctx.secrets.add(value)
    const tokenResponse = await tokenRequest(as, credentials, authorizationCodeGrant(response.code, redirectUri, codeVerifier), http)
    const processed = await processTokenResponse(tokenResponse, { idToken: wantsIdToken })
    for (const warning of processed.warnings) warn(warning.code, warning.message)
    const { tokens } = processed
    ctx.secrets.add(tokens.refresh_token)
    mark = lap('token', mark)

    reporter.step('Validating tokens')
    const keys = jwksSource(as, http)
    const algorithms = allowedIdTokenAlgorithms(as.id_token_signing_alg_values_supported)
    let idToken: DecodedJwt | null = null
    if (tokens.id_token !== undefined) {
      const validated = await validateIdToken(
        tokens.id_token,
        {
          issuer,
          clientId: opts.client.client_id,
          nonce,
          algorithms,
          keys,
          now: ctx.now(),
          clockToleranceSeconds: opts.clockToleranceSeconds,
          accessToken: tokens.access_token,
          maxAgeSeconds: opts.maxAgeSeconds,
          flowStartedAt: started,
        },
        new CheckList(checks, ID_TOKEN_CODES, 'id_token'),
      )
      for (const warning of validated.warnings) warn(warning.code, warning.message)
      idToken = { header: validated.header, payload: validated.payload }
    }
    const accessToken = await inspectAccessToken(tokens, { issuer, algorithms, keys, opts, ctx, checks })
    if (accessToken.note !== undefined) reporter.step(accessToken.note)
    lap('validate', mark)
    timings.total = Math.round(performance.now() - clock)
    await loopback.finish({ ok: true, title: 'Signed in', message: 'pkce received and validated the tokens.' })
    return {
      issuer,
      client_id: opts.client.client_id,
      redirect_uri: redirectUri,
      authorization_url: authorizationUrl.href,
      pkce: { code_verifier: codeVerifier, code_challenge: codeChallenge, code_challenge_method: 'S256' },
      state,
      nonce: nonce ?? null,
      tokens: {
        token_type: tokens.token_type,
        access_token: tokens.access_token,
        id_token: tokens.id_token ?? null,
        refresh_token: tokens.refresh_token ?? null,
        expires_in: tokens.expires_in ?? null,
        scope: tokens.scope ?? null,
      },
      id_token: idToken,
      access_token: accessToken,
      checks,
      warnings,
      timings_ms: timings,
    }
  } catch (error) {
    if (isCliError(error)) {
      error.details.checks = checks
      if (warnings.length > 0) error.details.warnings = warnings
    }
    await loopback?.finish(failurePage(error))
    throw error
  } finally {
    await loopback?.close()
  }
}

function failurePage(error: unknown): { ok: false; title: string; message: string } {
  if (!isCliError(error)) return { ok: false, title: 'Sign-in failed', message: 'pkce hit an internal error; see the terminal.' }
  // security.md LL-7, D-1: callback-stage failures come from the query, so the page names only our code.
  const message = error.stage === 'callback' ? `The callback was refused (${error.code}).` : `${error.message} (${error.code})`
  return { ok: false, title: 'Sign-in failed', message: `${message} See the terminal for details.` }
}

async function openBrowser(url: URL, mode: BrowserMode, ctx: Ctx): Promise<void> {
  if (mode.kind === 'none') return
  try {
    await ctx.openBrowser(url, mode.kind === 'command' ? mode.argv : undefined)
  } catch (error) {
    ctx.reporter.warn('browser_failed', `could not open the browser (${error instanceof Error ? error.message : String(error)}); open the URL above yourself`)
  }
}

/**
 * Names what the access token is. A JWS issued by this issuer is verified against the same JWKS;
 * otherwise it is shown decoded and labelled unverified (security.md IT-14).
 */
async function inspectAccessToken(
  tokens: TokenResponse,
  context: { issuer: string; algorithms: string[]; keys: JwksSource; opts: LoginOptions; ctx: Ctx; checks: Check[] },
): Promise<AccessTokenReport> {
  const decoded = decodeToken(tokens.access_token, 'access_token_invalid')
  if (decoded.kind === 'opaque') {
    return {
      kind: 'opaque',
      header: null,
      payload: null,
      verified: false,
      note: `The access token is opaque (${decoded.length} characters): only the authorization server can read it. To get a JWT, send --audience <your API identifier>.`,
    }
  }
  if (decoded.kind === 'jwe') {
    const auth0Style = decoded.header.alg === 'dir' && decoded.header.enc === 'A256GCM'
    return {
      kind: 'jwe',
      header: decoded.header,
      payload: null,
      verified: false,
      note: auth0Style
        ? 'The access token is encrypted (JWE, alg dir / A256GCM): on Auth0 this is the /userinfo-only token issued when no audience is sent. Send --audience <your API identifier> to get a JWT access token.'
        : 'The access token is encrypted (JWE); only its resource server can read it.',
    }
  }
  const audience = context.opts.extra.find(([name]) => name === 'audience')?.[1]
  if (decoded.kind === 'unsecured' || decoded.payload.iss !== context.issuer) {
    return {
      kind: decoded.kind,
      header: decoded.header,
      payload: decoded.payload,
      verified: false,
      note: 'The access token is a JWT from another issuer: shown decoded, not verified.',
    }
  }
  await verifyJwt(
    tokens.access_token,
    decoded.header,
    decoded.payload,
    {
      keys: context.keys,
      algorithms: context.algorithms,
      issuer: context.issuer,
      audience,
      now: context.ctx.now(),
      clockToleranceSeconds: context.opts.clockToleranceSeconds,
      typ: [undefined, 'jwt', 'at+jwt', 'application/at+jwt'],
      requiredClaims: ['exp'],
    },
    new CheckList(context.checks, { default: 'access_token_invalid' }, 'access_token'),
  )
  return { kind: 'jws', header: decoded.header, payload: decoded.payload, verified: true, note: undefined }
}

export function renderLogin(result: LoginResult, io: IO, options: { showTokens: boolean; now: Date }): void {
  renderLoginResult(result, io, options)
}
