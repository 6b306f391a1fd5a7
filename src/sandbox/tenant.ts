import { createHash, randomBytes } from 'node:crypto'
import { createServer as createHttpServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose'
import type { JWK } from 'jose'
import type {
  Adapter,
  AdapterFactory,
  AdapterPayload,
  Client,
  ClientMetadata,
  Configuration,
  Interaction,
  KoaContextWithOIDC,
  ResourceServer,
} from 'oidc-provider'
import {
  defaultSandboxConfig,
  type AudienceConfig,
  type AuthMethod,
  type OrganizationConfig,
  type SandboxConfig,
  type UserConfig,
  LOOPBACK_REDIRECT_URIS,
  SECRET_METHODS,
} from './config.js'
import { consentPage, errorPage, loginPage, type HtmlPage } from './pages.js'

export interface SandboxOptions {
  /** Address to bind. Default `127.0.0.1`. */
  host?: string
  /** Port to bind; 0 picks a free one. Default 0. */
  port?: number
  /** PEM certificate and key: serve HTTPS. Absent: plain HTTP. */
  tls?: { cert: string; key: string }
  /** RFC 9126 §5: every authorization request must come through PAR. */
  requirePar?: boolean
  /** RFC 9449 §5: every client must present DPoP proofs at the token endpoint. */
  requireDpop?: boolean
  /** RFC 9449 §8: DPoP proofs must carry a server-provided nonce. */
  dpopNonce?: boolean
  /** Grant consent without showing the consent page. */
  skipConsent?: boolean
  /** Token lifetimes in seconds. Defaults: Auth0's 86400, 36000 and 2592000. */
  lifetimes?: { accessToken?: number; idToken?: number; refreshToken?: number }
  /** Users, clients, audiences and organizations. Default `defaultSandboxConfig()`. */
  config?: SandboxConfig
  /** One line per request: method, path and status, never a query, header or body. */
  log?: (line: string) => void
}

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

export interface SandboxUser {
  username: string
  sub: string
  email: string
  name: string
}

export interface SandboxRequest {
  method: string
  /** Path without the query string. */
  path: string
  at: Date
}

export interface Sandbox {
  /** `http(s)://127.0.0.1:PORT/`, with the trailing slash Auth0 issuers have. */
  issuer: string
  /** `127.0.0.1:PORT`, what `--domain` takes. */
  domain: string
  port: number
  /** The origin, without a trailing slash. */
  url: string
  clients: SandboxClient[]
  audiences: AudienceConfig[]
  organizations: OrganizationConfig[]
  users: SandboxUser[]
  /** Every request received, in order. */
  requests: SandboxRequest[]
  /** The `authorization_details` (RFC 9396) of the last request that carried them. */
  readonly lastAuthorizationDetails: unknown
  /** The client with this id; throws if there is none. */
  client(clientId: string): SandboxClient
  /** Stops listening and closes every connection, keep-alive ones included. */
  close(): Promise<void>
}

const DEFAULT_LIFETIMES = { accessToken: 86_400, idToken: 36_000, refreshToken: 2_592_000 }
// Auth0: "The thirty-second expiration time is a static value and can't be configured."
const PAR_LIFETIME = 30
const INTERACTION_LIFETIME = 60 * 60
const SESSION_LIFETIME = 3 * 24 * 60 * 60
const FORM_LIMIT = 16 * 1024
const INTERACTION_PATH = /^\/u\/(login|consent)\/([\w-]+)$/
// What revoking a grant destroys, as in oidc-provider's MemoryAdapter.
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken'])
const EXTRA_PARAMS_WITHOUT_CHECKS = [
  'audience',
  'invitation',
  'connection',
  'connection_scope',
  'screen_hint',
]

type RichAuthorizationRequestsFeature = {
  enabled: boolean
  ack: string
  types: Record<string, { validate: (ctx: KoaContextWithOIDC) => void }>
  rarForAuthorizationCode: (ctx: KoaContextWithOIDC) => unknown
  rarForCodeResponse: (ctx: KoaContextWithOIDC) => unknown
  rarForRefreshTokenResponse: (ctx: KoaContextWithOIDC) => unknown
}
// @types/oidc-provider 8.8 does not declare features.richAuthorizationRequests.
type SandboxConfiguration = Configuration & {
  features: NonNullable<Configuration['features']> & {
    richAuthorizationRequests: RichAuthorizationRequestsFeature
  }
}

/**
 * Starts a local, Auth0-shaped OpenID Connect authorization server on oidc-provider.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1 (authorization code grant)
 * @see https://www.rfc-editor.org/rfc/rfc7636 (PKCE, required for every client)
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { default: Provider, errors, interactionPolicy } = await loadOidcProvider()
  const config = options.config ?? defaultSandboxConfig()
  const lifetimes = { ...DEFAULT_LIFETIMES, ...options.lifetimes }
  const host = options.host ?? '127.0.0.1'
  const startedAt = new Date().toISOString()

  const requests: SandboxRequest[] = []
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key })
    : createHttpServer()
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET'
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    requests.push({ method, path, at: new Date() })
    if (options.log) {
      const log = options.log
      res.on('finish', () => log(`${method} ${path} ${res.statusCode}`))
    }
    handle(req, res)
  })
  await listen(server, options.port ?? 0, host)
  const close = closer(server)

  try {
    const { port } = server.address() as AddressInfo
    const domain = `${host.includes(':') ? `[${host}]` : host}:${port}`
    const url = `${options.tls ? 'https' : 'http'}://${domain}`
    const issuer = `${url}/`

    const accounts = new Map<string, UserConfig>(
      config.users.map((user) => [subjectFor(user.username), user]),
    )
    const grantOrganizations = new Map<string, OrganizationConfig>()
    let lastAuthorizationDetails: unknown

    const findOrganization = (value: unknown) =>
      config.organizations.find((org) => org.id === value || org.name === value)
    const organizationClaims = (grantId: string | undefined) => {
      const org = grantId === undefined ? undefined : grantOrganizations.get(grantId)
      return org ? { org_id: org.id, org_name: org.name } : {}
    }

    const [{ privateJwk: signingKey }, clients] = await Promise.all([
      generateRsaKey(),
      Promise.all(config.clients.map((client) => sandboxClient(client))),
    ])

    const policy = interactionPolicy.base()
    if (options.skipConsent) {
      // Auth0 skips consent for first-party apps; oidc-provider would still stop native ones.
      policy.get('consent')?.checks.remove('native_client_prompt')
    }

    const configuration: SandboxConfiguration = {
      adapter: memoryAdapter(),
      clients: clients.map((client) =>
        clientMetadata(client, options.requireDpop === true, config.authorization_details_types),
      ),
      jwks: { keys: [signingKey] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      routes: {
        authorization: '/authorize',
        token: '/oauth/token',
        pushed_authorization_request: '/oauth/par',
        jwks: '/.well-known/jwks.json',
        userinfo: '/userinfo',
        revocation: '/oauth/revoke',
      },
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      claims: {
        openid: ['sub', 'org_id', 'org_name'],
        profile: ['name', 'nickname', 'updated_at'],
        email: ['email', 'email_verified'],
      },
      // Auth0 puts the profile claims in the ID token, not only at /userinfo.
      conformIdTokenClaims: false,
      responseTypes: ['code'],
      clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      pkce: { methods: ['S256'], required: () => true },
      enabledJWA: {
        idTokenSigningAlgValues: ['RS256'],
        dPoPSigningAlgValues: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      },
      extraParams: {
        ...Object.fromEntries(EXTRA_PARAMS_WITHOUT_CHECKS.map((name) => [name, null])),
        // Runs after the client authenticated, so it can police PAR as Auth0 does: "Public
        // applications are not currently supported". RFC 9126 §2.1 lets the AS require client
        // authentication; 401 invalid_client is RFC 6749 §5.2's "no client authentication included".
        client_id(ctx, _value, client) {
          if (
            ctx.oidc.route === 'pushed_authorization_request' &&
            client.clientAuthMethod === 'none'
          ) {
            const error = new errors.InvalidClientAuth('public client used PAR')
            error.error_description =
              'public clients cannot use pushed authorization requests; authenticate the client'
            throw error
          }
        },
        organization(ctx, value) {
          if (value === undefined) return
          const org = findOrganization(value)
          if (!org) throw new errors.InvalidRequest('parameter organization is invalid')
          ctx.oidc.params!.organization = org.id
        },
        // OIDC Core §11 makes offline_access need prompt=consent and oidc-provider drops it
        // otherwise; Auth0 issues the refresh token without it.
        scope(ctx, value, client) {
          const granted = value?.split(' ') ?? []
          const dropped =
            !granted.includes('offline_access') && requestedScope(ctx).includes('offline_access')
          if (dropped && client.grantTypeAllowed('refresh_token')) {
            ctx.oidc.params!.scope = [...granted, 'offline_access'].join(' ')
          }
        },
      },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: { enabled: false },
        revocation: { enabled: true },
        userinfo: { enabled: true },
        pushedAuthorizationRequests: {
          enabled: true,
          requirePushedAuthorizationRequests: options.requirePar === true,
        },
        dPoP: {
          enabled: true,
          nonceSecret: options.dpopNonce ? randomBytes(32) : undefined,
          requireNonce: () => options.dpopNonce === true,
        },
        resourceIndicators: {
          enabled: true,
          // Auth0 names the API with `audience`; oidc-provider knows RFC 8707 `resource`.
          defaultResource: ((ctx: KoaContextWithOIDC, _client: Client, oneOf?: string[]) => {
            const audience = ctx.oidc.params?.audience
            return oneOf ?? (typeof audience === 'string' ? audience : undefined)
          }) as (ctx: KoaContextWithOIDC, client: Client, oneOf?: string[]) => string,
          useGrantedResource: () => true,
          getResourceServerInfo(_ctx, indicator) {
            const audience = config.audiences.find((api) => api.identifier === indicator)
            if (!audience) throw new errors.AccessDenied(`Service not found: ${indicator}`)
            return resourceServer(audience, lifetimes.accessToken)
          },
        },
        richAuthorizationRequests: {
          enabled: true,
          ack: 'experimental-01',
          types: Object.fromEntries(
            config.authorization_details_types.map((type) => [
              type,
              {
                validate(ctx: KoaContextWithOIDC) {
                  lastAuthorizationDetails = requestedAuthorizationDetails(ctx)
                },
              },
            ]),
          ),
          rarForAuthorizationCode: requestedAuthorizationDetails,
          rarForCodeResponse: (ctx) =>
            storedAuthorizationDetails(ctx.oidc.entities.AuthorizationCode),
          rarForRefreshTokenResponse: (ctx) =>
            storedAuthorizationDetails(ctx.oidc.entities.RefreshToken),
        },
      },
      interactions: {
        policy,
        url: (_ctx, interaction) => `/u/${interaction.prompt.name}/${interaction.uid}`,
      },
      findAccount(_ctx, sub, token) {
        const user = accounts.get(sub)
        if (!user) return undefined
        return {
          accountId: sub,
          claims: () => ({
            sub,
            ...profileClaims(user, startedAt),
            ...organizationClaims(token?.grantId),
          }),
        }
      },
      extraTokenClaims(_ctx, token) {
        return {
          azp: token.clientId,
          ...(token.resourceServer ? { permissions: token.scope?.split(' ') ?? [] } : {}),
          ...organizationClaims('grantId' in token ? token.grantId : undefined),
        }
      },
      ttl: {
        AccessToken: lifetimes.accessToken,
        IdToken: lifetimes.idToken,
        RefreshToken: lifetimes.refreshToken,
        Grant: Math.max(lifetimes.accessToken, lifetimes.refreshToken),
        Interaction: INTERACTION_LIFETIME,
        Session: SESSION_LIFETIME,
      },
      renderError(ctx, out) {
        const page = errorPage({
          status: ctx.status,
          error: out.error,
          ...(out.error_description === undefined
            ? {}
            : { error_description: out.error_description }),
        })
        ctx.set(page.headers)
        ctx.body = page.body
      },
      clientBasedCORS: (_ctx, origin) => isLoopbackOrigin(origin),
    }

    const provider = new Provider(issuer, configuration)
    provider.app.silent = true
    provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
      await next()
      if (ctx.oidc?.route === 'pushed_authorization_request' && ctx.status === 201) {
        ;(ctx.body as { expires_in: number }).expires_in = PAR_LIFETIME
      }
    })

    const interactions = interactionHandler({
      provider,
      errors,
      clients,
      accounts,
      grantOrganizations,
      findOrganization,
      skipConsent: options.skipConsent === true,
    })
    const providerCallback = provider.callback()
    handle = (req, res) => {
      const match = INTERACTION_PATH.exec((req.url ?? '/').split('?')[0] ?? '/')
      if (match) void interactions(req, res, match[1] as 'login' | 'consent', match[2]!)
      else void providerCallback(req, res)
    }

    return {
      issuer,
      domain,
      port,
      url,
      clients,
      audiences: config.audiences,
      organizations: config.organizations,
      users: config.users.map((user) => {
        const { email, name } = profileClaims(user, startedAt)
        return { username: user.username, sub: subjectFor(user.username), email, name }
      }),
      requests,
      get lastAuthorizationDetails() {
        return lastAuthorizationDetails
      },
      client(clientId) {
        const client = clients.find((candidate) => candidate.client_id === clientId)
        if (!client) throw new Error(`the sandbox has no client ${JSON.stringify(clientId)}`)
        return client
      },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}

/** The Auth0-style `sub` for a sandbox username: `auth0|` and 24 hex digits of its SHA-256. */
export function subjectFor(username: string): string {
  return `auth0|${createHash('sha256').update(username).digest('hex').slice(0, 24)}`
}

async function loadOidcProvider() {
  try {
    return await import('oidc-provider')
  } catch (cause) {
    throw new Error(
      'the sandbox needs the optional dependency oidc-provider 8; install it with `npm install oidc-provider@8`',
      { cause },
    )
  }
}

function profileClaims(user: UserConfig, updatedAt: string) {
  const email =
    user.email ?? (user.username.includes('@') ? user.username : `${user.username}@sandbox.test`)
  return {
    email,
    email_verified: user.email_verified ?? true,
    name: user.name ?? user.username,
    nickname: email.split('@')[0] ?? user.username,
    updated_at: updatedAt,
  }
}

function resourceServer(audience: AudienceConfig, accessTokenTTL: number): ResourceServer {
  return {
    scope: audience.scopes.join(' '),
    audience: audience.identifier,
    accessTokenTTL,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  }
}

// The scope as the client sent it, before oidc-provider's checks edited it: from the pushed
// request when there is one, else from the form body or the query.
function requestedScope(ctx: KoaContextWithOIDC): string[] {
  const pushed = ctx.oidc.entities.PushedAuthorizationRequest
  const scope = pushed ? decodeJwt(pushed.request).scope : (ctx.oidc.body ?? ctx.query).scope
  return typeof scope === 'string' ? scope.split(' ') : []
}

function requestedAuthorizationDetails(ctx: KoaContextWithOIDC): unknown {
  const details = ctx.oidc.params?.authorization_details
  return typeof details === 'string' ? JSON.parse(details) : undefined
}

// rarForAuthorizationCode stored them on the code, which hands them on to its refresh token.
function storedAuthorizationDetails(model: object | undefined): unknown {
  return (model as { rar?: unknown } | undefined)?.rar
}

function isLoopbackOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false
  const { hostname } = new URL(origin)
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]'
}

