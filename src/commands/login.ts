import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import type { Ctx } from '../context.js'
import { CliError, isCliError } from '../errors.js'
import { decodeToken } from '../jwt/decode.js'
import { allowedIdTokenAlgorithms, validateIdToken } from '../jwt/id-token.js'
import { cachedJwks } from '../jwt/jwks-source.js'
import { CheckList, ID_TOKEN_CODES, verifyJwt } from '../jwt/verify.js'
import type { Check, JwksSource } from '../jwt/verify.js'
import type { Loopback } from '../net/loopback.js'
import { buildAuthorizationUrl, validateAuthorizationResponse } from '../oauth/authorize.js'
import type { AuthorizationServer } from '../oauth/discovery.js'
import type { Http } from '../oauth/http.js'
import { jwksRequest, processJwksResponse } from '../oauth/jwks.js'
import { authorizationCodeGrant, processTokenResponse, tokenRequest } from '../oauth/token.js'
import type { TokenResponse } from '../oauth/token.js'
import { hasAssertions, runAssertions } from './assertions.js'
import type { Assertions } from './assertions.js'
import {
  discoverServer,
  Flow,
  prepareRequest,
  pushRequest,
  setupDpop,
  usesPar,
  wantsIdToken,
} from './flow.js'
import type { AuthorizationRequestOptions, DpopReport, ParReport, Warning } from './flow.js'
export { renderLogin } from './login-render.js'

/**
 * How the authorization URL reaches a browser: the system browser, nothing (print only), the
 * user's `--browser` command, or a function (the demo's built-in sandbox user).
 */
export type BrowserMode =
  | { kind: 'system' }
  | { kind: 'none' }
  | { kind: 'command'; argv: string[] }
  | { kind: 'agent'; open: (url: URL) => void }

