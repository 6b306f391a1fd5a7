import type { IncomingMessage, ServerResponse } from 'node:http'
import type Provider from 'oidc-provider'
import type { errors as OidcErrors, Interaction } from 'oidc-provider'
import type { SandboxClient } from './clients.js'
import { consentPage, errorPage, loginPage, type HtmlPage } from './pages.js'
import { subjectFor, type TenantUsers } from './users.js'

export type Prompt = 'login' | 'consent'

export interface InteractionContext {
  provider: Provider
  errors: typeof OidcErrors
  clients: SandboxClient[]
  users: TenantUsers
  skipConsent: boolean
  /** `identifier-first`: the username on one page, then the password, as Auth0's Universal Login. */
  loginPage: LoginPageKind
}

export type LoginPageKind = 'classic' | 'identifier-first'

/** The one password the sandbox refuses, so that tests can see a wrong-password message. */
export const WRONG_PASSWORD = 'wrong-password'
/** Auth0 Universal Login's message for a failed sign-in. */
export const WRONG_PASSWORD_MESSAGE = 'Wrong username or password'

const FORM_LIMIT = 16 * 1024
const INTERACTION_PATH = /^\/u\/(login|consent)\/([\w-]+)$/

/** Auth0's Universal Login paths, `/u/login/<uid>` and `/u/consent/<uid>`. */
export function interactionUrl(prompt: string, uid: string): string {
  return `/u/${prompt}/${uid}`
}

/** The prompt and interaction id of a request path, if it is an interaction page. */
export function interactionRoute(path: string): { prompt: Prompt; uid: string } | undefined {
  const match = INTERACTION_PATH.exec(path)
  return match ? { prompt: match[1] as Prompt, uid: match[2]! } : undefined
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

/**
 * Serves the login and consent pages. They live beside oidc-provider, not inside it: they read
 * and finish the interaction through its public API, as an Auth0 Universal Login page would.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#Authenticates (OIDC Core §3.1.2.3)
 * @see https://openid.net/specs/openid-connect-core-1_0.html#Consent (OIDC Core §3.1.2.4)
 */
export function interactionHandler(context: InteractionContext) {
  const { provider, errors } = context

  async function login(req: IncomingMessage, res: ServerResponse, interaction: Interaction) {
    const clientName = clientNameOf(interaction)
    const redirectUri = stringParam(interaction, 'redirect_uri')
    const pageInput = {
      action: interactionUrl('login', interaction.uid),
      clientName,
      ...(redirectUri === undefined ? {} : { redirectUri }),
    }
    const first = context.loginPage === 'identifier-first' ? 'identifier' : 'classic'
    if (req.method === 'GET') {
      const hint = stringParam(interaction, 'login_hint')
      return send(
        res,
        loginPage({ ...pageInput, step: first, ...(hint === undefined ? {} : { username: hint }) }),
      )
    }
    const form = await readForm(req)
    const username = (form.get('username') ?? '').trim()
    const password = form.get('password') ?? ''
    if (form.get('step') === 'identifier' && username !== '' && !form.has('password')) {
      return send(res, loginPage({ ...pageInput, step: 'password', username }))
    }
    // The page the rejected attempt came from: the password page once the username is known.
    const retry = first === 'identifier' && username !== '' ? 'password' : first
    if (username === '' || password === '') {
      return send(
        res,
        loginPage({
          ...pageInput,
          step: retry,
          username,
          error: 'Enter a username and a password.',
        }),
      )
    }
    if (password === WRONG_PASSWORD) {
      return send(
        res,
        loginPage({ ...pageInput, step: retry, username, error: WRONG_PASSWORD_MESSAGE }),
      )
    }
    const sub = subjectFor(username)
    if (!context.users.accounts.has(sub)) context.users.accounts.set(sub, { username })
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

    context.users.setGrantOrganization(
      grantId,
      context.users.findOrganization(interaction.params.organization),
    )
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
    const org = context.users.findOrganization(interaction.params.organization)
    const details = stringParam(interaction, 'authorization_details')
    return {
      action: interactionUrl('consent', interaction.uid),
      clientName: clientNameOf(interaction),
      username: context.users.accounts.get(accountId)?.username ?? accountId,
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
    prompt: Prompt,
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
