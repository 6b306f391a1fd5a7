import type { Ctx } from '../context.js'
import { CliError, isCliError } from '../errors.js'
import type { CallbackResponse, Loopback, Outcome } from '../net/loopback.js'
import {
  authorizationParams,
  buildAuthorizationUrl,
  buildParAuthorizationUrl,
  isJarm,
  responseChannel,
  validateAuthorizationResponse,
} from '../oauth/authorize.js'
import type { ResponseMode } from '../oauth/parameters.js'
import type { Client } from '../oauth/client-auth.js'
import type { AuthorizationServer } from '../oauth/discovery.js'
import { parEndpoint, processParResponse, pushedAuthorizationRequest } from '../oauth/par.js'
import { challengeS256, generateCodeVerifier, generateRandomValue } from '../oauth/pkce.js'
import type { DpopOptions, Flow, ParReport } from './flow.js'
import type { HttpSettings } from './http-settings.js'

/** The server and the client: who is asked, and who asks. */
export interface Target {
  /** Exactly as configured: compared byte for byte with the metadata and tokens. */
  issuer: string
  client: Client
}

/**
 * The authorization request as the user asked for it, in typed fields. The wire form is made in
 * one place, `extraParameters`.
 */
export interface AuthorizationRequest {
  scope: string
  /** Auth0's `audience`: the API asked for, and the `aud` the access token is checked against. */
  audience: string | undefined
  /** RFC 8707 resource indicators, in order. */
  resources: string[]
  organization: string | undefined
  invitation: string | undefined
  connection: string | undefined
  prompt: string | undefined
  /** `max_age`; sent, then enforced on the ID token's `auth_time` (OIDC Core §3.1.3.7). */
  maxAgeSeconds: number | undefined
  loginHint: string | undefined
  /** `response_mode`; undefined sends none (the server's default for code, `query`). */
  responseMode: ResponseMode | undefined
  /** RFC 9396 `authorization_details`, already checked and compact. */
  authorizationDetails: string | undefined
  /** `--param` pairs, in order; none of them a parameter pkce sets itself (docs/security.md AR-1). */
  params: [string, string][]
  /** Fixed one-time values for reproducible debugging; fresh CSPRNG values when undefined. */
  codeVerifier: string | undefined
  state: string | undefined
  nonce: string | undefined
  /** Push the request first (RFC 9126); also automatic when the server requires it. */
  par: boolean
}

/** A request with only `scope` and the given fields set: every other parameter left out. */
export function authorizationRequestWith(
  fields: Partial<AuthorizationRequest> & Pick<AuthorizationRequest, 'scope'>,
): AuthorizationRequest {
  return {
    audience: undefined,
    resources: [],
    organization: undefined,
    invitation: undefined,
    connection: undefined,
    prompt: undefined,
    maxAgeSeconds: undefined,
    loginHint: undefined,
    responseMode: undefined,
    authorizationDetails: undefined,
    params: [],
    codeVerifier: undefined,
    state: undefined,
    nonce: undefined,
    par: false,
    ...fields,
  }
}

/** What every command that makes an authorization request shares. */
export interface AuthorizeOptions {
  target: Target
  request: AuthorizationRequest
  redirectUri: URL
  dpop: DpopOptions | undefined
  http: HttpSettings
}

/**
 * How the authorization URL reaches a browser: the system browser, nothing (print only), the
 * user's `--browser` command, or a function (the demo's built-in sandbox user).
 */
export type BrowserMode =
  | { kind: 'system' }
  | { kind: 'none' }
  | { kind: 'command'; argv: string[] }
  | { kind: 'agent'; open: (url: URL) => void }

/**
 * How the callback comes back: to the loopback listener; pasted by the user from the browser's
 * address bar (`--paste`); or from `pkce relay` on another machine, through stdin (`--remote`).
 */
export type CallbackReceipt = 'listener' | 'paste' | 'remote'

/** Where and how long the callback is awaited, and how the browser is reached. */
export interface ListenerOptions {
  browser: BrowserMode
  timeoutMs: number
  receipt: CallbackReceipt
}

