import { CliError } from '../errors.js'
import { excerpt } from '../sanitize.js'
import { endpointProblem } from './endpoint.js'
import type { Http } from './http.js'
import { describeBody, readJsonObject } from './response.js'

/** The authorization server metadata `pkce` uses (RFC 8414 §2, OIDC Discovery §3). */
export interface AuthorizationServer {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri?: string
  userinfo_endpoint?: string
  revocation_endpoint?: string
  pushed_authorization_request_endpoint?: string
  require_pushed_authorization_requests?: boolean
  code_challenge_methods_supported?: string[]
  id_token_signing_alg_values_supported?: string[]
  dpop_signing_alg_values_supported?: string[]
  token_endpoint_auth_methods_supported?: string[]
  authorization_response_iss_parameter_supported?: boolean
  scopes_supported?: string[]
  response_modes_supported?: string[]
  authorization_signing_alg_values_supported?: string[]
  /** RFC 8705 §5: where a client presenting a certificate sends its requests instead. */
  mtls_endpoint_aliases?: Partial<Record<MtlsAliasedEndpoint, string>>
}

/** The endpoints an mTLS alias may replace: those a client authenticates at or presents a token to. */
export const MTLS_ALIASED = [
  'token_endpoint',
  'pushed_authorization_request_endpoint',
  'userinfo_endpoint',
  'revocation_endpoint',
] as const
export type MtlsAliasedEndpoint = (typeof MTLS_ALIASED)[number]

/** The metadata members that are URLs `pkce` may send requests to. */
export const ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'jwks_uri',
  'userinfo_endpoint',
  'revocation_endpoint',
  'pushed_authorization_request_endpoint',
] as const
const STRING_ARRAYS = [
  'code_challenge_methods_supported',
  'id_token_signing_alg_values_supported',
  'dpop_signing_alg_values_supported',
  'token_endpoint_auth_methods_supported',
  'scopes_supported',
  'response_modes_supported',
  'authorization_signing_alg_values_supported',
] as const
const BOOLEANS = [
  'require_pushed_authorization_requests',
  'authorization_response_iss_parameter_supported',
] as const

/** Same-origin redirects followed for discovery GETs (no secrets are sent there). */
export const MAX_DISCOVERY_HOPS = 3

/**
 * The two well-known locations for an issuer: OIDC Discovery appends to the issuer's path,
 * RFC 8414 inserts before it.
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.1
 */
export function discoveryUrls(issuer: URL): URL[] {
  const path = issuer.pathname.replace(/\/$/u, '')
  return [
    new URL(`${issuer.origin}${path}/.well-known/openid-configuration`),
    new URL(`${issuer.origin}/.well-known/oauth-authorization-server${path}`),
  ]
}

/**
 * GETs one metadata document, following at most `MAX_DISCOVERY_HOPS` same-origin redirects.
 * A redirect to another origin stops the run (exit 4); a loop gives up (exit 5).
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export async function discoveryRequest(url: URL, http: Http): Promise<Response> {
  let current = url
  for (let hop = 0; ; hop++) {
    const response = await http({ method: 'GET', url: current, stage: 'discovery' })
    if (response.status < 300 || response.status >= 400) return response
    const location = response.headers.get('location')
    const next = location === null ? undefined : parseUrl(location, current)
    if (next === undefined || next.origin !== url.origin) {
      throw new CliError(
        'unexpected_redirect',
        `discovery at ${url.href} redirected to ${location === null ? '(no Location)' : excerpt(location)}, another origin`,
        { stage: 'discovery', status: response.status, hint: 'check --domain / --issuer' },
      )
    }
    if (hop >= MAX_DISCOVERY_HOPS) {
      throw new CliError(
        'network_error',
        `discovery at ${url.href} redirected more than ${MAX_DISCOVERY_HOPS} times`,
        { stage: 'discovery', status: response.status, hint: 'the server redirects in a loop' },
      )
    }
    current = next
  }
}

/**
 * Validates a metadata document: a JSON object whose `issuer` equals the expected issuer exactly
 * (no trailing-slash normalising: Auth0 issuers end with `/`), with safe absolute endpoints.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.3
 */
