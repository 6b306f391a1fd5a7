import { randomBytes } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import type { JWK } from 'jose'
import type { ClientMetadata } from 'oidc-provider'
import { hasSecret, LOOPBACK_REDIRECT_URIS, SECRET_METHODS } from './config.js'
import type { AuthMethod, ClientConfig } from './config.js'

export interface SandboxClient {
  client_id: string
  name: string
  /** As registered: what the Auth0 dashboard would show. */
  token_endpoint_auth_method: AuthMethod
  /** What the token and PAR endpoints accept: secret clients take both secret methods. */
  auth_methods: AuthMethod[]
  client_secret?: string
  /** The generated signing key of a `private_key_jwt` client (RS256), to write to a file. */
  private_jwk?: JWK
  /** The public keys a `private_key_jwt` client's assertions are verified with. */
  jwks?: { keys: JWK[] }
  redirect_uris: string[]
}

/**
 * Registers a configured client: a secret client without a secret gets 48 random bytes (64
 * base64url characters), a `private_key_jwt` client without keys a generated RS256 key pair.
 */
export async function sandboxClient(client: ClientConfig): Promise<SandboxClient> {
  const method = client.token_endpoint_auth_method
  const result: SandboxClient = {
    client_id: client.client_id,
    name: client.name ?? client.client_id,
    token_endpoint_auth_method: method,
    auth_methods: SECRET_METHODS.includes(method) ? [...SECRET_METHODS] : [method],
    redirect_uris: client.redirect_uris ?? [...LOOPBACK_REDIRECT_URIS],
  }
  if (hasSecret(method)) {
    result.client_secret = client.client_secret ?? randomBytes(48).toString('base64url')
  }
  // RFC 8705 §2.2: the certificate's public key with its x5c, given in the config file.
  if (method === 'self_signed_tls_client_auth' && client.jwks !== undefined) {
    result.jwks = client.jwks
  } else if (method === 'private_key_jwt' && client.jwks !== undefined) {
    result.jwks = client.jwks
  } else if (method === 'private_key_jwt') {
    const { privateJwk, publicJwk } = await generateRsaKey()
    result.private_jwk = privateJwk
    result.jwks = { keys: [publicJwk] }
  }
  return result
}

/** The client's oidc-provider registration. */
export function clientMetadata(
  client: SandboxClient,
  requireDpop: boolean,
  authorizationDetailsTypes: string[],
): ClientMetadata {
  const metadata: ClientMetadata = {
    client_id: client.client_id,
    client_name: client.name,
    // RFC 8252 §7.3: native clients may use any port on a loopback redirect URI.
    application_type: 'native',
    redirect_uris: client.redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    id_token_signed_response_alg: 'RS256',
    dpop_bound_access_tokens: requireDpop,
    authorization_details_types: authorizationDetailsTypes,
  }
  if (client.token_endpoint_auth_method === 'self_signed_tls_client_auth') {
    metadata.tls_client_certificate_bound_access_tokens = true
  }
  if (client.client_secret !== undefined) metadata.client_secret = client.client_secret
  if (client.jwks !== undefined) metadata.jwks = client.jwks
  return metadata
}

/** A 2048-bit RS256 signing key pair as JWKs, with the RFC 7638 thumbprint as `kid`. */
export async function generateRsaKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', {
    modulusLength: 2048,
    extractable: true,
  })
  const publicJwk = await exportJWK(publicKey)
  const members = { kid: await calculateJwkThumbprint(publicJwk), alg: 'RS256', use: 'sig' }
  return {
    privateJwk: { ...(await exportJWK(privateKey)), ...members },
    publicJwk: { ...publicJwk, ...members },
  }
}
