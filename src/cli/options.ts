import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import type { BrowserMode, LoginOptions } from '../commands/login.js'
import type { ClientAuth } from '../oauth/client-auth.js'
import { isLoopbackHost } from '../oauth/endpoint.js'
import { checkCodeVerifier } from '../oauth/pkce.js'
import type { AuthorizationRequestOptions, DpopOptions } from '../commands/flow.js'
import { toAssertions } from './assertion-options.js'
import type { RawAssertionOptions } from './assertion-options.js'
import { DEFAULT_REDIRECT_URI, toHttpSettings } from './flags.js'
import type { RawHttpOptions } from './flags.js'

export interface RawClientOptions {
  domain?: string
  issuer?: string
  clientId?: string
  clientSecretFile?: string
  clientAuth: 'client_secret_post' | 'client_secret_basic'
  privateKeyFile?: string
  clientSecret?: string
}

export interface RawAuthorizationOptions {
  audience?: string
  resource?: string[]
  scope: string
  organization?: string
  invitation?: string
  connection?: string
  prompt?: string
  maxAge?: number
  loginHint?: string
  responseMode?: string
  authorizationDetails?: string
  param?: [string, string][]
  codeVerifier?: string
  state?: string
  nonce?: string
  redirectUri?: string
  port?: number
}

export interface RawDpopOptions {
  dpop?: boolean
  dpopAlg?: string
  dpopKey?: string
  allowDpopDowngrade?: boolean
  par?: boolean
}

export interface RawLoginOptions
  extends
    RawClientOptions,
    RawAuthorizationOptions,
    RawHttpOptions,
    RawDpopOptions,
    RawAssertionOptions {
  /** `--no-browser` makes it false, `--browser <command>` a string; commander's default is true. */
  browser?: string | boolean
  timeout: number
  clockTolerance: number
  json?: boolean
  print?: 'access_token' | 'id_token' | 'refresh_token'
}

/** `--domain` or `--issuer` to the exact issuer URL; plain http only on loopback (TL-3). */
export function toIssuer(raw: RawClientOptions): string {
  if (raw.domain !== undefined) {
    if (raw.domain.includes('/')) {
      throw new CliError('usage_error', `--domain takes a host name, not a URL: ${raw.domain}`, {
        hint: 'use --issuer <url> for a full URL',
      })
    }
    try {
      return new URL(`https://${raw.domain}/`).href
    } catch {
      throw new CliError('usage_error', `--domain ${raw.domain} is not a host name`)
    }
  }
  if (raw.issuer === undefined) {
    throw new CliError(
      'usage_error',
      'say which server: --domain <tenant>.auth0.com or --issuer <url>',
    )
  }
  let url: URL
  try {
    url = new URL(raw.issuer)
  } catch {
    throw new CliError('usage_error', `--issuer ${raw.issuer} is not a URL`)
  }
  if (url.search !== '' || url.hash !== '')
    throw new CliError('usage_error', 'an issuer has no query or fragment')
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new CliError(
      'insecure_not_loopback',
      `plain http is only accepted for a loopback issuer, not ${url.host}`,
      {
        hint: 'use https',
      },
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CliError('usage_error', `--issuer must be an https URL, not ${url.protocol}`)
  }
  // Issuers are compared exactly (RFC 8414 §3.3), so keep what the user typed: URL would add a
  // "/" to a bare origin, and Google's issuer has none while Auth0's ends with one.
  return raw.issuer
}

/** The client and how it authenticates; secrets and keys only from files or stdin (SO-1). */
export async function toClient(
  raw: RawClientOptions,
  ctx: Ctx,
): Promise<{ client_id: string; auth: ClientAuth }> {
  // Checked here, not with commander's requiredOption, so an unknown flag is reported first.
  const clientId = raw.clientId
  if (clientId === undefined || clientId === '') {
    throw new CliError('usage_error', '--client-id <id> is required', {
      hint: "the application's Client ID",
    })
  }
  if (raw.clientSecret !== undefined) {
    throw new CliError(
      'secret_on_argv',
      'secrets are not accepted as flag values: other users see them in ps and shell history',
      {
        hint: 'use --client-secret-file <path>, or --client-secret-file - to read it from stdin',
      },
    )
  }
  const { readPrivateKey, readSecret } = await import('../commands/inputs.js')
  if (raw.privateKeyFile !== undefined) {
    const { key, alg } = await readPrivateKey(raw.privateKeyFile, 'the private key', ctx)
    return { client_id: clientId, auth: { method: 'private_key_jwt', key, alg } }
  }
  if (raw.clientSecretFile !== undefined) {
    const secret = await readSecret(raw.clientSecretFile, 'the client secret', ctx)
    return { client_id: clientId, auth: { method: raw.clientAuth, secret } }
  }
  return { client_id: clientId, auth: { method: 'none' } }
}

/** The loopback redirect URI: `--redirect-uri`, `$PKCE_REDIRECT_URI`, or the default with `--port`. */
export function toRedirectUri(raw: RawAuthorizationOptions, env: Ctx['env']): URL {
  const given = raw.redirectUri ?? (raw.port === undefined ? env.PKCE_REDIRECT_URI : undefined)
  if (given === undefined || given === '') {
    const url = new URL(DEFAULT_REDIRECT_URI)
    if (raw.port !== undefined) url.port = String(raw.port)
    return url
  }
  let url: URL
  try {
    url = new URL(given)
  } catch {
    throw new CliError('usage_error', `the redirect URI ${given} is not a URL`)
  }
  if (url.protocol !== 'http:' || !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw new CliError(
      'usage_error',
      `the redirect URI must be http on localhost, 127.0.0.1 or [::1], not ${given}`,
      {
        hint: 'pkce receives the code on a loopback listener (RFC 8252 §7.3)',
      },
    )
  }
  if (url.hash !== '') throw new CliError('usage_error', 'a redirect URI has no fragment')
  return url
}

