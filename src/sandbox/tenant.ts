import { createServer as createHttpServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { closer, listen } from '../net/listen.js'
import { createSandboxCertificates } from './ca.js'
import { generateRsaKey, sandboxClient, type SandboxClient } from './clients.js'
import {
  defaultSandboxConfig,
  loadSandboxConfig,
  type AudienceConfig,
  type OrganizationConfig,
} from './config.js'
import { interactionHandler, interactionRoute } from './interactions.js'
import { sandboxOptions, type SandboxOptionsInput } from './options.js'
import { createProvider } from './provider-config.js'
import { profileClaims, subjectFor, tenantUsers, type SandboxUser } from './users.js'

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
  /** With `https`: the PEM of the throw-away CA that issued the server certificate, to trust. */
  caCert: string | undefined
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

// security.md LL-1: loopback only; the tenant hands out secrets and signs tokens.
const HOST = '127.0.0.1'

/**
 * Starts a local, Auth0-shaped OpenID Connect authorization server on oidc-provider.
 *
 * @param log told one line per request: method, path and status, never a query, header or body
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1 (authorization code grant)
 */
export async function startSandbox(
  given: SandboxOptionsInput = {},
  log?: (line: string) => void,
): Promise<Sandbox> {
  const options = sandboxOptions(given)
  const config =
    options.configFile === undefined
      ? defaultSandboxConfig()
      : await loadSandboxConfig(options.configFile)
  const certificates = options.https ? createSandboxCertificates() : undefined
  const oidc = await loadOidcProvider()
  const startedAt = new Date().toISOString()

  const requests: SandboxRequest[] = []
  // 503 until the provider is built: its issuer names the port, known only once bound.
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server = certificates
    ? createHttpsServer({ cert: certificates.cert, key: certificates.key })
    : createHttpServer()
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET'
    const path = pathOf(req)
    requests.push({ method, path, at: new Date() })
    if (log) res.on('finish', () => log(`${method} ${path} ${res.statusCode}`))
    handle(req, res)
  })
  const port = await listen(server, HOST, options.port)
  // RFC 8705: a second HTTPS listener asks for a client certificate (any, checked by the
  // provider); discovery names it in mtls_endpoint_aliases. The main one never asks.
  const mtlsServer = certificates
    ? createHttpsServer({
        cert: certificates.cert,
        key: certificates.key,
        requestCert: true,
        rejectUnauthorized: false,
      })
    : undefined
  mtlsServer?.on('request', (req: IncomingMessage, res: ServerResponse) => {
    server.emit('request', req, res)
  })
  const mtlsPort = mtlsServer ? await listen(mtlsServer, HOST, 0) : undefined
  const closeMain = closer(server)
  const closeMtls = mtlsServer ? closer(mtlsServer) : undefined
  const close = async (): Promise<void> => {
    await Promise.all([closeMain(), closeMtls?.()])
  }

  try {
    const domain = `${HOST}:${port}`
    const url = `${certificates ? 'https' : 'http'}://${domain}`
    const issuer = `${url}/`
    const users = tenantUsers(config)
    let lastAuthorizationDetails: unknown

    const [{ privateJwk: signingKey }, clients] = await Promise.all([
      generateRsaKey(),
      Promise.all(config.clients.map((client) => sandboxClient(client))),
    ])
    const provider = createProvider({
      oidc,
      issuer,
      ...(mtlsPort === undefined ? {} : { mtlsUrl: `https://${HOST}:${mtlsPort}` }),
      options,
      config,
      clients,
      signingKey,
      users,
      startedAt,
      onAuthorizationDetails: (details) => (lastAuthorizationDetails = details),
    })
    const interactions = interactionHandler({
      provider,
      errors: oidc.errors,
      clients,
      users,
      skipConsent: options.skipConsent,
      loginPage: options.loginPage,
    })
    const providerCallback = provider.callback()
    handle = (req, res) => {
      const route = interactionRoute(pathOf(req))
      if (route) void interactions(req, res, route.prompt, route.uid)
      else void providerCallback(req, res)
    }

    return {
      issuer,
      domain,
      port,
      url,
      caCert: certificates?.caCert,
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

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/'
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
