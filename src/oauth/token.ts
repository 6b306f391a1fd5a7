import { CliError } from '../errors.js'
import { excerpt } from '../sanitize.js'
import { authenticatedPost } from './client-auth.js'
import type { ClientCredentials } from './client-auth.js'
import type { AuthorizationServer } from './discovery.js'
import type { Http } from './http.js'
import {
  describeBody,
  describeOAuthError,
  isJsonContentType,
  oauthErrorFields,
  readJsonObject,
  rejectRedirect,
} from './response.js'

/** A successful token response's members (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
export interface TokenResponse {
  access_token: string
  token_type: string
  expires_in?: number
  refresh_token?: string
  id_token?: string
  scope?: string
}

export interface ProcessedTokenResponse {
  tokens: TokenResponse
  warnings: { code: string; message: string }[]
}

/**
 * POSTs a form to the token endpoint with the client's credentials. Never retried here: a code
 * works once (security.md TR-5).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.5
 */
export function tokenRequest(
  as: AuthorizationServer,
  credentials: ClientCredentials,
  params: URLSearchParams,
  http: Http,
  headers: Record<string, string> = {},
): Promise<Response> {
  return authenticatedPost(
    http,
    { url: new URL(as.token_endpoint), stage: 'token', params, headers },
    credentials,
  )
}

/** The form of an authorization code exchange; `redirect_uri` byte-identical to the request's. */
export function authorizationCodeGrant(
  code: string,
  redirectUri: string,
  codeVerifier: string,
): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: codeVerifier,
  })
}

/**
 * The form of a refresh: the refresh token, and a narrower `scope` when asked for (never a wider
 * one: RFC 6749 §6).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export function refreshTokenGrant(refreshToken: string, scope?: string): URLSearchParams {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken })
  if (scope !== undefined) form.set('scope', scope)
  return form
}

/** An RFC 6749 §5.2 error body, or a 401 with `WWW-Authenticate`, as exit 3. */
export async function tokenErrorFrom(response: Response): Promise<CliError | undefined> {
  if (response.status < 400) return undefined
  const contentType = response.headers.get('content-type')
  const text = await response.clone().text()
  if (isJsonContentType(contentType)) {
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return undefined
    }
    const oauth =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? oauthErrorFields(body as Record<string, unknown>)
        : undefined
    if (oauth !== undefined) {
      return new CliError('token_error', `token request rejected: ${describeOAuthError(oauth)}`, {
        stage: 'token',
        status: response.status,
        oauth,
        hint: tokenErrorHint(oauth.error, oauth.error_description),
      })
    }
  }
  const challenge = response.headers.get('www-authenticate')
  if (response.status === 401 && challenge !== null) {
    return new CliError(
      'token_error',
      `token request rejected: HTTP 401, WWW-Authenticate: ${excerpt(challenge)}`,
      {
        stage: 'token',
        status: 401,
        hint: 'the client authentication failed; check the client id and secret or key',
      },
    )
  }
  return undefined
}

/**
 * RFC 6749 Appendix A.12 and A.17: `access-token` and `refresh-token` are `1*VSCHAR`, printable
 * ASCII; an ID token, a JWS compact serialization, is narrower still (RFC 7515 §7.1). Anything else
 * (an escape sequence, a newline) would reach a terminal or a CI log raw under `--print`.
 */
const VSCHAR = /^[\x20-\x7e]+$/u
const OUTSIDE_VSCHAR = (name: string): string =>
  `has ${name.startsWith('refresh') ? 'a' : 'an'} ${name} with characters outside printable ASCII (RFC 6749 Appendix A: 1*VSCHAR)`