/** The optional authorization parameters in wire names, in a stable order. */
export function toExtraParams(raw: RawAuthorizationOptions): [string, string][] {
  const extra: [string, string][] = []
  const add = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) extra.push([name, String(value)])
  }
  add('audience', raw.audience)
  for (const resource of raw.resource ?? []) add('resource', resource)
  add('organization', raw.organization)
  add('invitation', raw.invitation)
  add('connection', raw.connection)
  add('prompt', raw.prompt)
  add('max_age', raw.maxAge)
  add('login_hint', raw.loginHint)
  add('response_mode', raw.responseMode)
  extra.push(...(raw.param ?? []))
  return extra
}

function toBrowser(
  raw: RawLoginOptions,
  env: Ctx['env'],
  splitCommand: (command: string) => string[],
): BrowserMode {
  if (raw.browser === false) return { kind: 'none' }
  const command = typeof raw.browser === 'string' ? raw.browser : env.PKCE_BROWSER
  if (command !== undefined && command !== '')
    return { kind: 'command', argv: splitCommand(command) }
  return { kind: 'system' }
}

/**
 * `--authorization-details`: inline JSON or `@file`, which must be a JSON array of objects each
 * with a string `type` (RFC 9396 §2); sent compact.
 */
export async function toAuthorizationDetails(
  value: string | undefined,
): Promise<string | undefined> {
  if (value === undefined) return undefined
  let text = value
  if (value.startsWith('@')) {
    const { readFile } = await import('node:fs/promises')
    try {
      text = await readFile(value.slice(1), 'utf8')
    } catch (error) {
      throw new CliError(
        'usage_error',
        `cannot read --authorization-details file ${value.slice(1)} (${(error as { code?: string }).code ?? String(error)})`,
      )
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new CliError('usage_error', '--authorization-details is not valid JSON', {
      hint: 'e.g. \'[{"type":"payment_initiation"}]\' or @details.json',
    })
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length === 0 ||
    !parsed.every(
      (item) =>
        typeof item === 'object' &&
        item !== null &&
        !Array.isArray(item) &&
        typeof (item as { type?: unknown }).type === 'string',
    )
  ) {
    throw new CliError(
      'usage_error',
      '--authorization-details must be a JSON array of objects, each with a string "type" (RFC 9396 §2)',
    )
  }
  return JSON.stringify(parsed)
}

async function toDpopOptions(raw: RawDpopOptions, ctx: Ctx): Promise<DpopOptions | undefined> {
  if (raw.dpop !== true) {
    if (raw.dpopAlg !== undefined || raw.dpopKey !== undefined || raw.allowDpopDowngrade === true) {
      throw new CliError(
        'usage_error',
        '--dpop-alg, --dpop-key and --allow-dpop-downgrade need --dpop',
      )
    }
    return undefined
  }
  const { readPrivateKey } = await import('../commands/inputs.js')
  const key =
    raw.dpopKey === undefined ? undefined : await readPrivateKey(raw.dpopKey, 'the DPoP key', ctx)
  return {
    alg: raw.dpopAlg ?? key?.alg,
    key: key?.key,
    allowDowngrade: raw.allowDpopDowngrade === true,
  }
}

/** Everything `login` and `par` share, validated: server, client, request, DPoP, HTTP. */
export async function toAuthorizationRequestOptions(
  raw: RawClientOptions & RawAuthorizationOptions & RawHttpOptions & RawDpopOptions,
  ctx: Ctx,
): Promise<AuthorizationRequestOptions> {
  const issuer = toIssuer(raw)
  if (raw.codeVerifier !== undefined) {
    checkCodeVerifier(raw.codeVerifier)
    ctx.reporter.warn(
      'code_verifier_on_argv',
      '--code-verifier is visible to other local users (ps); use it only for reproducible debugging',
    )
  }
  const extra = toExtraParams(raw)
  const details = await toAuthorizationDetails(raw.authorizationDetails)
  if (details !== undefined) extra.push(['authorization_details', details])
  return {
    issuer,
    client: await toClient(raw, ctx),
    redirectUri: toRedirectUri(raw, ctx.env),
    scope: raw.scope,
    extra,
    codeVerifier: raw.codeVerifier,
    state: raw.state,
    nonce: raw.nonce,
    dpop: await toDpopOptions(raw, ctx),
    http: toHttpSettings(raw),
  }
}

export async function toLoginOptions(raw: RawLoginOptions, ctx: Ctx): Promise<LoginOptions> {
  const { splitCommand } = await import('../net/browser.js')
  return {
    ...(await toAuthorizationRequestOptions(raw, ctx)),
    par: raw.par === true,
    maxAgeSeconds: raw.maxAge,
    browser: toBrowser(raw, ctx.env, splitCommand),
    timeoutMs: raw.timeout * 1000,
    clockToleranceSeconds: raw.clockTolerance,
    assertions: toAssertions(raw),
  }
}
