import { readFile } from 'node:fs/promises'
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
  /** `--ca-file`'s PEM text, read and checked by `readCaFile` before any request. */
  ca: string | undefined
  verbose: boolean
  showSecrets: boolean
  showTokens: boolean
  /** `--allow-tls-verification-disabled`: accept NODE_TLS_REJECT_UNAUTHORIZED=0 in CI. */
  allowTlsVerificationDisabled: boolean
}

/** What a command that offers no HTTP flags (the demo) uses: the flags' defaults. */
export const DEFAULT_HTTP_SETTINGS: HttpSettings = {
  timeoutMs: 30_000,
  ca: undefined,
  verbose: false,
  showSecrets: false,
  showTokens: false,
  allowTlsVerificationDisabled: false,
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

// Where Linux distributions keep the system trust store as one PEM bundle (Debian/Ubuntu,
// Fedora/RHEL, openSUSE, OpenELEC, CentOS/RHEL 7, Alpine): the list Go's crypto/x509 reads.
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
]

/** The system store's PEM bundle: `SSL_CERT_FILE` (OpenSSL's convention), else the first found. */
async function systemBundle(env: Ctx['env']): Promise<string[]> {
  const given = env.SSL_CERT_FILE
  if (given !== undefined && given !== '') return [await readTextFile(given, 'SSL_CERT_FILE')]
  for (const path of SYSTEM_BUNDLES) {
    try {
      return [await readFile(path, 'utf8')]
    } catch {
      // Not this distribution's path; try the next.
    }
  }
  return []
}

/**
 * TLS trust (security.md TL-1): Node's bundled roots, the system store, `NODE_EXTRA_CA_CERTS`
 * and `--ca-file`. Node 20 has no API for the system store, and an explicit `ca` replaces the
 * default list, so all four are given. Tests inject their own dispatcher instead.
 */
async function dispatcherFor(settings: HttpSettings, ctx: Ctx): Promise<Dispatcher | undefined> {
  if (ctx.dispatcher !== undefined) return ctx.dispatcher
  const extra = ctx.env.NODE_EXTRA_CA_CERTS
  const ca = [
    ...rootCertificates,
    ...(await systemBundle(ctx.env)),
    ...(extra === undefined || extra === ''
      ? []
      : [await readTextFile(extra, 'NODE_EXTRA_CA_CERTS')]),
    ...(settings.ca === undefined ? [] : [settings.ca]),
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