export interface LoginOptions extends AuthorizationRequestOptions {
  par: boolean
  maxAgeSeconds: number | undefined
  browser: BrowserMode
  timeoutMs: number
  clockToleranceSeconds: number
  assertions: Assertions
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

/** The issuer's keys from `jwks_uri`, fetched once and refetched at most once (HC-5). */
function jwksSource(as: AuthorizationServer, http: Http): JwksSource {
  return cachedJwks(async () => {
    if (as.jwks_uri === undefined) {
      throw new CliError(
        'metadata_invalid',
        'the metadata has no jwks_uri, so tokens cannot be verified',
        {
          stage: 'validate',
        },
      )
    }
    return processJwksResponse(await jwksRequest(as.jwks_uri, http))
  })
}

/**
 * The whole Authorization Code + PKCE flow: discovery, authorization request (direct or pushed),
 * loopback callback, code exchange, then validation of everything that came back. Progress goes
 * to the reporter; the result is data for `renderLogin` and `--json`.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1
 * @see https://www.rfc-editor.org/rfc/rfc7636
 */
export async function runLogin(opts: LoginOptions, ctx: Ctx): Promise<LoginResult> {
  const { reporter } = ctx
  const started = ctx.now()
  const flow = new Flow(opts.http, ctx)
  const { issuer } = opts
  let loopback: Loopback | undefined
  try {
    const as = await discoverServer(issuer, flow, ctx)
    const pushing = usesPar(opts.par, as, ctx)
    await setupDpop(opts.dpop, as, flow, ctx)

    const { startLoopback } = await import('../net/loopback.js')
    loopback = await startLoopback({
      redirectUri: opts.redirectUri,
      onStray: (event) => reporter.step(`listener: ${event}`),
    })
    const redirectUri = loopback.redirectUri.href
    reporter.step(
      `Listening on ${redirectUri}: it must be in the application's Allowed Callback URLs, exactly`,
    )
    const request = prepareRequest(opts, redirectUri, flow, ctx)
    let authorizationUrl: URL
    let par: ParReport | null = null
    if (pushing) {
      const pushed = await pushRequest(opts, as, request.params, flow, ctx)
      authorizationUrl = pushed.url
      par = pushed.par
      reporter.step(`request_uri ${par.request_uri} (expires in ${par.expires_in}s)`)
    } else {
      authorizationUrl = buildAuthorizationUrl(as, new URL(issuer), request.params)
    }
    reporter.notice('Open this URL to sign in:', authorizationUrl.href)
    await openBrowser(authorizationUrl, opts.browser, ctx)
    const callback = await waitForCallback(loopback, opts, par, flow, ctx)
    flow.lap('authorize')
    reporter.step('Callback received')
    const response = validateAuthorizationResponse(callback, {
      state: request.state,
      issuer,
      issRequired: as.authorization_response_iss_parameter_supported === true,
    })
    flow.checks.push({ name: 'callback.state', ok: true, detail: 'equals the state sent' })
    if (callback.searchParams.has('iss'))
      flow.checks.push({ name: 'callback.iss', ok: true, detail: `equals ${issuer}` })
    if (response.issUnadvertised) {
      flow.warn(
        'iss_unadvertised',
        'the callback carries iss although the metadata does not advertise authorization_response_iss_parameter_supported',
      )
    }

    reporter.step(`Exchanging the code at ${as.token_endpoint}`)
    const grant = authorizationCodeGrant(response.code, redirectUri, request.codeVerifier)
    const tokenResponse = await flow.post(new URL(as.token_endpoint), 'token', async (headers) =>
      tokenRequest(as, await flow.credentials(opts.client, issuer), grant, flow.http, headers),
    )
    const processed = await processTokenResponse(tokenResponse, {
      idToken: wantsIdToken(opts.scope),
    }).catch((error: unknown) => {
      // TK-2: a missing ID token is a failed check of its own, last in the report.
      if (isCliError(error) && error.code === 'id_token_missing') {
        flow.checks.push({ name: 'id_token.present', ok: false, detail: error.message })
      }
      throw error
    })
    for (const warning of processed.warnings) flow.warn(warning.code, warning.message)
    const { tokens } = processed
    ctx.secrets.add(tokens.refresh_token)
    flow.lap('token')

    reporter.step('Validating tokens')
    checkDpopBinding(tokens, opts, flow)
    const keys = jwksSource(as, flow.http)
    const algorithms = allowedIdTokenAlgorithms(as.id_token_signing_alg_values_supported)
    let idToken: DecodedJwt | null = null
    if (tokens.id_token !== undefined) {
      const validated = await validateIdToken(
        tokens.id_token,
        {
          issuer,
          clientId: opts.client.client_id,
          nonce: request.nonce,
          algorithms,
          keys,
          now: ctx.now(),
          clockToleranceSeconds: opts.clockToleranceSeconds,
          accessToken: tokens.access_token,
          maxAgeSeconds: opts.maxAgeSeconds,
          flowStartedAt: started,
        },
        new CheckList(flow.checks, ID_TOKEN_CODES, 'id_token'),
      )
      for (const warning of validated.warnings) flow.warn(warning.code, warning.message)
      idToken = { header: validated.header, payload: validated.payload }
    }
    const accessToken = await inspectAccessToken(tokens, {
      issuer,
      algorithms,
      keys,
      opts,
      ctx,
      flow,
    })
    if (accessToken.note !== undefined) reporter.step(accessToken.note)
    runLoginAssertions(opts.assertions, idToken, accessToken, flow, ctx)
    flow.lap('validate')
    await loopback.finish({
      ok: true,
      title: 'Signed in',
      message: 'pkce received and validated the tokens.',
    })
    return {
      issuer,
      client_id: opts.client.client_id,
      redirect_uri: redirectUri,
      authorization_url: authorizationUrl.href,
      pkce: {
        code_verifier: request.codeVerifier,
        code_challenge: request.codeChallenge,
        code_challenge_method: 'S256',
      },
      state: request.state,
      nonce: request.nonce ?? null,
      par,
      dpop: flow.dpop?.report ?? null,
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
      checks: flow.checks,
      warnings: flow.warnings,
      timings_ms: flow.total(),
    }
  } catch (error) {
    flow.annotate(error)
    await loopback?.finish(failurePage(error, ctx))
    throw error
  } finally {
    await loopback?.close()
  }
}

/** Waits for the callback; with PAR, warns when the request_uri expires first (PAR-4). */
async function waitForCallback(
  loopback: Loopback,
  opts: LoginOptions,
  par: ParReport | null,
  flow: Flow,
  ctx: Ctx,
): Promise<URL> {
  const stopWaiting = ctx.reporter.wait(
    `Waiting for the callback on ${loopback.redirectUri.href} (up to ${Math.round(opts.timeoutMs / 1000)}s, Ctrl-C to stop)`,
  )
  const expiry =
    par === null
      ? undefined
      : setTimeout(() => {
          flow.warn(
            'par_request_uri_expired',
            `the request_uri expired after ${par.expires_in}s; if the browser shows an error, run again and sign in sooner`,
          )
        }, par.expires_in * 1000)
  expiry?.unref()
  try {
    return await loopback.waitForCallback(opts.timeoutMs, ctx.signal)
  } finally {
    clearTimeout(expiry)
    stopWaiting()
  }
}

/**
 * With DPoP, the token must come back as `token_type: DPoP` (RFC 9449 §5); a Bearer answer fails
 * unless `--allow-dpop-downgrade` (security.md D-4).
 */
function checkDpopBinding(tokens: TokenResponse, opts: LoginOptions, flow: Flow): void {
  if (flow.dpop === undefined) return
  if (/^dpop$/iu.test(tokens.token_type)) {
    flow.checks.push({ name: 'dpop.token_type', ok: true, detail: 'DPoP' })
    return
  }
  const message = `DPoP was requested but the token came back as token_type ${JSON.stringify(tokens.token_type)}: it is not bound to the key`
  if (opts.dpop?.allowDowngrade !== true) {
    flow.checks.push({ name: 'dpop.token_type', ok: false, detail: message })
    throw new CliError('dpop_downgrade', message, {
      stage: 'token',
      hint: 'the server ignored the DPoP proof; check that the API/application enables DPoP, or pass --allow-dpop-downgrade to accept a Bearer token',
    })
  }
  flow.warn(
    'dpop_downgrade',
    `${message}; accepted as an unbound Bearer token (--allow-dpop-downgrade)`,
  )
}

function runLoginAssertions(
  assertions: Assertions,
  idToken: DecodedJwt | null,
  accessToken: AccessTokenReport,
  flow: Flow,
  ctx: Ctx,
): void {
  if (!hasAssertions(assertions)) return
  const target = accessToken.payload ?? idToken?.payload
  if (target === undefined || target === null) {
    throw new CliError(
      'assertion_failed',
      'there are no claims to assert on: the access token is not a JWT and no ID token came',
      {
        stage: 'validate',
        hint: 'send --audience to get a JWT access token',
      },
    )
  }
  const results = runAssertions(
    target,
    assertions,
    ctx.now(),
    accessToken.payload === null ? 'id_token' : 'access_token',
  )
  flow.checks.push(...results)
  const failed = results.find((check) => !check.ok)
  if (failed !== undefined) {
    throw new CliError('assertion_failed', `${failed.name}: ${failed.detail}`, {
      stage: 'validate',
    })
  }
}

function failurePage(error: unknown, ctx: Ctx): { ok: false; title: string; message: string } {
  if (!isCliError(error))
    return {
      ok: false,
      title: 'Sign-in failed',
      message: 'pkce hit an internal error; see the terminal.',
    }
  // security.md LL-7, D-1: callback-stage failures come from the query, so the page names only
  // our code. Later ones come from the back channel: shown redacted (SO-2), escaped by the page.
  const message =
    error.stage === 'callback'
      ? `The callback was refused (${error.code}).`
      : `${ctx.secrets.redact(error.message)} (${error.code})`
  return { ok: false, title: 'Sign-in failed', message: `${message} See the terminal for details.` }
}

async function openBrowser(url: URL, mode: BrowserMode, ctx: Ctx): Promise<void> {
  if (mode.kind === 'none') return
  if (mode.kind === 'agent') return mode.open(url)
  if (mode.kind === 'system' && (!ctx.io.stderrIsTTY || (ctx.env.CI ?? '') !== '')) {
    // security.md CI-3: nobody is there to use a browser; the URL is on stderr already.
    ctx.reporter.step(
      'Not opening a browser (no terminal, or CI): open the URL above, or pass --browser <command>',
    )
    return
  }
  try {
    await ctx.openBrowser(url, mode.kind === 'command' ? mode.argv : undefined)
  } catch (error) {
    ctx.reporter.warn(
      'browser_failed',
      `could not open the browser (${error instanceof Error ? error.message : String(error)}); open the URL above yourself`,
    )
  }
}

/**
 * Names what the access token is. A JWS issued by this issuer is verified against the same JWKS;
 * otherwise it is shown decoded and labelled unverified (security.md IT-14).
 */
async function inspectAccessToken(
  tokens: TokenResponse,
  context: {
    issuer: string
    algorithms: string[]
    keys: JwksSource
    opts: LoginOptions
    ctx: Ctx
    flow: Flow
  },
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
    new CheckList(context.flow.checks, { default: 'access_token_invalid' }, 'access_token'),
  )
  const dpop = context.flow.dpop
  if (dpop !== undefined && /^dpop$/iu.test(tokens.token_type)) {
    // RFC 9449 §6.1: a DPoP-bound JWT carries the key's thumbprint in cnf.jkt.
    const jkt = (decoded.payload.cnf as { jkt?: unknown } | undefined)?.jkt
    if (jkt !== dpop.key.jkt) {
      context.flow.checks.push({
        name: 'access_token.cnf.jkt',
        ok: false,
        detail: `${jkt === undefined ? 'missing' : 'differs from'} the DPoP key thumbprint ${dpop.key.jkt}`,
      })
      throw new CliError(
        'dpop_downgrade',
        'the access token is not bound to the DPoP key (cnf.jkt)',
        { stage: 'validate' },
      )
    }
    context.flow.checks.push({
      name: 'access_token.cnf.jkt',
      ok: true,
      detail: `equals the DPoP key thumbprint ${dpop.key.jkt}`,
    })
  }
  return {
    kind: 'jws',
    header: decoded.header,
    payload: decoded.payload,
    verified: true,
    note: undefined,
  }
}
