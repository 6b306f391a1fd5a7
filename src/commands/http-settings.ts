import { rootCertificates } from 'node:tls'
import type { Dispatcher } from 'undici'
import type { Ctx } from '../context.js'
import { createHttp } from '../net/http.js'
import { createTrace } from '../net/trace.js'
import { readTextFile } from './inputs.js'
import type { Http } from '../oauth/http.js'

/** The flags every command that talks HTTP shares. */
export interface HttpSettings {
  timeoutMs: number
  caFile: string | undefined
  verbose: boolean
  showSecrets: boolean
  showTokens: boolean
}

/**
 * With `--ca-file`, an undici Agent trusting Node's roots, `NODE_EXTRA_CA_CERTS` and the file
 * (an explicit `ca` replaces the default list, so all three are given). Otherwise the context's.
 */
async function dispatcherFor(settings: HttpSettings, ctx: Ctx): Promise<Dispatcher | undefined> {
  if (settings.caFile === undefined) return ctx.dispatcher
  const extra = ctx.env.NODE_EXTRA_CA_CERTS
  const ca = [
    ...rootCertificates,
    ...(extra === undefined || extra === ''
      ? []
      : [await readTextFile(extra, 'NODE_EXTRA_CA_CERTS')]),
    await readTextFile(settings.caFile, '--ca-file'),
  ]
  const { Agent } = await import('undici')
  return new Agent({ connect: { ca } })
}

/** The command's `Http`: timeout, body cap, no redirects, and a redacted trace under `--verbose`. */
export function createCommandHttp(settings: HttpSettings, ctx: Ctx): Http {
  let http: Promise<Http> | undefined
  const build = async (): Promise<Http> =>
    createHttp({
      dispatcher: await dispatcherFor(settings, ctx),
      timeoutMs: settings.timeoutMs,
      signal: ctx.signal,
      userAgent: `pkce/${ctx.version}`,
      trace: settings.verbose
        ? createTrace({
            write: (text) => ctx.io.err(ctx.secrets.redact(text)),
            showSecrets: settings.showSecrets,
            showTokens: settings.showTokens,
          })
        : undefined,
    })
  return async (request) => {
    http ??= build()
    return (await http)(request)
  }
}
