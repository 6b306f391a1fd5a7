import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import type { IO } from '../io/io.js'
import { formatClaimLines, formatRelative, heading } from '../io/render.js'
import { sanitize } from '../sanitize.js'
import { prepareRequest, pushRequest } from './authorize-step.js'
import type { AuthorizeOptions } from './authorize-step.js'
import { discoverServer, Flow, setupDpop } from './flow.js'
import type { DpopReport, Warning } from './flow.js'
import type { LoginOptions, LoginResult } from './login.js'

export interface ParOptions extends AuthorizeOptions {
  responseType: string
}

export interface ParResult {
  issuer: string
  client_id: string
  redirect_uri: string
  request_uri: string
  expires_in: number
  expires_at: string
  authorization_url: string
  code_verifier: string
  code_challenge: string
  code_challenge_method: 'S256'
  state: string
  nonce: string | null
  dpop: DpopReport | null
  warnings: Warning[]
  timings_ms: Record<string, number>
}

/**
 * `pkce par`: pushes an authorization request on its own and returns what finishing the flow
 * needs: the `request_uri`, the URL to open, and the verifier, state and nonce.
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-2
 */
export async function runPar(opts: ParOptions, ctx: Ctx): Promise<ParResult> {
  const flow = new Flow(opts.http, ctx)
  const { target } = opts
  try {
    const as = await discoverServer(target.issuer, flow, ctx)
    await setupDpop(opts.dpop, as, flow, ctx)
    const request = prepareRequest(opts, opts.redirectUri.href, flow, ctx)
    request.params.set('response_type', opts.responseType)
    const pushed = await pushRequest(target, as, request.params, flow, ctx)
    return {
      issuer: target.issuer,
      client_id: target.client.client_id,
      redirect_uri: opts.redirectUri.href,
      request_uri: pushed.par.request_uri,
      expires_in: pushed.par.expires_in,
      expires_at: pushed.par.expires_at,
      authorization_url: pushed.url.href,
      code_verifier: request.codeVerifier,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
      state: request.state,
      nonce: request.nonce ?? null,
      dpop: flow.dpop?.report ?? null,
      warnings: flow.warnings,
      timings_ms: flow.total(),
    }
  } catch (error) {
    flow.annotate(error)
    throw error
  }
}

/** `pkce par` with or without `--open`: the pushed request alone, or the whole flow after it. */
export type ParCommandResult =
  { kind: 'pushed'; result: ParResult } | { kind: 'login'; result: LoginResult }

/**
 * `pkce par [--open]`. With `--open` the command goes on as `login --par` does: the pushed
 * request is opened, the code exchanged and the tokens validated.
 */
export async function runParCommand(
  opts: LoginOptions & { responseType: string; open: boolean },
  ctx: Ctx,
): Promise<ParCommandResult> {
  if (!opts.open) return { kind: 'pushed', result: await runPar(opts, ctx) }
  if (opts.responseType !== 'code')
    throw new CliError('usage_error', '--open finishes a code flow: drop --response-type')
  const { runLogin } = await import('./login.js')
  return {
    kind: 'login',
    result: await runLogin({ ...opts, request: { ...opts.request, par: true } }, ctx),
  }
}

export function renderPar(result: ParResult, io: IO, now: Date): void {
  const c = io.color.out
  const left = (new Date(result.expires_at).getTime() - now.getTime()) / 1000
  const rows: [string, string][] = [
    ['request_uri', sanitize(result.request_uri)],
    [
      'expires_in',
      `${result.expires_in}s, at ${result.expires_at} (${left > 0 ? `${formatRelative(left)} left` : 'expired'})`,
    ],
    ['authorization_url', sanitize(result.authorization_url)],
    ['redirect_uri', result.redirect_uri],
    ['code_verifier', result.code_verifier],
    ['code_challenge', `${result.code_challenge} (S256)`],
    ['state', result.state],
  ]
  if (result.nonce !== null) rows.push(['nonce', result.nonce])
  if (result.dpop !== null) {
    rows.push(
      ['dpop_jkt', result.dpop.jkt],
      ['dpop nonce retries', String(result.dpop.nonce_retries)],
    )
  }
  io.out(
    `${heading('Pushed authorization request', c)}${formatClaimLines(
      rows.map(([key, value]) => ({ key, value, note: undefined })),
      c,
    )}\nOpen authorization_url within ${result.expires_in}s; exchange the code with code_verifier and redirect_uri above.\n`,
  )
}
