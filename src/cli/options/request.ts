import { InvalidArgumentError, Option } from 'commander'
import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { AuthorizationRequest } from '../../commands/authorize-step.js'
import { PROTECTED_PARAMETERS, RESPONSE_MODES } from '../../oauth/parameters.js'
import type { ResponseMode } from '../../oauth/parameters.js'
import { collect, integer, withDefault } from './values.js'

// The authorization request's parameters: every optional /authorize parameter Auth0 documents,
// `--param` for the rest, and the one-time values a debugging session may fix.

export const DEFAULT_SCOPE = 'openid profile email'

export interface RawRequestOptions {
  audience?: string
  resource?: string[]
  scope?: string
  organization?: string
  invitation?: string
  connection?: string
  prompt?: string
  maxAge?: number
  loginHint?: string
  responseMode?: ResponseMode
  authorizationDetails?: string
  param?: [string, string][]
  codeVerifier?: string
  state?: string
  nonce?: string
  par?: boolean
}

function keyValue(value: string, previous: [string, string][] = []): [string, string][] {
  const at = value.indexOf('=')
  if (at <= 0) throw new InvalidArgumentError('expected key=value')
  return [...previous, [value.slice(0, at), value.slice(at + 1)]]
}

/** `--audience`: one meaning everywhere, the API asked for and the `aud` a token must carry. */
export function audienceOption(): Option {
  return new Option(
    '--audience <api>',
    "API identifier (Auth0 audience): asked for, and expected in the access token's aud",
  )
}

/** `--scope`: the scopes asked for. */
function scopeOption(): Option {
  return new Option(
    '--scope <scope>',
    withDefault('space-separated scopes; add offline_access for a refresh token', DEFAULT_SCOPE),
  )
}

/**
 * The request fields a token is checked against (`--scope`, `--audience`, `--max-age`, `--nonce`):
 * `exchange --code` takes these alone, since the request was made elsewhere.
 */
export function addExpectedRequestOptions(command: Command): Command {
  return command
    .addOption(audienceOption())
    .addOption(scopeOption())
    .option(
      '--max-age <seconds>',
      'maximum authentication age; auth_time is then checked',
      integer(0, 10 ** 9),
    )
    .option('--nonce <nonce>', 'fix the nonce value (exchange: the nonce that was sent)')
}

export function addRequestOptions(command: Command): Command {
  return addExpectedRequestOptions(command)
    .option('--resource <uri>', 'RFC 8707 resource indicator (repeatable)', collect)
    .option('--organization <id|name>', 'Auth0 organization')
    .option('--invitation <ticket>', 'Auth0 organization invitation ticket id')
    .option('--connection <name>', 'Auth0 connection to use, skipping the login choice')
    .option('--prompt <prompt>', 'none, login, consent or select_account')
    .option('--login-hint <hint>', 'prefill the username')
    .addOption(
      new Option(
        '--response-mode <mode>',
        'response_mode: query (default), form_post, fragment, or JARM jwt, query.jwt, form_post.jwt, fragment.jwt',
      ).choices(RESPONSE_MODES),
    )
    .option(
      '--authorization-details <json|@file>',
      'RFC 9396 authorization_details: a JSON array of objects with a string "type"',
    )
    .option('--param <key=value>', 'any other authorization parameter (repeatable)', keyValue)
    .option(
      '--code-verifier <verifier>',
      'fix the code_verifier (reproducible debugging; visible in ps)',
    )
    .option('--state <state>', 'fix the state value')
}

export function addParOption(command: Command): Command {
  return command.option(
    '--par',
    'push the authorization request first (RFC 9126); automatic when the server requires it',
  )
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
    const { readTextFile } = await import('../../commands/inputs.js')
    text = await readTextFile(value.slice(1), '--authorization-details file')
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

/** Parameters that have a flag of their own: `--param` would send them twice (RFC 6749 §3.1). */
const FLAG_PARAMETERS = new Map([
  ['audience', '--audience'],
  ['organization', '--organization'],
  ['invitation', '--invitation'],
  ['connection', '--connection'],
  ['prompt', '--prompt'],
  ['max_age', '--max-age'],
  ['login_hint', '--login-hint'],
  ['response_mode', '--response-mode'],
  ['authorization_details', '--authorization-details'],
])

/**
 * `--param` pairs. A parameter pkce sets itself is refused (docs/security.md AR-1), and so is one
 * with a flag of its own, which RFC 6749 §3.1 forbids sending twice. `resource` may repeat
 * (RFC 8707 §2), so `--param resource=` stays allowed beside `--resource`.
 */
export function toParams(pairs: [string, string][] | undefined): [string, string][] {
  for (const [name] of pairs ?? []) {
    const flag = FLAG_PARAMETERS.get(name)
    if (flag !== undefined) {
      throw new CliError('usage_error', `"${name}" has a flag of its own: use ${flag}`, {
        hint: 'each parameter is sent once; --param is for parameters pkce has no flag for',
      })
    }
    if ((PROTECTED_PARAMETERS as readonly string[]).includes(name)) {
      throw new CliError(
        'protected_parameter',
        `"${name}" is set by pkce itself and cannot be passed with --param`,
        { hint: `use the flag for it, or drop --param ${name}=…` },
      )
    }
  }
  return pairs ?? []
}

/** The request as typed fields, checked: a fixed verifier must be valid (RFC 7636 §4.1). */
export async function toAuthorizationRequest(
  raw: RawRequestOptions,
  ctx: Ctx,
): Promise<AuthorizationRequest> {
  if (raw.codeVerifier !== undefined) {
    const { checkCodeVerifier } = await import('../../oauth/pkce.js')
    checkCodeVerifier(raw.codeVerifier)
    ctx.reporter.warn(
      'code_verifier_on_argv',
      '--code-verifier is visible to other local users (ps); use it only for reproducible debugging',
    )
  }
  const params = toParams(raw.param)
  return {
    scope: raw.scope ?? DEFAULT_SCOPE,
    audience: raw.audience,
    resources: raw.resource ?? [],
    organization: raw.organization,
    invitation: raw.invitation,
    connection: raw.connection,
    prompt: raw.prompt,
    maxAgeSeconds: raw.maxAge,
    loginHint: raw.loginHint,
    responseMode: raw.responseMode,
    authorizationDetails: await toAuthorizationDetails(raw.authorizationDetails),
    params,
    codeVerifier: raw.codeVerifier,
    state: raw.state,
    nonce: raw.nonce,
    par: raw.par === true,
  }
}
