import { rootCertificates } from 'node:tls'
import type { Dispatcher } from 'undici'
import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
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
  /** `--allow-tls-verification-disabled`: accept NODE_TLS_REJECT_UNAUTHORIZED=0 in CI. */
  allowTlsVerificationDisabled: boolean
}

/**
 * NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate checks off for the whole process: a loud
 * warning, and in CI a refusal unless acknowledged (security.md TL-2).
 */
function checkTlsEnvironment(settings: HttpSettings, ctx: Ctx): void {
  if (ctx.env.NODE_TLS_REJECT_UNAUTHORIZED !== '0') return
  if ((ctx.env.CI ?? '') !== '' && !settings.allowTlsVerificationDisabled) {
    throw new CliError(
      'tls_verification_disabled',
      'NODE_TLS_REJECT_UNAUTHORIZED=0 turns TLS verification off, and CI is set',
      {
        hint: 'unset it (for a private CA use --ca-file or NODE_EXTRA_CA_CERTS), or pass --allow-tls-verification-disabled',
      },
    )
  }
  ctx.reporter.warn(
    'tls_verification_disabled',
    'NODE_TLS_REJECT_UNAUTHORIZED=0: TLS certificates are NOT verified; anyone on the network path can impersonate the server',
  )
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
  const build = async (): Promise<Http> => {
    checkTlsEnvironment(settings, ctx)
    return createHttp({
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
  }
  return async (request) => {
    http ??= build()
    return (await http)(request)
  }
}