/**
 * Validates a token response: HTTP 200, a JSON content type (security.md D-3), a JSON object with
 * a non-empty `access_token`, a `token_type` of Bearer or DPoP, and well-typed optional members.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
export async function processTokenResponse(
  response: Response,
  expect: { idToken: boolean },
): Promise<ProcessedTokenResponse> {
  rejectRedirect(response, 'token', 'token endpoint')
  const error = await tokenErrorFrom(response)
  if (error !== undefined) throw error
  if (!isJsonContentType(response.headers.get('content-type'))) {
    const text = await response.text()
    // security.md D-3: a body that looks like JSON is shown with its secrets masked, and said so.
    const looksJson = /^\s*[[{]/u.test(text) ? '; the body looks like JSON' : ''
    throw new CliError(
      'token_response_not_json',
      `the token endpoint did not answer JSON (${describeBody(response, text)})${looksJson}`,
      { stage: 'token', status: response.status },
    )
  }
  if (response.status !== 200) {
    throw new CliError(
      'token_response_invalid',
      `the token endpoint answered an unexpected status (${describeBody(response, await response.text())})`,
      { stage: 'token', status: response.status },
    )
  }
  const body = await readJsonObject(response, {
    stage: 'token',
    what: 'token response',
    code: 'token_response_invalid',
  })
  const warnings: ProcessedTokenResponse['warnings'] = []
  const invalid = (message: string): CliError =>
    new CliError('token_response_invalid', `the token response ${message}`, {
      stage: 'token',
      status: response.status,
    })
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw invalid('has no access_token')
  }
  if (!VSCHAR.test(body.access_token)) throw invalid(OUTSIDE_VSCHAR('access_token'))
  if (typeof body.token_type !== 'string' || !/^(bearer|dpop)$/iu.test(body.token_type)) {
    throw invalid(
      `has token_type ${JSON.stringify(typeof body.token_type === 'string' ? excerpt(body.token_type, 40) : body.token_type)}; expected Bearer or DPoP`,
    )
  }
  const tokens: TokenResponse = { access_token: body.access_token, token_type: body.token_type }
  if (body.expires_in !== undefined) {
    let expiresIn = body.expires_in
    if (typeof expiresIn === 'string' && /^\d+$/u.test(expiresIn)) {
      warnings.push({ code: 'expires_in_string', message: 'expires_in is a string, not a number' })
      expiresIn = Number(expiresIn)
    }
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0) {
      throw invalid('has an expires_in that is not a non-negative number')
    }
    tokens.expires_in = expiresIn
  }
  for (const name of ['refresh_token', 'id_token', 'scope'] as const) {
    const value = body[name]
    if (value === undefined) continue
    if (typeof value !== 'string') throw invalid(`has a ${name} that is not a string`)
    if (name !== 'scope' && !VSCHAR.test(value)) throw invalid(OUTSIDE_VSCHAR(name))
    tokens[name] = value
  }
  if (expect.idToken && tokens.id_token === undefined) {
    throw new CliError(
      'id_token_missing',
      'the token response has no id_token although openid was requested',
      {
        stage: 'token',
        hint: 'OIDC Core §3.1.3.3: an openid request gets an ID token',
      },
    )
  }
  if (!/no-store/iu.test(response.headers.get('cache-control') ?? '')) {
    warnings.push({
      code: 'token_response_cacheable',
      message: 'the token response lacks Cache-Control: no-store (RFC 6749 §5.1)',
    })
  }
  if (tokens.token_type !== 'Bearer' && tokens.token_type !== 'DPoP') {
    warnings.push({
      code: 'token_type_case',
      message: `token_type "${tokens.token_type}" is not in its registered casing`,
    })
  }
  return { tokens, warnings }
}

function tokenErrorHint(error: string, description: string | undefined): string | undefined {
  if (error === 'access_denied' && description === 'Unauthorized') {
    return "on Auth0 this means the application expects client authentication: set its Token Endpoint Authentication Method to 'None' for a public PKCE client, or pass --client-secret-file / --private-key-file"
  }
  if (error === 'invalid_grant') {
    return 'a code works once and lives about a minute (on Auth0); the code_verifier and redirect_uri must equal those of the authorization request; run the flow again'
  }
  if (error === 'invalid_client' || error === 'unauthorized_client') {
    return 'check --client-id and the client authentication (--client-secret-file, --client-auth, --private-key-file)'
  }
  return undefined
}