export async function processDiscoveryResponse(
  response: Response,
  expectedIssuer: string,
): Promise<AuthorizationServer> {
  if (response.status !== 200) {
    throw new CliError(
      'metadata_invalid',
      `discovery failed (${describeBody(response, await response.text())})`,
      { stage: 'discovery', status: response.status, hint: 'check --domain / --issuer' },
    )
  }
  const body = await readJsonObject(response, {
    stage: 'discovery',
    what: 'discovery document',
    code: 'metadata_invalid',
  })
  if (body.issuer !== expectedIssuer) {
    throw new CliError(
      'metadata_issuer_mismatch',
      `the metadata issuer ${JSON.stringify(typeof body.issuer === 'string' ? excerpt(body.issuer) : body.issuer)} is not the expected issuer "${expectedIssuer}"`,
      {
        stage: 'discovery',
        hint: 'issuers are compared exactly, trailing slash included; pass the exact --issuer',
      },
    )
  }
  for (const name of ['authorization_endpoint', 'token_endpoint'] as const) {
    if (typeof body[name] !== 'string') {
      throw new CliError('metadata_invalid', `the metadata has no ${name}`, { stage: 'discovery' })
    }
  }
  for (const name of ENDPOINTS) {
    const value = body[name]
    if (value === undefined) continue
    const problem =
      typeof value === 'string' ? endpointProblem(value, new URL(expectedIssuer)) : 'not a string'
    if (problem !== undefined) {
      throw new CliError(
        'insecure_endpoint',
        `the metadata ${name}${typeof value === 'string' ? ` "${excerpt(value)}"` : ''} is refused: ${problem}`,
        {
          stage: 'discovery',
          hint: 'endpoints must be https (plain http only on a loopback issuer)',
        },
      )
    }
  }
  const aliases = body.mtls_endpoint_aliases
  if (aliases !== undefined) {
    if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) {
      throw new CliError(
        'metadata_invalid',
        'the metadata mtls_endpoint_aliases is not an object',
        {
          stage: 'discovery',
        },
      )
    }
    for (const [name, value] of Object.entries(aliases)) {
      const problem =
        typeof value === 'string' ? endpointProblem(value, new URL(expectedIssuer)) : 'not a string'
      if (problem !== undefined) {
        throw new CliError(
          'insecure_endpoint',
          `the metadata mtls_endpoint_aliases.${excerpt(name)}${typeof value === 'string' ? ` "${excerpt(value)}"` : ''} is refused: ${problem}`,
          {
            stage: 'discovery',
            hint: 'endpoints must be https (plain http only on a loopback issuer)',
          },
        )
      }
    }
  }
  for (const name of STRING_ARRAYS) {
    const value = body[name]
    if (
      value !== undefined &&
      !(Array.isArray(value) && value.every((v) => typeof v === 'string'))
    ) {
      throw new CliError('metadata_invalid', `the metadata ${name} is not an array of strings`, {
        stage: 'discovery',
      })
    }
  }
  for (const name of BOOLEANS) {
    const value = body[name]
    if (value !== undefined && typeof value !== 'boolean') {
      throw new CliError('metadata_invalid', `the metadata ${name} is not a boolean`, {
        stage: 'discovery',
      })
    }
  }
  return body as unknown as AuthorizationServer
}

function parseUrl(value: string, base: URL): URL | undefined {
  try {
    return new URL(value, base)
  } catch {
    return undefined
  }
}

/**
 * Discovers an issuer's metadata: OIDC Discovery first, then RFC 8414 when the first answers 404.
 */
export async function discover(issuer: string, http: Http): Promise<AuthorizationServer> {
  const [openid, oauth] = discoveryUrls(new URL(issuer)) as [URL, URL]
  const first = await discoveryRequest(openid, http)
  if (first.status === 404)
    return processDiscoveryResponse(await discoveryRequest(oauth, http), issuer)
  return processDiscoveryResponse(first, issuer)
}

/**
 * The metadata a client presenting a certificate uses: each endpoint that has an mTLS alias
 * replaced by it, and the replacements, so a report can say which endpoint was used.
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-5
 */
export function withMtlsAliases(as: AuthorizationServer): {
  as: AuthorizationServer
  aliased: { endpoint: MtlsAliasedEndpoint; url: string }[]
} {
  const aliases = as.mtls_endpoint_aliases ?? {}
  const aliased: { endpoint: MtlsAliasedEndpoint; url: string }[] = []
  const result: AuthorizationServer = { ...as }
  for (const endpoint of MTLS_ALIASED) {
    const url = aliases[endpoint]
    if (url === undefined) continue
    result[endpoint] = url
    aliased.push({ endpoint, url })
  }
  return { as: result, aliased }
}
