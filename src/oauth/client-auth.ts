import type { CryptoKey, JWK } from 'jose'
import type { Stage } from '../errors.js'
import type { Http } from './http.js'

export type ClientAuthMethod = ClientAuth['method']

/** How the client proves itself at the token and PAR endpoints. */
export type ClientAuth =
  | { method: 'none' }
  // RFC 8705 §2: the certificate is presented by the transport; the request names the client.
  | { method: 'tls_client_auth' | 'self_signed_tls_client_auth' }
  | { method: 'client_secret_post' | 'client_secret_basic' | 'client_secret_jwt'; secret: string }
  | { method: 'private_key_jwt'; key: JWK; alg: string }

export interface Client {
  client_id: string
  auth: ClientAuth
}

/** What a request carries to authenticate the client: form fields and headers. */
export interface ClientCredentials {
  form: [string, string][]
  headers: Record<string, string>
}

// RFC 6749 §2.3.1: form-urlencode id and secret before base64, or `:`, `%` and `+` break.
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/gu, '+')
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** RFC 7523 §3 claims, the same for both assertion methods (security.md TR-3). */
async function signAssertion(
  client: Client,
  audience: string,
  now: Date,
  jti: string,
  header: { alg: string; kid?: string },
  key: CryptoKey | Uint8Array,
): Promise<[string, string][]> {
  const { SignJWT } = await import('jose')
  const iat = Math.floor(now.getTime() / 1000)
  const assertion = await new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(client.client_id)
    .setSubject(client.client_id)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .setJti(jti)
    .sign(key)
  return [
    ['client_id', client.client_id],
    ['client_assertion_type', JWT_BEARER],
    ['client_assertion', assertion],
  ]
}

/**
 * The credentials for one request to `audience` (the issuer identifier). A `private_key_jwt` or
 * `client_secret_jwt` (HS256, keyed with the secret's UTF-8 bytes) assertion is signed fresh each
 * time: `iss` = `sub` = client_id, `aud` the issuer, a 60 s lifetime and a new `jti`.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 * @see https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication
 */
export async function clientCredentials(
  client: Client,
  audience: string,
  now: Date,
  jti: string,
): Promise<ClientCredentials> {
  const { auth } = client
  switch (auth.method) {
    case 'none':
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      return { form: [['client_id', client.client_id]], headers: {} }
    case 'client_secret_post':
      return {
        form: [
          ['client_id', client.client_id],
          ['client_secret', auth.secret],
        ],
        headers: {},
      }
    case 'client_secret_basic': {
      const pair = `${formEncode(client.client_id)}:${formEncode(auth.secret)}`
      return {
        form: [],
        headers: { authorization: `Basic ${Buffer.from(pair).toString('base64')}` },
      }
    }
    case 'client_secret_jwt': {
      const secret = new TextEncoder().encode(auth.secret)
      const form = await signAssertion(client, audience, now, jti, { alg: 'HS256' }, secret)
      return { form, headers: {} }
    }
    case 'private_key_jwt': {
      const { importJWK } = await import('jose')
      const key = await importJWK(auth.key, auth.alg)
      const header = { alg: auth.alg, ...(auth.key.kid === undefined ? {} : { kid: auth.key.kid }) }
      return { form: await signAssertion(client, audience, now, jti, header, key), headers: {} }
    }
  }
}

/**
 * The one way a client POSTs to an endpoint that authenticates it (token, PAR): the form with the
 * credentials' members set, and their headers under any the caller adds (a DPoP proof).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3
 */
export function authenticatedPost(
  http: Http,
  request: { url: URL; stage: Stage; params: URLSearchParams; headers: Record<string, string> },
  credentials: ClientCredentials,
): Promise<Response> {
  const form = new URLSearchParams(request.params)
  for (const [name, value] of credentials.form) form.set(name, value)
  return http({
    method: 'POST',
    url: request.url,
    headers: { ...credentials.headers, ...request.headers },
    form,
    stage: request.stage,
  })
}
