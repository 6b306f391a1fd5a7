import { CliError } from '../errors.js'
import { excerpt } from '../sanitize.js'
import { endpointProblem } from './endpoint.js'
import type { AuthorizationServer } from './discovery.js'
import { PROTECTED_PARAMETERS } from './parameters.js'
import type { ResponseMode } from './parameters.js'

/** The authorization request, in wire names; `extra` holds every optional parameter in order. */
export interface AuthorizationParameters {
  client_id: string
  redirect_uri: string
  scope: string
  state: string
  nonce: string | undefined
  code_challenge: string
  dpop_jkt: string | undefined
  extra: [string, string][]
}

/** The request's parameters as a form: used for the query string and for a PAR body alike. */
export function authorizationParams(params: AuthorizationParameters): URLSearchParams {
  const search = new URLSearchParams({
    response_type: 'code',
    client_id: params.client_id,
    redirect_uri: params.redirect_uri,
    scope: params.scope,
    state: params.state,
  })
  if (params.nonce !== undefined) search.set('nonce', params.nonce)
  search.set('code_challenge', params.code_challenge)
  search.set('code_challenge_method', 'S256')
  if (params.dpop_jkt !== undefined) search.set('dpop_jkt', params.dpop_jkt)
  for (const [name, value] of params.extra) search.append(name, value)
  return search
}

function checkedAuthorizationEndpoint(as: AuthorizationServer, issuer: URL): URL {
  const problem = endpointProblem(as.authorization_endpoint, issuer)
  if (problem !== undefined) {
    throw new CliError(
      'unsafe_authorization_endpoint',
      `the authorization_endpoint "${excerpt(as.authorization_endpoint)}" is refused: ${problem}`,
      { stage: 'authorize' },
    )
  }
  const url = new URL(as.authorization_endpoint)
  for (const name of PROTECTED_PARAMETERS) {
    if (url.searchParams.has(name)) {
      throw new CliError(
        'conflicting_authorization_endpoint_param',
        `the authorization_endpoint already carries "${name}" in its query`,
        { stage: 'authorize' },
      )
    }
  }
  return url
}

/**
 * Builds the authorization URL on `authorization_endpoint`, keeping its own query (`?p=policy`) and
 * percent-encoding every value. The endpoint is re-checked here, right before a browser sees it.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3
 */
export function buildAuthorizationUrl(
  as: AuthorizationServer,
  issuer: URL,
  search: URLSearchParams,
): URL {
  const url = checkedAuthorizationEndpoint(as, issuer)
  for (const [name, value] of search) url.searchParams.append(name, value)
  return url
}

/**
 * The front-channel URL after a pushed request: the endpoint with one `client_id` and one
 * `request_uri` and nothing else.
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-4
 */
export function buildParAuthorizationUrl(
  as: AuthorizationServer,
  issuer: URL,
  clientId: string,
  requestUri: string,
): URL {
  const url = checkedAuthorizationEndpoint(as, issuer)
  url.searchParams.append('client_id', clientId)
  url.searchParams.append('request_uri', requestUri)
  return url
}

/** How a response reaches the loopback listener: the query of a GET, a form POST, or the fragment. */
export type ResponseChannel = 'query' | 'form_post' | 'fragment'

/**
 * The channel a response mode uses with `response_type=code`; `jwt` alone means the default
 * mode for code, `query.jwt`.
 * @see https://openid.net/specs/oauth-v2-jarm.html#section-2.3.4
 */
export function responseChannel(mode: ResponseMode): ResponseChannel {
  if (mode === 'jwt') return 'query'
  return mode.replace('.jwt', '') as ResponseChannel
}

/** The JARM modes: the response is one signed JWT in the `response` parameter. */
export function isJarm(mode: ResponseMode): boolean {
  return mode === 'jwt' || mode.endsWith('.jwt')
}

export interface AuthorizationResponseExpectations {
  state: string
  issuer: string
  /** Metadata `authorization_response_iss_parameter_supported` (RFC 9207 §3). */
  issRequired: boolean
}

export interface AuthorizationResponse {
  code: string
  /** `iss` came although the metadata did not advertise it; accepted because it was equal. */
  issUnadvertised: boolean
}