export interface PreparedRequest {
  codeVerifier: string
  codeChallenge: string
  state: string
  nonce: string | undefined
  params: URLSearchParams
}

const OPENID = /(^|\s)openid(\s|$)/u

export function wantsIdToken(scope: string): boolean {
  return OPENID.test(scope)
}

/** The optional authorization parameters in wire names, in a stable order. */
export function extraParameters(request: AuthorizationRequest): [string, string][] {
  const extra: [string, string][] = []
  const add = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) extra.push([name, String(value)])
  }
  add('audience', request.audience)
  for (const resource of request.resources) add('resource', resource)
  add('organization', request.organization)
  add('invitation', request.invitation)
  add('connection', request.connection)
  add('prompt', request.prompt)
  add('max_age', request.maxAgeSeconds)
  add('login_hint', request.loginHint)
  add('response_mode', request.responseMode)
  extra.push(...request.params)
  add('authorization_details', request.authorizationDetails)
  return extra
}

/** Fresh (or fixed) PKCE, state and nonce values, and the authorization request's parameters. */
export function prepareRequest(
  opts: AuthorizeOptions,
  redirectUri: string,
  flow: Flow,
  ctx: Ctx,
): PreparedRequest {
  const { request } = opts
  const codeVerifier = request.codeVerifier ?? generateCodeVerifier(ctx.random)
  const codeChallenge = challengeS256(codeVerifier)
  const state = request.state ?? generateRandomValue(ctx.random)
  const nonce = wantsIdToken(request.scope)
    ? (request.nonce ?? generateRandomValue(ctx.random))
    : undefined
  const params = authorizationParams({
    client_id: opts.target.client.client_id,
    redirect_uri: redirectUri,
    scope: request.scope,
    state,
    nonce,
    code_challenge: codeChallenge,
    dpop_jkt: flow.dpop?.key.jkt,
    extra: extraParameters(request),
  })
  ctx.reporter.step(`PKCE code_verifier ${codeVerifier}`)
  ctx.reporter.step(`PKCE code_challenge ${codeChallenge} (S256)`)
  return { codeVerifier, codeChallenge, state, nonce, params }
}

/**
 * Pushes the authorization request (RFC 9126) and returns the front-channel URL, which carries
 * only `client_id` and `request_uri`. Any failure stops the run before a browser opens.
 */
export async function pushRequest(
  target: Target,
  as: AuthorizationServer,
  params: URLSearchParams,
  flow: Flow,
  ctx: Ctx,
): Promise<{ url: URL; par: ParReport }> {
  const endpoint = parEndpoint(as)
  ctx.reporter.step(`Pushing the authorization request to ${endpoint.href}`)
  const response = await flow.post(endpoint, 'par', async (headers) =>
    pushedAuthorizationRequest(
      as,
      await flow.credentials(target.client, target.issuer),
      params,
      flow.http,
      headers,
    ),
  )
  const pushed = await processParResponse(response, target.client.auth.method === 'none')
  if (pushed.status === 200) {
    flow.warn('par_status_200', 'the PAR endpoint answered 200; RFC 9126 §2.2 requires 201 Created')
  }
  flow.lap('par')
  const expiresAt = new Date(ctx.now().getTime() + pushed.expires_in * 1000)
  const url = buildParAuthorizationUrl(
    as,
    new URL(target.issuer),
    target.client.client_id,
    pushed.request_uri,
  )
  return {
    url,
    par: {
      request_uri: pushed.request_uri,
      expires_in: pushed.expires_in,
      expires_at: expiresAt.toISOString(),
    },
  }
}

/** The authorization request made ready for a browser: its URL, and what the exchange needs. */
export interface Authorization {
  request: PreparedRequest
  url: URL
  par: ParReport | null
}

/**
 * Prepares the request and turns it into the URL a browser opens: pushed first when `pushing`,
 * else the parameters on `authorization_endpoint`.
 */
