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
  isPlainObject,
  oauthErrorFields,
  rejectRedirect,
} from './response.js'

/** The token types RFC 7009 §2.1 registers for `token_type_hint`. */
export type TokenTypeHint = 'refresh_token' | 'access_token'

/** The endpoint, or a clear failure when the metadata offers no revocation endpoint. */
export function revocationEndpoint(as: AuthorizationServer): URL {
  if (as.revocation_endpoint === undefined) {
    throw new CliError('revocation_unsupported', 'the metadata has no revocation_endpoint', {
      stage: 'revocation',
      hint: 'this server does not advertise token revocation (RFC 7009; RFC 8414 §2); the token stays valid until it expires',
    })
  }
  return new URL(as.revocation_endpoint)
}

/**
 * POSTs `token` and `token_type_hint` to the revocation endpoint with the client's credentials,
 * as the token endpoint gets them.
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
 */
export function revocationRequest(
  as: AuthorizationServer,
  credentials: ClientCredentials,
  token: string,
  tokenTypeHint: TokenTypeHint | undefined,
  http: Http,
  headers: Record<string, string> = {},
): Promise<Response> {
  const params = new URLSearchParams({ token })
  if (tokenTypeHint !== undefined) params.set('token_type_hint', tokenTypeHint)
  return authenticatedPost(
    http,
    { url: revocationEndpoint(as), stage: 'revocation', params, headers },
    credentials,
  )
}

/**
 * Validates a revocation response: 200 means revoked, or the token was already invalid; its body
 * is ignored. A 503, an RFC 6749 §5.2 error body or a 401 with `WWW-Authenticate` is
 * `revocation_error` (exit 3); any other status `revocation_invalid` (exit 4).
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.2
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.2.1
 */
export async function processRevocationResponse(response: Response): Promise<void> {
  rejectRedirect(response, 'revocation', 'revocation endpoint')
  if (response.status === 200) return
  const text = await response.text()
  if (response.status === 503) {
    const retryAfter = response.headers.get('retry-after')
    throw new CliError(
      'revocation_error',
      `token revocation unavailable: HTTP 503${retryAfter === null ? '' : `, Retry-After: ${excerpt(retryAfter, 100)}`}`,
      {
        stage: 'revocation',
        status: 503,
        hint: 'RFC 7009 §2.2.1: the token was not revoked and is still valid; try again later',
      },
    )
  }
  let body: unknown
  if (isJsonContentType(response.headers.get('content-type'))) {
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
  }
  const oauth = response.status >= 400 && isPlainObject(body) ? oauthErrorFields(body) : undefined
  if (oauth !== undefined) {
    throw new CliError(
      'revocation_error',
      `token revocation rejected: ${describeOAuthError(oauth)}`,
      {
        stage: 'revocation',
        status: response.status,
        oauth,
        hint: revocationErrorHint(oauth.error),
      },
    )
  }
  const challenge = response.headers.get('www-authenticate')
  if (response.status === 401 && challenge !== null) {
    throw new CliError(
      'revocation_error',
      `token revocation rejected: HTTP 401, WWW-Authenticate: ${excerpt(challenge)}`,
      {
        stage: 'revocation',
        status: 401,
        hint: revocationErrorHint('invalid_client'),
      },
    )
  }
  throw new CliError(
    'revocation_invalid',
    `the revocation endpoint answered an unexpected status (${describeBody(response, text)})`,
    { stage: 'revocation', status: response.status },
  )
}

function revocationErrorHint(error: string): string | undefined {
  switch (error) {
    case 'unsupported_token_type':
      return 'RFC 7009 §2.2.1: this server does not revoke this type of token; an access token it cannot revoke stays valid until it expires'
    case 'invalid_client':
    case 'unauthorized_client':
      return 'the revocation endpoint authenticates the client as the token endpoint does: check --client-id and the client authentication (--client-secret-file, --client-auth, --private-key-file)'
    case 'invalid_request':
      return 'RFC 7009 §2.1: the request needs token, and the client authentication the server expects'
    default:
      return undefined
  }
}
