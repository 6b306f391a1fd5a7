import { CliError } from '../errors.js'
import type { OAuthErrorFields } from '../errors.js'
import { excerpt } from '../sanitize.js'
import type { AuthorizationServer } from './discovery.js'
import type { Http } from './http.js'
import {
  describeBody,
  describeOAuthError,
  isJsonContentType,
  isPlainObject,
  oauthErrorFields,
  readJsonObject,
  rejectRedirect,
} from './response.js'
import { primaryChallenge } from './www-authenticate.js'

/** The claims of a UserInfo response: `sub` always, any others as the server sent them. */
export interface UserinfoClaims {
  sub: string
  [claim: string]: unknown
}

/**
 * A processed UserInfo response. `json` is a plain JSON object; `jwt` is a signed (or signed then
 * encrypted) UserInfo response, returned raw and NOT verified here: its signature, `iss` and `aud`
 * are the caller's to check before any claim in it is used.
 */
export type UserinfoResponse =
  { format: 'json'; claims: UserinfoClaims } | { format: 'jwt'; jwt: string }

/** The endpoint, or a clear failure when the metadata offers no UserInfo endpoint. */
export function userinfoEndpoint(as: AuthorizationServer): URL {
  if (as.userinfo_endpoint === undefined) {
    throw new CliError('userinfo_unsupported', 'the metadata has no userinfo_endpoint', {
      stage: 'userinfo',
      hint: 'this server publishes no OpenID Connect UserInfo endpoint (OIDC Discovery §3); the ID token carries the claims instead: pkce decode <id_token>',
    })
  }
  return new URL(as.userinfo_endpoint)
}

/**
 * GETs the UserInfo endpoint with the access token in the `Authorization` header, never in the
 * URL (security.md IT-13, DP-8): `Bearer <token>`, or `DPoP <token>` beside the proof, with `ath`,
 * that the caller passes as the `dpop` header.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#UserInfoRequest
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 */
export function userinfoRequest(
  as: AuthorizationServer,
  accessToken: string,
  tokenType: 'Bearer' | 'DPoP',
  http: Http,
  headers: Record<string, string> = {},
): Promise<Response> {
  const url = userinfoEndpoint(as)
  const hasProof = Object.keys(headers).some((name) => name.toLowerCase() === 'dpop')
  if (tokenType === 'DPoP' && !hasProof) {
    // A bug in the caller, not a user error: RFC 9449 §7.1 needs the proof beside the token.
    throw new Error('a DPoP-bound access token is presented with a DPoP proof header')
  }
  return http({
    method: 'GET',
    url,
    stage: 'userinfo',
    headers: {
      // OIDC Core §5.3.2: the answer is JSON, or a JWT when the client registered signing.
      accept: 'application/json, application/jwt',
      ...headers,
      authorization: `${tokenType} ${accessToken}`,
    },
  })
}

// A JWS (3 parts) or JWE (5 parts) compact serialization, base64url segments (RFC 7515 §7.1).
const COMPACT_JWT = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){2}(?:(?:\.[A-Za-z0-9_-]*){2})?$/u

/**
 * Validates a UserInfo response: 200 with a JSON object whose `sub` is a non-empty string, or 200
 * with `application/jwt`, returned unverified. A 401 or 403 with `WWW-Authenticate`, or an error
 * JSON body, is `userinfo_error` (exit 3) with the challenge explained.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#UserInfoResponse
 * @see https://openid.net/specs/openid-connect-core-1_0.html#UserInfoError
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 */
export async function processUserinfoResponse(response: Response): Promise<UserinfoResponse> {
  rejectRedirect(response, 'userinfo', 'UserInfo endpoint')
  if (response.status >= 400) throw await userinfoError(response)
  const contentType = response.headers.get('content-type')
  if (response.status === 200 && mediaType(contentType) === 'application/jwt') {
    const text = (await response.text()).trim()
    if (!COMPACT_JWT.test(text)) {
      throw new CliError(
        'userinfo_invalid',
        `the UserInfo response is labelled application/jwt but is not a compact JWT (${describeBody(response, text)})`,
        { stage: 'userinfo', status: 200 },
      )
    }
    return { format: 'jwt', jwt: text }
  }
  if (response.status !== 200) {
    throw new CliError(
      'userinfo_invalid',
      `the UserInfo endpoint answered an unexpected status (${describeBody(response, await response.text())})`,
      { stage: 'userinfo', status: response.status },
    )
  }
  const body = await readJsonObject(response, {
    stage: 'userinfo',
    what: 'UserInfo response',
    code: 'userinfo_invalid',
  })
  if (typeof body.sub !== 'string' || body.sub === '') {
    throw new CliError(
      'userinfo_invalid',
      'the UserInfo response has no sub (OIDC Core §5.3.2: sub is always returned)',
      { stage: 'userinfo', status: 200 },
    )
  }
  return { format: 'json', claims: body as UserinfoClaims }
}