export async function authorizationRequest(
  opts: AuthorizeOptions,
  as: AuthorizationServer,
  redirectUri: string,
  pushing: boolean,
  flow: Flow,
  ctx: Ctx,
): Promise<Authorization> {
  checkResponseMode(opts.request.responseMode, as, flow)
  const request = prepareRequest(opts, redirectUri, flow, ctx)
  if (!pushing) {
    const url = buildAuthorizationUrl(as, new URL(opts.target.issuer), request.params)
    return { request, url, par: null }
  }
  const pushed = await pushRequest(opts.target, as, request.params, flow, ctx)
  ctx.reporter.step(`request_uri ${pushed.par.request_uri} (expires in ${pushed.par.expires_in}s)`)
  return { request, url: pushed.url, par: pushed.par }
}

/**
 * A response mode the metadata does not list is a warning (the server may ignore it); a JARM mode
 * with no `jwks_uri` cannot be verified, so it stops before the browser opens.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 */
export function checkResponseMode(
  mode: ResponseMode | undefined,
  as: AuthorizationServer,
  flow: Flow,
): void {
  if (mode === undefined) return
  if (isJarm(mode) && as.jwks_uri === undefined) {
    throw new CliError(
      'usage_error',
      `--response-mode ${mode} needs the issuer's keys to verify the response, and the metadata has no jwks_uri`,
      { hint: 'use --response-mode query or form_post with this server' },
    )
  }
  // RFC 8414 §2: absent means ["query", "fragment"].
  const supported = as.response_modes_supported ?? ['query', 'fragment']
  if (!supported.includes(mode)) {
    flow.warn(
      'response_mode_unsupported',
      `response_mode ${mode} is not in the metadata's response_modes_supported (${supported.join(', ')}${as.response_modes_supported === undefined ? ', the default' : ''}); the server may refuse it or answer in another mode`,
    )
  }
}

/**
 * Only pkce's own listener takes a response that is not a plain query (a form POST, a fragment, a
 * JARM JWT): a callback URL pasted, relayed or given to `exchange` carries a query only, so any
 * other mode is a usage error, found before any request.
 */
export function requireListenerForMode(mode: ResponseMode | undefined, how: string): void {
  if (mode === undefined || mode === 'query') return
  throw new CliError(
    'usage_error',
    `--response-mode ${mode} needs pkce's own loopback listener; ${how} takes a callback URL with the response in its query`,
    { hint: 'run pkce login without --paste or --remote, or drop --response-mode' },
  )
}

/** Starts the loopback listener for the redirect URI and says what must be registered. */
export async function startListener(
  redirectUri: URL,
  ctx: Ctx,
  responseMode: ResponseMode = 'query',
): Promise<Loopback> {
  const { startLoopback } = await import('../net/loopback.js')
  const loopback = await startLoopback({
    redirectUri,
    onStray: (event) => ctx.reporter.step(`listener: ${event}`),
    channel: responseChannel(responseMode),
  })
  ctx.reporter.step(
    `Listening on ${loopback.redirectUri.href}: it must be in the application's Allowed Callback URLs, exactly`,
  )
  return loopback
}

