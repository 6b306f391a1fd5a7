import { readFile } from 'node:fs/promises'

/** The token endpoint authentication methods a sandbox client can be registered with. */
export type AuthMethod =
  | 'none'
  | 'client_secret_post'
  | 'client_secret_basic'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'self_signed_tls_client_auth'

export interface UserConfig {
  username: string
  name?: string
  email?: string
  email_verified?: boolean
}

export interface PublicJwk {
  kty: string
  [member: string]: unknown
}

export interface ClientConfig {
  client_id: string
  name?: string
  token_endpoint_auth_method: AuthMethod
  /** For the secret methods; generated at start when absent. */
  client_secret?: string
  /** Public keys for `private_key_jwt`; a key pair is generated at start when absent. */
  jwks?: { keys: PublicJwk[] }
  redirect_uris?: string[]
}

export interface AudienceConfig {
  /** The API identifier: the `audience` parameter value and the access token's `aud`. */
  identifier: string
  name?: string
  scopes: string[]
}

export interface OrganizationConfig {
  id: string
  name: string
  display_name?: string
}

/** A sandbox tenant: what a small JSON file can configure. */
export interface SandboxConfig {
  users: UserConfig[]
  clients: ClientConfig[]
  audiences: AudienceConfig[]
  organizations: OrganizationConfig[]
  /** RFC 9396 `authorization_details` types the tenant accepts. */
  authorization_details_types: string[]
}

export const DEFAULT_CLIENT_IDS = {
  public: 'sandbox-public',
  confidential: 'sandbox-confidential',
  privateKeyJwt: 'sandbox-private-key-jwt',
} as const
export const DEFAULT_AUDIENCE = 'https://api.sandbox.test/'
export const DEFAULT_ORGANIZATION = { id: 'org_sandbox123', name: 'acme' } as const
export const DEFAULT_USERNAME = 'user@sandbox.test'

/**
 * The callbacks every client accepts when it configures none. RFC 8252 §7.3: for native clients
 * the port is not compared, so `http://127.0.0.1:8484/callback` matches the first entry.
 */
export const LOOPBACK_REDIRECT_URIS: readonly string[] = [
  'http://127.0.0.1/callback',
  'http://localhost/callback',
  'http://[::1]/callback',
  'http://127.0.0.1/',
  'http://localhost/',
  'http://[::1]/',
]

/** Thrown for a config file that cannot be read, parsed or validated. */
export class SandboxConfigError extends Error {
  override readonly name = 'SandboxConfigError'
}

/** The tenant used when no config file is given. */
export function defaultSandboxConfig(): SandboxConfig {
  return {
    users: [{ username: DEFAULT_USERNAME, name: 'Sandbox User' }],
    clients: [
      {
        client_id: DEFAULT_CLIENT_IDS.public,
        name: 'Sandbox Native App',
        token_endpoint_auth_method: 'none',
      },
      {
        client_id: DEFAULT_CLIENT_IDS.confidential,
        name: 'Sandbox Regular Web App',
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: DEFAULT_CLIENT_IDS.privateKeyJwt,
        name: 'Sandbox Private Key JWT App',
        token_endpoint_auth_method: 'private_key_jwt',
      },
    ],
    audiences: [
      {
        identifier: DEFAULT_AUDIENCE,
        name: 'Sandbox API',
        scopes: ['read:messages', 'write:messages'],
      },
    ],
    organizations: [{ ...DEFAULT_ORGANIZATION, display_name: 'Acme' }],
    authorization_details_types: ['payment_initiation'],
  }
}

/** Reads and validates a sandbox config file (JSON); sections it omits keep their defaults. */
export async function loadSandboxConfig(path: string): Promise<SandboxConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new SandboxConfigError(`could not read sandbox config ${path}`, { cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new SandboxConfigError(`sandbox config ${path} is not valid JSON`, { cause })
  }
  return parseSandboxConfig(json, path)
}

