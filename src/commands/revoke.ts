import type { Ctx } from '../context.js'
import type { IO } from '../io/io.js'
import {
  processRevocationResponse,
  revocationEndpoint,
  revocationRequest,
} from '../oauth/revocation.js'
import type { TokenTypeHint } from '../oauth/revocation.js'
import type { Target } from './authorize-step.js'
import { discoverServer, Flow } from './flow.js'
import type { Warning } from './flow.js'
import type { HttpSettings } from './http-settings.js'

export interface RevokeOptions {
  target: Target
  token: string
  tokenTypeHint: TokenTypeHint
  http: HttpSettings
}

export interface RevokeResult {
  issuer: string
  client_id: string
  revocation_endpoint: string
  token_type_hint: TokenTypeHint
  revoked: true
  warnings: Warning[]
  timings_ms: Record<string, number>
}

/**
 * Revokes a token at the revocation endpoint with the client's credentials; a 200 means it no
 * longer works (or never did: RFC 7009 §2.2 answers the same).
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
export async function revokeToken(
  opts: RevokeOptions,
  flow: Flow,
  ctx: Ctx,
): Promise<{ endpoint: URL }> {
  const { target } = opts
  const as = await discoverServer(target.issuer, flow, ctx)
  const endpoint = revocationEndpoint(as)
  ctx.reporter.step(`Revoking the ${opts.tokenTypeHint.replace('_', ' ')} at ${endpoint.href}`)
  const response = await flow.post(endpoint, 'revocation', async (headers) =>
    revocationRequest(
      as,
      await flow.credentials(target.client, target.issuer),
      opts.token,
      opts.tokenTypeHint,
      flow.http,
      headers,
    ),
  )
  await processRevocationResponse(response)
  flow.lap('revocation')
  return { endpoint }
}

/** `pkce revoke`: one token, revoked (RFC 7009). */
export async function runRevoke(opts: RevokeOptions, ctx: Ctx): Promise<RevokeResult> {
  const flow = new Flow(opts.http, ctx)
  ctx.secrets.add(opts.token)
  try {
    const { endpoint } = await revokeToken(opts, flow, ctx)
    return {
      issuer: opts.target.issuer,
      client_id: opts.target.client.client_id,
      revocation_endpoint: endpoint.href,
      token_type_hint: opts.tokenTypeHint,
      revoked: true,
      warnings: flow.warnings,
      timings_ms: flow.total(),
    }
  } catch (error) {
    flow.annotate(error)
    throw error
  }
}

export function renderRevoke(result: RevokeResult, io: IO): void {
  const c = io.color.out
  io.out(
    `${c.green('✓')} ${result.token_type_hint.replace('_', ' ')} revoked at ${result.revocation_endpoint}\n`,
  )
}