/**
 * Throws unless the UserInfo `sub` is the ID token's: a different one means the response may be
 * about another user and must not be used (security.md IT-13).
 * @see https://openid.net/specs/openid-connect-core-1_0.html#UserInfoResponse
 */
export function checkUserinfoSubject(claims: { sub: string }, idTokenSub: string): void {
  if (claims.sub === idTokenSub) return
  throw new CliError(
    'userinfo_sub_mismatch',
    `the UserInfo sub "${excerpt(claims.sub, 100)}" is not the ID token's sub "${excerpt(idTokenSub, 100)}"`,
    {
      stage: 'userinfo',
      hint: 'OIDC Core §5.3.2: the UserInfo response must not be used; the access token may belong to another sign-in',
    },
  )
}

function mediaType(contentType: string | null): string {
  return contentType?.split(';')[0]?.trim().toLowerCase() ?? ''
}

/** The 4xx or 5xx: an RFC 6750 §3 challenge or error body is exit 3, anything else exit 4. */
async function userinfoError(response: Response): Promise<CliError> {
  const text = await response.text()
  let body: unknown
  if (isJsonContentType(response.headers.get('content-type'))) {
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
  }
  const fromBody = isPlainObject(body) ? oauthErrorFields(body) : undefined
  const header = response.headers.get('www-authenticate')
  if (header !== null) {
    const challenge = primaryChallenge(header)
    const fromChallenge =
      challenge?.params.error === undefined
        ? undefined
        : challengeFields(challenge.params as Record<string, string> & { error: string })
    const oauth = fromChallenge ?? fromBody
    return new CliError(
      'userinfo_error',
      `UserInfo request rejected: HTTP ${response.status}, WWW-Authenticate: ${excerpt(header)}`,
      {
        stage: 'userinfo',
        status: response.status,
        oauth,
        hint: userinfoErrorHint(oauth?.error, challenge?.scheme),
      },
    )
  }
  if (fromBody !== undefined) {
    return new CliError(
      'userinfo_error',
      `UserInfo request rejected: ${describeOAuthError(fromBody)}`,
      {
        stage: 'userinfo',
        status: response.status,
        oauth: fromBody,
        hint: userinfoErrorHint(fromBody.error, undefined),
      },
    )
  }
  const missing =
    response.status === 401 ? '; a 401 without WWW-Authenticate breaks RFC 6750 §3' : ''
  return new CliError(
    'userinfo_invalid',
    `the UserInfo endpoint answered an unexpected status (${describeBody(response, text)})${missing}`,
    { stage: 'userinfo', status: response.status },
  )
}

function challengeFields(params: Record<string, string> & { error: string }): OAuthErrorFields {
  const fields: OAuthErrorFields = { error: params.error }
  if (params.error_description !== undefined) fields.error_description = params.error_description
  if (params.error_uri !== undefined) fields.error_uri = params.error_uri
  return fields
}

function userinfoErrorHint(error: string | undefined, scheme: string | undefined): string {
  switch (error) {
    case 'invalid_token':
      return scheme?.toLowerCase() === 'dpop'
        ? 'RFC 9449 §7.1: the access token is expired or revoked, the proof is signed by another key than the one it is bound to, or a DPoP-bound token was sent as Bearer; present it as DPoP with a proof from its key, or refresh it'
        : 'RFC 6750 §3.1: the access token is expired, revoked, malformed or not meant for UserInfo (on Auth0, its audience must include /userinfo); refresh it or sign in again'
    case 'insufficient_scope':
      return 'RFC 6750 §3.1: the access token lacks the scope UserInfo needs; sign in again with --scope openid (and profile, email for those claims)'
    case 'invalid_request':
      return 'RFC 6750 §3.1: the request was malformed; the token goes in the Authorization header only, once'
    case 'use_dpop_nonce':
      return 'RFC 9449 §9: the server wants a DPoP proof carrying the nonce of its DPoP-Nonce header; retry once with a new proof'
    case 'invalid_dpop_proof':
      return 'RFC 9449 §7.1: the DPoP proof was refused; it must be signed by the key the token is bound to, with htm GET, htu the UserInfo endpoint and ath the hash of this token'
    case undefined:
      return scheme?.toLowerCase() === 'dpop'
        ? 'RFC 9449 §7.1: the server wants a DPoP-bound token presented as Authorization: DPoP with a proof; a Bearer token is not accepted here'
        : 'RFC 6750 §3.1: the server found no usable access token in the request'
    default:
      return `the server refused the access token (${excerpt(error, 100)}); RFC 6750 §3.1 and RFC 9449 §7.1 define invalid_token, insufficient_scope, invalid_dpop_proof and use_dpop_nonce`
  }
}