const AUTH_METHODS: readonly AuthMethod[] = [
  'none',
  'client_secret_post',
  'client_secret_basic',
  'client_secret_jwt',
  'private_key_jwt',
  'self_signed_tls_client_auth',
]
/** The secret methods: oidc-provider accepts either one from a client registered with the other. */
export const SECRET_METHODS: readonly AuthMethod[] = ['client_secret_post', 'client_secret_basic']
/** Whether the client has a secret: the two secret methods, and client_secret_jwt's HMAC key. */
export const hasSecret = (method: AuthMethod): boolean =>
  SECRET_METHODS.includes(method) || method === 'client_secret_jwt'
// RFC 6749 Appendix A: client_id and client_secret are VSCHAR, scope tokens NQCHAR without space.
const VSCHAR = /^[\x20-\x7e]+$/
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']

/** Validates parsed JSON as a sandbox config; `source` names the file in error messages. */
export function parseSandboxConfig(input: unknown, source = 'sandbox config'): SandboxConfig {
  const at = (path: string) => `${source}: ${path}`
  const root = object(input, source, [
    'users',
    'clients',
    'audiences',
    'organizations',
    'authorization_details_types',
  ])
  const defaults = defaultSandboxConfig()

  // A section left out keeps its default; one given replaces it, each item checked.
  const section = <T>(
    name: keyof SandboxConfig,
    fallback: T[],
    parse: (item: unknown, path: string) => T,
    min = 0,
  ): T[] =>
    root[name] === undefined
      ? fallback
      : list(root[name], at(name), min).map((item, i) => parse(item, at(`${name}[${i}]`)))

  const users = section('users', defaults.users, parseUser)
  unique(
    users.map((user) => user.username),
    at('users'),
    'username',
  )
  const clients = section('clients', defaults.clients, parseClient, 1)
  unique(
    clients.map((client) => client.client_id),
    at('clients'),
    'client_id',
  )
  const audiences = section('audiences', defaults.audiences, parseAudience)
  unique(
    audiences.map((audience) => audience.identifier),
    at('audiences'),
    'identifier',
  )
  const organizations = section('organizations', defaults.organizations, parseOrganization)
  unique(
    organizations.flatMap((org) => [org.id, org.name]),
    at('organizations'),
    'id or name',
  )
  const types = section('authorization_details_types', defaults.authorization_details_types, string)

  return { users, clients, audiences, organizations, authorization_details_types: types }
}

function parseUser(input: unknown, path: string): UserConfig {
  const fields = object(input, path, ['username', 'name', 'email', 'email_verified'])
  const user: UserConfig = { username: string(fields.username, `${path}.username`) }
  if (fields.name !== undefined) user.name = string(fields.name, `${path}.name`)
  if (fields.email !== undefined) user.email = string(fields.email, `${path}.email`)
  if (fields.email_verified !== undefined) {
    if (typeof fields.email_verified !== 'boolean') {
      throw new SandboxConfigError(`${path}.email_verified must be true or false`)
    }
    user.email_verified = fields.email_verified
  }
  return user
}

function parseClient(input: unknown, path: string): ClientConfig {
  const fields = object(input, path, [
    'client_id',
    'name',
    'token_endpoint_auth_method',
    'client_secret',
    'jwks',
    'redirect_uris',
  ])
  const clientId = string(fields.client_id, `${path}.client_id`, VSCHAR)
  const method = fields.token_endpoint_auth_method ?? 'none'
  if (!AUTH_METHODS.includes(method as AuthMethod)) {
    throw new SandboxConfigError(
      `${path}.token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`,
    )
  }
  const client: ClientConfig = {
    client_id: clientId,
    token_endpoint_auth_method: method as AuthMethod,
  }
  if (fields.name !== undefined) client.name = string(fields.name, `${path}.name`)
  if (fields.client_secret !== undefined) {
    if (!hasSecret(client.token_endpoint_auth_method)) {
      throw new SandboxConfigError(
        `${path}.client_secret is only for client_secret_post, client_secret_basic and client_secret_jwt clients`,
      )
    }
    client.client_secret = string(fields.client_secret, `${path}.client_secret`, VSCHAR)
  }
  if (fields.jwks !== undefined) {
    if (
      client.token_endpoint_auth_method !== 'private_key_jwt' &&
      client.token_endpoint_auth_method !== 'self_signed_tls_client_auth'
    ) {
      throw new SandboxConfigError(
        `${path}.jwks is only for private_key_jwt and self_signed_tls_client_auth clients`,
      )
    }
    client.jwks = parseJwks(fields.jwks, `${path}.jwks`)
  }
  if (fields.redirect_uris !== undefined) {
    client.redirect_uris = list(fields.redirect_uris, `${path}.redirect_uris`, 1).map((item, i) =>
      absoluteUrl(item, `${path}.redirect_uris[${i}]`),
    )
  }
  return client
}