/** Prints the authorization URL (always, for SSH users) and hands it to the chosen browser. */
export async function presentAuthorizationUrl(
  url: URL,
  mode: BrowserMode,
  ctx: Ctx,
): Promise<void> {
  ctx.reporter.notice('Open this URL to sign in:', url.href)
  if (mode.kind === 'none') return
  if (mode.kind === 'agent') return mode.open(url)
  if (mode.kind === 'system' && (!ctx.io.stderrIsTTY || (ctx.env.CI ?? '') !== '')) {
    // docs/security.md CI-3: nobody is there to use a browser; the URL is on stderr already.
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

/** The authorization response as it came, for the report and `--json` (`authorization_response`). */
export interface AuthorizationResponseReport {
  response_mode: ResponseMode
  /** How it reached the listener: the query of a GET, a form POST, or the relayed fragment. */
  via: 'query' | 'form_post' | 'fragment'
  /** JARM only: the verified response JWT, decoded. */
  jarm: { header: Record<string, unknown>; claims: Record<string, unknown> } | null
}

export interface ReceivedCode {
  code: string
  response: AuthorizationResponseReport
}

/** What the callback is checked against; a JARM response needs the client id and the tolerance. */
export interface CallbackContext {
  as: AuthorizationServer
  issuer: string
  clientId?: string
  responseMode?: ResponseMode | undefined
  clockToleranceSeconds?: number
}

/**
 * Waits for the callback on the loopback listener and validates it; with PAR, warns when the
 * request_uri expires first (docs/security.md PAR-4). Returns the code.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 */
export async function receiveCode(
  loopback: Loopback,
  authorization: Authorization,
  context: CallbackContext & { timeoutMs: number },
  flow: Flow,
  ctx: Ctx,
): Promise<string> {
  return (await receiveResponse(loopback, authorization, context, flow, ctx)).code
}

/** `receiveCode`, with the response as it came for the report (`authorization_response`). */
export async function receiveResponse(
  loopback: Loopback,
  authorization: Authorization,
  context: CallbackContext & { timeoutMs: number },
  flow: Flow,
  ctx: Ctx,
): Promise<ReceivedCode> {
  const { par } = authorization
  const stopWaiting = ctx.reporter.wait(
    `Waiting for the callback on ${loopback.redirectUri.href} (up to ${Math.round(context.timeoutMs / 1000)}s, Ctrl-C to stop)`,
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
  let callback: CallbackResponse
  try {
    callback = await loopback.waitForResponse(context.timeoutMs, ctx.signal)
  } finally {
    clearTimeout(expiry)
    stopWaiting()
  }
  flow.lap('authorize')
  ctx.reporter.step(
    `Callback received${callback.via === 'query' ? '' : callback.via === 'form_post' ? ' (form POST)' : ' (URL fragment, relayed by the page)'}`,
  )
  return validateResponse(callback, authorization.request.state, context, flow, ctx)
}

/**
 * Validates a response taken by the listener in the mode asked for. A JARM response is verified
 * first (signature, `iss`, `aud`, `exp`: docs/security.md RM-3); its claims then go through the
 * same checks as a plain response (RH-1 to RH-4).
 * @see https://openid.net/specs/oauth-v2-jarm.html#section-2.4
 */
export async function validateResponse(
  callback: CallbackResponse,
  state: string,
  context: CallbackContext,
  flow: Flow,
  ctx: Ctx,
): Promise<ReceivedCode> {
  const mode = context.responseMode ?? 'query'
  if (context.responseMode !== undefined) {
    flow.checks.push({
      name: 'callback.response_mode',
      ok: true,
      detail: `${mode}: ${callback.via === 'query' ? 'the query of a GET' : callback.via === 'form_post' ? 'a form POST' : 'the URL fragment, posted back by the relay page'}`,
    })
  }
  if (!isJarm(mode)) {
    const code = validateParams(callback.params, state, context, flow, true)
    return { code, response: { response_mode: mode, via: callback.via, jarm: null } }
  }
  const { jarmResponseParameter, verifyJarmResponse } = await import('../oauth/jarm.js')
  const { issuerKeys } = await import('../jwt/jwks-source.js')
  const jwt = jarmResponseParameter(callback.params, mode)
  const jarm = await verifyJarmResponse(
    jwt,
    {
      issuer: context.issuer,
      clientId: context.clientId ?? '',
      supportedAlgorithms: context.as.authorization_signing_alg_values_supported,
      keys: issuerKeys(context.as, flow.http),
      now: ctx.now(),
      clockToleranceSeconds: context.clockToleranceSeconds ?? 60,
    },
    flow.checks,
  )
  const code = validateParams(jarm.params, state, context, flow, false)
  return {
    code,
    response: {
      response_mode: mode,
      via: callback.via,
      jarm: { header: { ...jarm.header }, claims: { ...jarm.claims } },
    },
  }
}

/**
 * Validates an authorization response exactly as the listener's: duplicates, `iss` (RFC 9207),
 * `state` before `error`, then a non-empty `code`; each check lands in the report.
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 */
export function validateCallback(
  callback: URL,
  state: string,
  context: { as: AuthorizationServer; issuer: string },
  flow: Flow,
): string {
  return validateParams(callback.searchParams, state, context, flow, true)
}

function validateParams(
  params: URLSearchParams,
  state: string,
  context: { as: AuthorizationServer; issuer: string },
  flow: Flow,
  warnUnadvertisedIss: boolean,
): string {
  const response = validateAuthorizationResponse(params, {
    state,
    issuer: context.issuer,
    issRequired: context.as.authorization_response_iss_parameter_supported === true,
  })
  flow.checks.push({ name: 'callback.state', ok: true, detail: 'equals the state sent' })
  if (params.has('iss'))
    flow.checks.push({ name: 'callback.iss', ok: true, detail: `equals ${context.issuer}` })
  // A JARM response's iss is the JWT's, required by JARM whatever RFC 9207's metadata says.
  if (response.issUnadvertised && warnUnadvertisedIss) {
    flow.warn(
      'iss_unadvertised',
      'the callback carries iss although the metadata does not advertise authorization_response_iss_parameter_supported',
    )
  }
  return response.code
}

/**
 * A callback URL given by hand (pasted, `--callback-url`, or relayed from another machine): it must
 * be the redirect URI with the response in its query, else it is a usage error found before any
 * request. Its parameters are then validated like the listener's.
 */
export function callbackFromText(text: string, redirectUri: string): URL {
  let callback: URL
  try {
    callback = new URL(text.trim())
  } catch {
    throw new CliError('usage_error', 'the callback URL is not a URL', {
      hint: "paste the whole address from the browser's address bar, starting with http://",
    })
  }
  const expected = new URL(redirectUri)
  if (callback.origin !== expected.origin || callback.pathname !== expected.pathname) {
    throw new CliError(
      'usage_error',
      `the callback URL is not the redirect URI ${redirectUri}: it starts ${callback.origin}${callback.pathname}`,
      { hint: 'paste the address the browser landed on after signing in' },
    )
  }
  return callback
}

/** A POSIX shell word: single quotes, each `'` closed, escaped and reopened. */
export function shellWord(text: string): string {
  return `'${text.replace(/'/gu, `'\\''`)}'`
}

/**
 * The command to run on a machine with a browser. A pushed request's URL has no `redirect_uri`,
 * so the command carries it.
 */
export function relayCommand(authorization: Authorization, redirectUri: string): string {
  const pushed = authorization.par === null ? '' : ` --redirect-uri ${shellWord(redirectUri)}`
  return `pkce relay ${shellWord(authorization.url.href)}${pushed}`
}

/**
 * The callback typed in rather than received: `--paste` asks for it on the terminal, `--remote`
 * reads the line `pkce relay` printed on the other machine. Validated like the listener's.
 */
export async function pastedCode(
  authorization: Authorization,
  redirectUri: string,
  context: { as: AuthorizationServer; issuer: string },
  flow: Flow,
  ctx: Ctx,
): Promise<string> {
  const line = await ctx.io.readLine('Paste the callback URL: ', ctx.signal)
  flow.lap('authorize')
  ctx.reporter.step('Callback received')
  return validateCallback(
    callbackFromText(line, redirectUri),
    authorization.request.state,
    context,
    flow,
  )
}

/** The listener page for a failed run. */
export function failurePage(error: unknown, ctx: Ctx): Outcome {
  if (!isCliError(error))
    return {
      ok: false,
      title: 'Sign-in failed',
      message: 'pkce hit an internal error; see the terminal.',
    }
  // docs/security.md LL-7, D-1: callback-stage failures come from the query, so the page names
  // only our code. Later ones come from the back channel: shown redacted (SO-2), escaped by the page.
  const message =
    error.stage === 'callback'
      ? `The callback was refused (${error.code}).`
      : `${ctx.secrets.redact(error.message)} (${error.code})`
  return { ok: false, title: 'Sign-in failed', message: `${message} See the terminal for details.` }
}
