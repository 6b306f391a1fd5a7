import { CliError } from '../errors.js'
import { KEY_HEADERS } from '../jwt/decode.js'
import { isPlainObject } from '../oauth/response.js'
import { excerpt } from '../sanitize.js'

const ALGORITHMS: Record<string, string> = {
  RS256: 'RSA PKCS#1 v1.5 with SHA-256',
  RS384: 'RSA PKCS#1 v1.5 with SHA-384',
  RS512: 'RSA PKCS#1 v1.5 with SHA-512',
  PS256: 'RSA-PSS with SHA-256',
  PS384: 'RSA-PSS with SHA-384',
  PS512: 'RSA-PSS with SHA-512',
  ES256: 'ECDSA on P-256 with SHA-256',
  ES384: 'ECDSA on P-384 with SHA-384',
  ES512: 'ECDSA on P-521 with SHA-512',
  EdDSA: 'EdDSA (Ed25519 or Ed448)',
  Ed25519: 'EdDSA on Ed25519',
  HS256: 'HMAC with SHA-256: a shared secret, not a public key',
  HS384: 'HMAC with SHA-384: a shared secret, not a public key',
  HS512: 'HMAC with SHA-512: a shared secret, not a public key',
  dir: 'direct encryption with a shared key',
  'RSA-OAEP': 'key encrypted to an RSA public key (RSA-OAEP)',
  'RSA-OAEP-256': 'key encrypted to an RSA public key (RSA-OAEP-256)',
  'ECDH-ES': 'key agreed with ECDH-ES',
  'ECDH-ES+A256KW': 'key agreed with ECDH-ES, wrapped with AES-256',
  A128KW: 'key wrapped with a shared AES-128 key',
  A256KW: 'key wrapped with a shared AES-256 key',
}

const TYPES: Record<string, string> = {
  jwt: 'a JWT',
  'application/jwt': 'a JWT',
  'at+jwt': 'an OAuth access token (RFC 9068)',
  'application/at+jwt': 'an OAuth access token (RFC 9068)',
  'dpop+jwt': 'a DPoP proof (RFC 9449)',
  'logout+jwt': 'a back-channel logout token',
  'token-introspection+jwt': 'a signed introspection response (RFC 9701)',
}

/**
 * A one-line gloss for a JOSE header member; `encrypted` for a JWE's header.
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-4.1
 * @see https://www.rfc-editor.org/rfc/rfc7516#section-4.1
 */
export function headerGloss(encrypted: boolean) {
  return (key: string, value: unknown): string | undefined => {
    const text = typeof value === 'string' ? value : undefined
    switch (key) {
      case 'alg':
        if (text === 'none') return 'NO signature: anyone can write this token'
        return `${encrypted ? 'key management' : 'signature algorithm'}${text !== undefined && ALGORITHMS[text] !== undefined ? `: ${ALGORITHMS[text]}` : ''}`
      case 'enc':
        return 'content encryption algorithm'
      case 'typ':
        return text === undefined ? 'token type' : (TYPES[text.toLowerCase()] ?? 'token type')
      case 'cty':
        return text?.toUpperCase() === 'JWT'
          ? 'the content is itself a JWT (nested)'
          : 'content type'
      case 'kid':
        return encrypted ? 'id of the decryption key' : 'key id: which of the issuer keys signed it'
      case 'iss':
        return 'issuer, readable without decrypting (on Auth0: the tenant)'
      case 'zip':
        return 'the plaintext is compressed'
      case 'crit':
        return 'extensions a verifier must understand'
      case 'b64':
        return 'false means an unencoded payload (RFC 7797)'
      default:
        return KEY_HEADERS.includes(key)
          ? 'a key the token names for itself: never fetched or trusted by pkce'
          : undefined
    }
  }
}

const CLAIMS: Record<string, string> = {
  iss: 'issuer: who made the token',
  sub: 'subject: the user (or client) it is about',
  aud: 'audience: who it is for',
  exp: 'expiration time',
  nbf: 'not before',
  iat: 'issued at',
  jti: 'unique token id',
  auth_time: 'when the user last authenticated',
  updated_at: 'when the profile last changed',
  azp: 'authorized party: the client the token was issued to',
  client_id: 'the client the token was issued to',
  scope: 'granted scopes, space-separated',
  scp: 'granted scopes',
  permissions: 'Auth0 RBAC permissions granted for this API',
  org_id: 'Auth0 organization id',
  org_name: 'Auth0 organization name',
  gty: 'Auth0 grant type',
  sid: 'session id (used by logout)',
  at_hash: 'access token hash: ties this ID token to its access token',
  c_hash: 'code hash: ties this ID token to its authorization code',
  nonce: 'echoes the nonce of the authorization request',
  acr: 'authentication context class',
  amr: 'authentication methods used',
  act: 'actor: who acts for the subject (token exchange)',
  may_act: 'who may act for the subject',
  email_verified: 'whether the provider verified the email',
  htm: 'DPoP: the HTTP method of the request',
  htu: 'DPoP: the URL of the request',
  ath: 'DPoP: hash of the access token sent with it',
}

