import { randomBytes } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { decodeJwt } from 'jose'
import type { JWK } from 'jose'
import type * as OidcProvider from 'oidc-provider'
import type { Client, Configuration, KoaContextWithOIDC, ResourceServer } from 'oidc-provider'
import { isLoopbackHost } from '../oauth/endpoint.js'
import { clientMetadata, type SandboxClient } from './clients.js'
import type { AudienceConfig, SandboxConfig } from './config.js'
import { interactionUrl } from './interactions.js'
import { memoryAdapter } from './memory-adapter.js'
import type { SandboxOptions } from './options.js'
import { errorPage } from './pages.js'
import { profileClaims, type TenantUsers } from './users.js'

/** What the provider is built from: the loaded module, the options and the tenant's state. */
export interface ProviderSetup {
  oidc: typeof OidcProvider
  issuer: string
  options: SandboxOptions
  config: SandboxConfig
  clients: SandboxClient[]
  /** The tenant's RS256 ID token and access token signing key, private members included. */
  signingKey: JWK
  users: TenantUsers
  /** `updated_at` of every profile: when the tenant started. */
  startedAt: string
  /** Told the `authorization_details` (RFC 9396) of each request that carries them. */
  onAuthorizationDetails: (details: unknown) => void
  /** The listener that asks for client certificates (RFC 8705), `https://127.0.0.1:PORT`. */
  mtlsUrl?: string
}

// Auth0: "The thirty-second expiration time is a static value and can't be configured."
const PAR_LIFETIME = 30
const INTERACTION_LIFETIME = 60 * 60
const SESSION_LIFETIME = 3 * 24 * 60 * 60
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
 * An oidc-provider shaped like an Auth0 tenant: Auth0's endpoint paths, claims, PAR lifetime and
 * `audience` parameter, PKCE with S256 for every client.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1 (authorization code grant)
 * @see https://www.rfc-editor.org/rfc/rfc7636 (PKCE, required for every client)
 */
export function createProvider(setup: ProviderSetup): OidcProvider.default {
  const { default: Provider } = setup.oidc
  const provider = new Provider(setup.issuer, providerConfiguration(setup))
  provider.app.silent = true
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next()
    // The adapter keeps a pushed request for PAR_LIFETIME; the response says so.
    if (ctx.oidc?.route === 'pushed_authorization_request' && ctx.status === 201) {
      ;(ctx.body as { expires_in: number }).expires_in = PAR_LIFETIME
    }
  })
  return provider
}

function providerConfiguration(setup: ProviderSetup): SandboxConfiguration {
  const { oidc, options, config, users } = setup
  const { errors, interactionPolicy } = oidc
  const { lifetimes } = options

  const policy = interactionPolicy.base()
  if (options.skipConsent) {
    // Auth0 skips consent for first-party apps; oidc-provider would still stop native ones.
    policy.get('consent')?.checks.remove('native_client_prompt')
  }

  return {
    adapter: memoryAdapter({ PushedAuthorizationRequest: PAR_LIFETIME }),
    clients: setup.clients.map((client) =>
      clientMetadata(client, options.requireDpop, config.authorization_details_types),
    ),
    jwks: { keys: [setup.signingKey] },
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
    clientAuthMethods: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
      'private_key_jwt',
      'self_signed_tls_client_auth',
    ],
    ...(setup.mtlsUrl === undefined
      ? {}
      : {
          discovery: {
            claim_types_supported: ['normal'],
            // RFC 8705 §5: where a client presenting a certificate sends its requests.
            mtls_endpoint_aliases: {
              token_endpoint: `${setup.mtlsUrl}/oauth/token`,
              pushed_authorization_request_endpoint: `${setup.mtlsUrl}/oauth/par`,
              userinfo_endpoint: `${setup.mtlsUrl}/userinfo`,
              revocation_endpoint: `${setup.mtlsUrl}/oauth/revoke`,
            },
          },
        }),
    pkce: { methods: ['S256'], required: () => true },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256'],
      authorizationSigningAlgValues: ['RS256'],
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
        const org = users.findOrganization(value)
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
      // JARM (jwt, query.jwt, form_post.jwt, fragment.jwt), signed with the tenant's RS256 key;
      // query, fragment and form_post are oidc-provider's own response modes.
      jwtResponseModes: { enabled: true },
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: options.requirePar,
      },
      dPoP: {
        enabled: true,
        nonceSecret: options.dpopNonce ? randomBytes(32) : undefined,
        requireNonce: () => options.dpopNonce,
      },
      // RFC 8705: self-signed client certificates, matched to the client's registered x5c, and
      // certificate-bound access tokens; the certificate is the TLS peer's on the mTLS listener.
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx: KoaContextWithOIDC) => {
          const socket = ctx.req.socket as TLSSocket
          return typeof socket.getPeerX509Certificate === 'function'
            ? socket.getPeerX509Certificate()
            : undefined
        },
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
                setup.onAuthorizationDetails(requestedAuthorizationDetails(ctx))
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
      url: (_ctx, interaction) => interactionUrl(interaction.prompt.name, interaction.uid),
    },
    findAccount(_ctx, sub, token) {
      const user = users.accounts.get(sub)
      if (!user) return undefined
      return {
        accountId: sub,
        claims: () => ({
          sub,
          ...profileClaims(user, setup.startedAt),
          ...users.organizationClaims(token?.grantId),
        }),
      }
    },
    extraTokenClaims(_ctx, token) {
      return {
        azp: token.clientId,
        ...(token.resourceServer ? { permissions: token.scope?.split(' ') ?? [] } : {}),
        ...users.organizationClaims('grantId' in token ? token.grantId : undefined),
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
    // A page may call the token, PAR, revocation and userinfo endpoints from a loopback origin
    // only: the sandbox serves local development, never a site on the Internet.
    clientBasedCORS: (_ctx, origin) =>
      URL.canParse(origin) && isLoopbackHost(new URL(origin).hostname),
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