async function generateRsaKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
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

async function sandboxClient(client: SandboxConfig['clients'][number]): Promise<SandboxClient> {
  const method = client.token_endpoint_auth_method
  const result: SandboxClient = {
    client_id: client.client_id,
    name: client.name ?? client.client_id,
    token_endpoint_auth_method: method,
    auth_methods: SECRET_METHODS.includes(method) ? [...SECRET_METHODS] : [method],
    redirect_uris: client.redirect_uris ?? [...LOOPBACK_REDIRECT_URIS],
  }
  if (SECRET_METHODS.includes(method)) {
    result.client_secret = client.client_secret ?? randomBytes(48).toString('base64url')
  }
  if (method === 'private_key_jwt' && client.jwks !== undefined) {
    result.jwks = client.jwks
  } else if (method === 'private_key_jwt') {
    const { privateJwk, publicJwk } = await generateRsaKey()
    result.private_jwk = privateJwk
    result.jwks = { keys: [publicJwk] }
  }
  return result
}

function clientMetadata(
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
  if (client.client_secret !== undefined) metadata.client_secret = client.client_secret
  if (client.jwks !== undefined) metadata.jwks = client.jwks
  return metadata
}

// Per-sandbox storage: oidc-provider's MemoryAdapter shares one module-level LRU between every
// provider in the process and warns on the console when used.
function memoryAdapter(): AdapterFactory {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>()
  const grants = new Map<string, Set<string>>()
  const sessionsByUid = new Map<string, string>()

  const read = (key: string) => {
    const entry = entries.get(key)
    if (entry && entry.expiresAt <= Date.now()) {
      entries.delete(key)
      return undefined
    }
    return entry?.payload
  }

  return (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`
    return {
      upsert(id, payload, expiresIn) {
        // Auth0's PAR lifetime; the PAR endpoint's response is rewritten to match.
        const ttl =
          model === 'PushedAuthorizationRequest' ? Math.min(expiresIn, PAR_LIFETIME) : expiresIn
        entries.set(key(id), { payload, expiresAt: Date.now() + ttl * 1000 })
        if (model === 'Session' && payload.uid !== undefined) sessionsByUid.set(payload.uid, id)
        if (GRANTABLE.has(model) && payload.grantId !== undefined) {
          const keys = grants.get(payload.grantId) ?? new Set()
          grants.set(payload.grantId, keys.add(key(id)))
        }
        return Promise.resolve()
      },
      find: (id) => Promise.resolve(read(key(id))),
      findByUid(uid) {
        const id = sessionsByUid.get(uid)
        return Promise.resolve(id === undefined ? undefined : read(key(id)))
      },
      // The device flow is disabled, so nothing has a user code.
      findByUserCode: () => Promise.resolve(undefined),
      consume(id) {
        const payload = read(key(id))
        if (payload) payload.consumed = Math.floor(Date.now() / 1000)
        return Promise.resolve()
      },
      destroy(id) {
        entries.delete(key(id))
        return Promise.resolve()
      },
      revokeByGrantId(grantId) {
        for (const grantKey of grants.get(grantId) ?? []) entries.delete(grantKey)
        grants.delete(grantId)
        return Promise.resolve()
      },
    }
  }
}

type OidcProviderModule = Awaited<ReturnType<typeof loadOidcProvider>>

interface InteractionContext {
  provider: InstanceType<OidcProviderModule['default']>
  errors: OidcProviderModule['errors']
  clients: SandboxClient[]
  accounts: Map<string, UserConfig>
  grantOrganizations: Map<string, OrganizationConfig>
  findOrganization: (value: unknown) => OrganizationConfig | undefined
  skipConsent: boolean
}

class PageError extends Error {
  readonly status: number
  readonly error: string
  constructor(status: number, error: string, description: string) {
    super(description)
    this.status = status
    this.error = error
  }
}

// The login and consent pages live beside oidc-provider, not inside it: they read and finish the
// interaction through its public API, as an Auth0 Universal Login page would.
function interactionHandler(context: InteractionContext) {
  const { provider, errors } = context

  async function login(req: IncomingMessage, res: ServerResponse, interaction: Interaction) {
    const clientName = clientNameOf(interaction)
    const redirectUri = stringParam(interaction, 'redirect_uri')
    const pageInput = {
      action: `/u/login/${interaction.uid}`,
      clientName,
      ...(redirectUri === undefined ? {} : { redirectUri }),
    }
    if (req.method === 'GET') {
      const hint = stringParam(interaction, 'login_hint')
      return send(
        res,
        loginPage({ ...pageInput, ...(hint === undefined ? {} : { username: hint }) }),
      )
    }
    const form = await readForm(req)
    const username = (form.get('username') ?? '').trim()
    if (username === '' || (form.get('password') ?? '') === '') {
      return send(
        res,
        loginPage({ ...pageInput, username, error: 'Enter a username and a password.' }),
      )
    }
    const sub = subjectFor(username)
    if (!context.accounts.has(sub)) context.accounts.set(sub, { username })
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: sub } },
      { mergeWithLastSubmission: false },
    )
  }

  async function consent(req: IncomingMessage, res: ServerResponse, interaction: Interaction) {
    if (context.skipConsent) return grant(req, res, interaction)
    if (req.method === 'GET') return send(res, consentPage(consentPageInput(interaction)))
    const action = (await readForm(req)).get('action')
    if (action === 'accept') return grant(req, res, interaction)
    if (action === 'deny') {
      return provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'User did not authorize the request' },
        { mergeWithLastSubmission: false },
      )
    }
    throw new PageError(
      400,
      'invalid_request',
      'the consent form needs action=accept or action=deny',
    )
  }

  async function grant(req: IncomingMessage, res: ServerResponse, interaction: Interaction) {
    const { details } = interaction.prompt
    const clientId = stringParam(interaction, 'client_id')
    const accountId = interaction.session?.accountId
    const existing = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : undefined
    const grant = existing ?? new provider.Grant({ accountId, clientId })
    const missingScope = details.missingOIDCScope as string[] | undefined
    if (missingScope) grant.addOIDCScope(missingScope.join(' '))
    const missingClaims = details.missingOIDCClaims as string[] | undefined
    if (missingClaims) grant.addOIDCClaims(missingClaims)
    const missingResources = details.missingResourceScopes as Record<string, string[]> | undefined
    for (const [indicator, scopes] of Object.entries(missingResources ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '))
    }
    // @types/oidc-provider 8.8 lacks Grant#addRar (RFC 9396).
    const rarGrant = grant as unknown as { addRar(detail: unknown): void }
    for (const detail of (details.rar as unknown[] | undefined) ?? []) rarGrant.addRar(detail)
    const grantId = await grant.save()

    const org = context.findOrganization(interaction.params.organization)
    if (org) context.grantOrganizations.set(grantId, org)
    else context.grantOrganizations.delete(grantId)
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    )
  }

  function consentPageInput(interaction: Interaction) {
    const accountId = interaction.session?.accountId ?? ''
    const redirectUri = stringParam(interaction, 'redirect_uri')
    const audience = stringParam(interaction, 'audience') ?? stringParam(interaction, 'resource')
    const org = context.findOrganization(interaction.params.organization)
    const details = stringParam(interaction, 'authorization_details')
    return {
      action: `/u/consent/${interaction.uid}`,
      clientName: clientNameOf(interaction),
      username: context.accounts.get(accountId)?.username ?? accountId,
      scopes: stringParam(interaction, 'scope')?.split(' ') ?? [],
      ...(redirectUri === undefined ? {} : { redirectUri }),
      ...(audience === undefined ? {} : { audience }),
      ...(org === undefined ? {} : { organization: org.display_name ?? org.name }),
      ...(details === undefined ? {} : { authorizationDetails: JSON.parse(details) as unknown }),
    }
  }

  function clientNameOf(interaction: Interaction): string {
    const clientId = stringParam(interaction, 'client_id')
    return context.clients.find((client) => client.client_id === clientId)?.name ?? clientId ?? ''
  }

  return async (
    req: IncomingMessage,
    res: ServerResponse,
    prompt: 'login' | 'consent',
    uid: string,
  ): Promise<void> => {
    try {
      if (req.method !== 'GET' && req.method !== 'POST') {
        throw new PageError(405, 'invalid_request', `${req.method} is not allowed here`)
      }
      const interaction = await provider.interactionDetails(req, res)
      if (interaction.uid !== uid || interaction.prompt.name !== prompt) {
        throw new PageError(
          400,
          'invalid_request',
          'this page belongs to another login transaction',
        )
      }
      if (prompt === 'login') await login(req, res, interaction)
      else await consent(req, res, interaction)
    } catch (error) {
      if (res.headersSent) {
        res.destroy()
        return
      }
      if (error instanceof PageError) {
        send(
          res,
          errorPage({ status: error.status, error: error.error, error_description: error.message }),
        )
      } else if (error instanceof errors.OIDCProviderError && error.expose) {
        send(
          res,
          errorPage({
            status: error.statusCode,
            error: error.error,
            ...(error.error_description === undefined
              ? {}
              : { error_description: error.error_description }),
          }),
        )
      } else {
        const message = error instanceof Error ? error.message : String(error)
        send(res, errorPage({ status: 500, error: 'server_error', error_description: message }))
      }
    }
  }
}

function stringParam(interaction: Interaction, name: string): string | undefined {
  const value = interaction.params[name]
  return typeof value === 'string' ? value : undefined
}

function send(res: ServerResponse, page: HtmlPage): void {
  res.writeHead(page.status, page.headers)
  res.end(page.body)
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
    throw new PageError(415, 'invalid_request', 'forms must be application/x-www-form-urlencoded')
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > FORM_LIMIT) throw new PageError(413, 'invalid_request', 'the form is too large')
    chunks.push(chunk as Buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function closer(server: Server): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()))
      server.closeAllConnections()
    })
    return closing
  }
}