/**
 * A URL-like (or URN) claim name: Auth0's namespaced custom claims, collision-resistant names.
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.2
 */
export function isNamespaced(key: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//iu.test(key) || /^urn:/iu.test(key)
}

function cnfGloss(value: unknown): string {
  const members = isPlainObject(value) ? Object.keys(value) : []
  if (members.includes('jkt')) {
    return 'confirmation: DPoP-bound; cnf.jkt is the SHA-256 thumbprint of the client DPoP key'
  }
  if (members.includes('x5t#S256')) return 'confirmation: bound to a client certificate (mTLS)'
  return 'confirmation: the key the token is bound to'
}

/**
 * A one-line gloss for a claim; namespaced custom claims are marked as such.
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDToken
 */
export function claimGloss(key: string, value: unknown): string | undefined {
  if (key === 'cnf') return cnfGloss(value)
  if (key === 'gty' && typeof value === 'string') {
    return `${CLAIMS.gty}${value === 'client-credentials' ? ': machine to machine, no user' : ''}`
  }
  if (Object.hasOwn(CLAIMS, key)) return CLAIMS[key]
  return isNamespaced(key) ? 'namespaced custom claim' : undefined
}

/**
 * What an encrypted token is and what to do about it; Auth0's `dir`/`A256GCM` named as such.
 * @see https://www.rfc-editor.org/rfc/rfc7516#section-9
 */
export function explainJwe(header: Record<string, unknown>): string {
  const iss = typeof header.iss === 'string' ? excerpt(header.iss, 120) : undefined
  if (header.alg === 'dir' && header.enc === 'A256GCM') {
    return (
      `An encrypted (JWE) access token, alg dir / enc A256GCM: on Auth0 this is the token issued when ` +
      `no audience is sent${iss === undefined ? '' : ` (tenant ${iss})`}. Only Auth0 can read it and it ` +
      `is good only for /userinfo. Send --audience <your API identifier> to get a JWT access token.`
    )
  }
  return (
    `An encrypted token (JWE)${iss === undefined ? '' : ` from ${iss}`}: only the holder of the ` +
    `decryption key can read its claims, and pkce does not decrypt.`
  )
}

/**
 * What an opaque token is and where its meaning can be found instead.
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 */
export function explainOpaque(length: number): string {
  return (
    `Not a JWT: an opaque token (${length} characters). Only the authorization server can read it: ` +
    `call the UserInfo endpoint with it, or introspect it (RFC 7662) where the server offers that. ` +
    `On Auth0, send --audience <your API identifier> to get a JWT access token.`
  )
}

/** The one-line warning for an encrypted token: what it is and what to send instead. */
export function encryptedWarning(header: Record<string, unknown>): string {
  if (header.alg === 'dir' && header.enc === 'A256GCM') {
    return 'the token is encrypted (JWE dir/A256GCM): on Auth0, the /userinfo-only access token issued when no audience is sent; send --audience <your API identifier> to get a JWT access token'
  }
  return 'the token is encrypted (JWE): its claims cannot be read without the decryption key'
}

/** The one-line warning for an opaque token. */
export function opaqueWarning(length: number): string {
  return `the token is opaque, not a JWT (${length} characters): call /userinfo or introspection with it, or on Auth0 send --audience <your API identifier> to get a JWT access token`
}

function isUtf8(segment: string): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(segment, 'base64url'))
    return true
  } catch {
    return false
  }
}

function malformedHint(message: string): string | undefined {
  // security.md JD-3: no real token nests this deep; copying it again will not help.
  if (message.includes('nests deeper')) return undefined
  if (message.includes('segments')) {
    return 'a JWS is header.payload.signature and a JWE has 5 parts; check the token was copied whole'
  }
  if (message.includes('not base64url')) {
    return 'a JWT holds only A-Z a-z 0-9 - _ and dots; check for spaces, padding (=) or cut lines'
  }
  return 'check the token was copied whole'
}

const NOT_JSON = /^the (header|payload) segment is not a base64url-encoded JSON object$/u

/**
 * A `token_malformed` error from `decodeToken` as the user should read it: the real reason when a
 * segment is not UTF-8, and a hint on what to check.
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.7
 */
export function explainMalformed(error: CliError, token: string): CliError {
  // security.md JD-7: jose refuses invalid UTF-8 as "not JSON"; name the real reason.
  const notJson = NOT_JSON.exec(error.message)?.[1]
  const segment = token.split('.')[notJson === 'header' ? 0 : 1] ?? ''
  const message =
    notJson !== undefined && !isUtf8(segment)
      ? `the ${notJson} segment is not valid UTF-8`
      : error.message
  return new CliError(error.code, message, { stage: 'decode', hint: malformedHint(message) })
}