const UNREQUESTED = ['id_token', 'token', 'response', 'access_token'] as const

/**
 * Checks the redirect back to the loopback listener in the order that keeps an attacker from
 * steering the flow: duplicates, `iss`, `state`, `error`, `code`, then unrequested parameters.
 * Nothing here reaches the token endpoint unless every check passed.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 */
export function validateAuthorizationResponse(
  callback: URL | URLSearchParams,
  expected: AuthorizationResponseExpectations,
): AuthorizationResponse {
  const params = callback instanceof URL ? callback.searchParams : callback
  const stage = 'callback' as const
  if (!['code', 'state', 'error', 'iss'].some((name) => params.has(name))) {
    throw new CliError(
      'empty_authorization_response',
      'the callback carried none of code, state, error or iss',
      {
        stage,
        hint: 'the server may have answered in the URL fragment (response_mode=fragment) or with a form POST: pass the same --response-mode the server uses',
      },
    )
  }
  const seen = new Set<string>()
  for (const name of params.keys()) {
    if (seen.has(name)) {
      throw new CliError(
        'duplicate_parameter',
        `the callback repeats the parameter "${excerpt(name)}"`,
        {
          stage,
        },
      )
    }
    seen.add(name)
  }
  const iss = params.get('iss')
  let issUnadvertised = false
  if (iss === null) {
    if (expected.issRequired) {
      throw new CliError(
        'iss_missing',
        'the callback has no iss although the server advertises authorization_response_iss_parameter_supported',
        { stage, hint: 'RFC 9207: the response may come from another server (mix-up attack)' },
      )
    }
  } else if (iss !== expected.issuer) {
    throw new CliError(
      'iss_mismatch',
      `the callback iss "${excerpt(iss)}" is not the issuer "${expected.issuer}"`,
      { stage, hint: 'RFC 9207: the response comes from another server (mix-up attack)' },
    )
  } else {
    issUnadvertised = !expected.issRequired
  }
  const state = params.get('state')
  if (state === null) {
    throw new CliError('state_missing', 'the callback has no state', {
      stage,
      hint: 'the response does not belong to this run; start again',
    })
  }
  if (state !== expected.state) {
    // security.md SN-5: show what came, never what was expected.
    throw new CliError(
      'state_mismatch',
      `the callback state "${excerpt(state, 80)}" does not match`,
      {
        stage,
        hint: 'the response does not belong to this run (another tab, a replay, or a forged request); start again',
      },
    )
  }
  const error = params.get('error')
  if (error !== null) {
    const oauth = {
      error,
      ...optional('error_description', params),
      ...optional('error_uri', params),
    }
    const description =
      oauth.error_description === undefined ? '' : `: ${excerpt(oauth.error_description, 500)}`
    throw new CliError(
      'authorization_error',
      `authorization failed: ${excerpt(error, 100)}${description}`,
      {
        stage,
        oauth,
        hint: authorizationErrorHint(error),
      },
    )
  }
  const code = params.get('code')
  if (code === null || code === '') {
    throw new CliError('code_missing', 'the callback has neither code nor error', { stage })
  }
  for (const name of UNREQUESTED) {
    if (params.has(name)) {
      throw new CliError(
        'unexpected_response_parameter',
        `the callback carries "${name}", which the code flow never asks for`,
        {
          stage,
          ...(name === 'response'
            ? { hint: 'a JARM response: pass --response-mode jwt (or query.jwt, form_post.jwt)' }
            : {}),
        },
      )
    }
  }
  return { code, issUnadvertised }
}

function optional(
  name: 'error_description' | 'error_uri',
  params: URLSearchParams,
): Partial<Record<typeof name, string>> {
  const value = params.get(name)
  return value === null ? {} : { [name]: value }
}

function authorizationErrorHint(error: string): string | undefined {
  switch (error) {
    case 'login_required':
    case 'consent_required':
    case 'interaction_required':
      return 'prompt=none needs an existing session (and consent); run without --prompt none'
    case 'access_denied':
      return 'the user or a rule denied the request'
    case 'unauthorized_client':
      return 'check the application: grant types, callback URLs, and that it may use this connection'
    default:
      return undefined
  }
}
