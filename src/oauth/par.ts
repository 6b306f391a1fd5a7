import { CliError } from '../errors.js'
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

export interface ParResponse {
  request_uri: string
  expires_in: number
  /** RFC 9126 §2.2 says 201; a 200 with a valid body is accepted with a warning (D-2). */
  status: number
}

/** The endpoint, or a clear failure when the metadata does not offer PAR. */
export function parEndpoint(as: AuthorizationServer): URL {
  if (as.pushed_authorization_request_endpoint === undefined) {
    throw new CliError(
      'metadata_invalid',
      'the metadata has no pushed_authorization_request_endpoint',
      {
        stage: 'par',
        hint: 'this server does not offer PAR (on Auth0: an Enterprise feature, enabled per tenant); drop --par',
      },
    )
  }
  return new URL(as.pushed_authorization_request_endpoint)
}

/**
 * POSTs every authorization parameter, with the client's credentials, to the PAR endpoint.
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-2.1
 */
export function pushedAuthorizationRequest(
  as: AuthorizationServer,
  credentials: ClientCredentials,
  params: URLSearchParams,
  http: Http,
  headers: Record<string, string> = {},
): Promise<Response> {
  return authenticatedPost(
    http,
    { url: parEndpoint(as), stage: 'par', params, headers },
    credentials,
  )
}

// RFC 9126 §2.3: besides RFC 6749 §5.2 JSON, these statuses are the PAR endpoint's own errors.
const PAR_ERROR_STATUSES = new Set([405, 413, 429])

/**
 * Validates a PAR response: 201 (or 200, with a warning) and a JSON object with a non-empty
 * string `request_uri` and a positive integer `expires_in` (security.md PAR-2, D-2).
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-2.2
 */
export async function processParResponse(
  response: Response,
  publicClient: boolean,
): Promise<ParResponse> {
  rejectRedirect(response, 'par', 'PAR endpoint')
  const text = await response.text()
  let body: unknown
  if (isJsonContentType(response.headers.get('content-type'))) {
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
  }
  if (response.status >= 400) {
    const oauth = isPlainObject(body) ? oauthErrorFields(body) : undefined
    if (oauth !== undefined || PAR_ERROR_STATUSES.has(response.status)) {
      const what = oauth === undefined ? describeBody(response, text) : describeOAuthError(oauth)
      throw new CliError('par_error', `the pushed authorization request was rejected: ${what}`, {
        stage: 'par',
        status: response.status,
        oauth,
        hint: publicClient
          ? 'Auth0 accepts PAR only from confidential clients: add --client-secret-file <path> or --private-key-file <key>'
          : undefined,
      })
    }
  }
  if (response.status !== 201 && response.status !== 200) {
    throw new CliError(
      'par_unexpected_status',
      `the PAR endpoint answered an unexpected status (${describeBody(response, text)})`,
      {
        stage: 'par',
        status: response.status,
      },
    )
  }
  const invalid = (problem: string): CliError =>
    new CliError(
      'par_invalid_response',
      `the PAR response ${problem} (${describeBody(response, text)})`,
      {
        stage: 'par',
        status: response.status,
      },
    )
  if (!isPlainObject(body)) throw invalid('is not a JSON object')
  if (typeof body.request_uri !== 'string' || body.request_uri === '')
    throw invalid('has no request_uri')
  if (
    typeof body.expires_in !== 'number' ||
    !Number.isInteger(body.expires_in) ||
    body.expires_in <= 0
  ) {
    throw invalid('has no positive integer expires_in')
  }
  return { request_uri: body.request_uri, expires_in: body.expires_in, status: response.status }
}