function parseJwks(input: unknown, path: string): { keys: PublicJwk[] } {
  const fields = object(input, path, ['keys'])
  const keys = list(fields.keys, `${path}.keys`, 1).map((item, i) => {
    const key = object(item, `${path}.keys[${i}]`)
    string(key.kty, `${path}.keys[${i}].kty`)
    const secret = PRIVATE_JWK_MEMBERS.find((member) => member in key)
    if (secret !== undefined) {
      throw new SandboxConfigError(
        `${path}.keys[${i}] has private member "${secret}"; give public keys only`,
      )
    }
    return key as PublicJwk
  })
  return { keys }
}

function parseAudience(input: unknown, path: string): AudienceConfig {
  const fields = object(input, path, ['identifier', 'name', 'scopes'])
  const audience: AudienceConfig = {
    // RFC 8707 §2: a resource indicator is an absolute URI without a fragment.
    identifier: absoluteUrl(fields.identifier, `${path}.identifier`),
    scopes: list(fields.scopes ?? [], `${path}.scopes`).map((item, i) =>
      string(item, `${path}.scopes[${i}]`, SCOPE_TOKEN),
    ),
  }
  if (fields.name !== undefined) audience.name = string(fields.name, `${path}.name`)
  return audience
}

function parseOrganization(input: unknown, path: string): OrganizationConfig {
  const fields = object(input, path, ['id', 'name', 'display_name'])
  const org: OrganizationConfig = {
    id: string(fields.id, `${path}.id`, SCOPE_TOKEN),
    name: string(fields.name, `${path}.name`, SCOPE_TOKEN),
  }
  if (fields.display_name !== undefined) {
    org.display_name = string(fields.display_name, `${path}.display_name`)
  }
  return org
}

function object(input: unknown, path: string, allowed?: string[]): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SandboxConfigError(`${path} must be an object`)
  }
  const fields = input as Record<string, unknown>
  const unknown = allowed && Object.keys(fields).find((key) => !allowed.includes(key))
  if (unknown !== undefined) {
    throw new SandboxConfigError(
      `${path} has unknown field "${unknown}" (expected ${allowed!.join(', ')})`,
    )
  }
  return fields
}

function list(input: unknown, path: string, min = 0): unknown[] {
  if (!Array.isArray(input)) throw new SandboxConfigError(`${path} must be an array`)
  if (input.length < min) throw new SandboxConfigError(`${path} must not be empty`)
  return input
}

function string(input: unknown, path: string, pattern?: RegExp): string {
  if (typeof input !== 'string' || input.length === 0) {
    throw new SandboxConfigError(`${path} must be a non-empty string`)
  }
  if (pattern && !pattern.test(input)) {
    throw new SandboxConfigError(
      `${path} has characters that are not allowed: ${JSON.stringify(input)}`,
    )
  }
  return input
}

function absoluteUrl(input: unknown, path: string): string {
  const value = string(input, path)
  if (!URL.canParse(value) || value.includes('#')) {
    throw new SandboxConfigError(`${path} must be an absolute URL without a fragment`)
  }
  return value
}

function unique(values: string[], path: string, what: string): void {
  const duplicate = values.find((value, i) => values.indexOf(value) !== i)
  if (duplicate !== undefined) {
    throw new SandboxConfigError(`${path} repeats ${what} ${JSON.stringify(duplicate)}`)
  }
}
