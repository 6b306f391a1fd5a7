import { readFile } from 'node:fs/promises'
import { createSecureContext, rootCertificates } from 'node:tls'
import type { SecureContext } from 'node:tls'
import { setFlagsFromString } from 'node:v8'
import type { buildConnector, Dispatcher } from 'undici'
import type { Ctx } from '../context.js'
import { CliError, isCliError } from '../errors.js'
import { createHttp } from '../net/http.js'
import { explainNetworkError } from '../net/network-error.js'
import { createTrace, secretHeaderName } from '../net/trace.js'
import type { ClientCertificate } from './client-certificate.js'
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
  /** `--header`: lower-case name and value pairs sent on every request, in order. */
  headers?: readonly (readonly [string, string])[]
  /** `--client-cert` and `--client-key`: presented on every TLS connection of the run (RFC 8705). */
  clientCertificate?: ClientCertificate
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

const PEM_BLOCK =
  /-----BEGIN (?:TRUSTED )?CERTIFICATE-----[^-]*-----END (?:TRUSTED )?CERTIFICATE-----/gu

/** A certificate's PEM block reduced to its base64 body, so the same certificate compares equal. */
const certificateKey = (pem: string): string => pem.replace(/-----[^-]+-----|\s/gu, '')

/**
 * The certificates of `texts` that Node's bundled roots do not already hold, each once. A
 * distribution's bundle is mostly Mozilla's list, which Node bundles too: parsing only what is
 * new turns some 280 certificates into a few dozen.
 */
export function additionalCertificates(texts: readonly string[]): string[] {
  const seen = new Set(rootCertificates.map(certificateKey))
  const added: string[] = []
  for (const text of texts) {
    for (const pem of text.match(PEM_BLOCK) ?? []) {
      const key = certificateKey(pem)
      if (seen.has(key)) continue
      seen.add(key)
      added.push(pem)
    }
  }
  return added
}

/**
 * One TLS context holding the run's trust (security.md TL-1): Node's default store (its bundled
 * roots and `NODE_EXTRA_CA_CERTS`, parsed once per process) plus `additional`. Adding to a copy of
 * the default store parses only the additional certificates; where Node offers no way to add
 * (its native context is not exposed), an explicit `ca` list replaces the default, so the bundled
 * roots go in it too. Either way verification stays on, and a certificate left out fails closed.
 */
export function trustedContext(
  additional: readonly string[],
  identity?: ClientCertificate,
): SecureContext {
  // RFC 8705 §2: the client certificate lives in the same context, offered when a server asks.
  const own =
    identity === undefined
      ? {}
      : {
          cert: identity.cert,
          key: identity.key,
          ...(identity.passphrase === undefined ? {} : { passphrase: identity.passphrase }),
        }
  const context = createSecureContext(own)
  const native = (context as { context?: { addCACert?: unknown } }).context
  if (typeof native?.addCACert === 'function') {
    // One call each: a block OpenSSL cannot read would end the reading of a joined text there.
    for (const pem of additional) (native.addCACert as (pem: string) => void).call(native, pem)
    return context
  }
  return createSecureContext({ ca: [...rootCertificates, ...additional], ...own })
}

/**
 * What the run trusts beyond Node's bundled roots: the system store, `NODE_EXTRA_CA_CERTS` and
 * `--ca-file`. Node 20 has no API for the system store, and an explicit `ca` would replace the
 * default list, so all are read here; tests inject their own dispatcher instead.
 */
async function runTrust(settings: HttpSettings, env: Ctx['env']): Promise<SecureContext> {
  const extra = env.NODE_EXTRA_CA_CERTS
  return trustedContext(
    additionalCertificates([
      ...(await systemBundle(env)),
      ...(extra === undefined || extra === ''
        ? []
        : [await readTextFile(extra, 'NODE_EXTRA_CA_CERTS')]),
      ...(settings.ca === undefined ? [] : [settings.ca]),
    ]),
    settings.clientCertificate,
  )
}

/**
 * The run's one dispatcher (keep-alive, one connection per origin reused): every TLS connection
 * shares `secureContext()`, built before the first https request, so certificates are parsed
 * once per run rather than once per connection; plain-http runs never read a trust store.
 */
async function systemDispatcher(
  secureContext: () => SecureContext | undefined,
  alerts: Map<string, Error>,
): Promise<Dispatcher> {
  // undici parses HTTP with llhttp built to WebAssembly, which V8 compiles with its baseline
  // compiler and then again, in the background, with its optimising one: some 30 MB of peak
  // memory and CPU time for a run that parses a handful of responses (issue 20). Baseline code
  // is fast enough for that; the flag is read when the module is compiled, on first connect.
  setFlagsFromString('--liftoff-only')
  const { Agent, buildConnector } = await import('../net/undici.js')
  const plain = buildConnector({})
  let tls: buildConnector.connector | undefined
  return new Agent({
    connect: (options, callback) => {
      if (options.protocol !== 'https:') return plain(options, callback)
      const context = secureContext()
      // Unreachable: createCommandHttp builds the context before any https request. Fail closed.
      if (context === undefined) return callback(new Error('no TLS trust store was built'), null)
      tls ??= buildConnector({ secureContext: context })
      return tls(options, (...args) => {
        // TLS 1.3 checks a client certificate after the handshake: the server's alert arrives as
        // a socket error undici reports only as "other side closed". Kept for the explanation.
        args[1]?.on('error', (error: Error & { code?: unknown }) => {
          if (typeof error.code === 'string' && error.code.startsWith('ERR_SSL_')) {
            alerts.set(options.hostname, error)
          }
        })
        callback(...args)
      })
    },
  })
}

/** The command's `Http`: timeout, body cap, no redirects, and a redacted trace under `--verbose`. */
export function createCommandHttp(settings: HttpSettings, ctx: Ctx): Http {
  let http: Promise<Http> | undefined
  let trust: Promise<SecureContext> | undefined
  let context: SecureContext | undefined
  const alerts = new Map<string, Error>()
  const build = async (): Promise<Http> => {
    checkTlsEnvironment(settings, ctx)
    const headers = settings.headers ?? []
    // SO-2: a value named like a secret stays off stderr everywhere, not only in traces.
    for (const [name, value] of headers) if (secretHeaderName(name)) ctx.secrets.add(value)
    return createHttp({
      headers,
      dispatcher: ctx.dispatcher ?? (await systemDispatcher(() => context, alerts)),
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
    const send = await http
    if (ctx.dispatcher === undefined && request.url.protocol === 'https:') {
      trust ??= runTrust(settings, ctx.env)
      context = await trust
    }
    try {
      return await send(request)
    } catch (error) {
      // The alert's socket error can land just after undici gave up on the connection.
      if (
        isCliError(error) &&
        error.code === 'network_error' &&
        request.url.protocol === 'https:'
      ) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      const alert = alerts.get(request.url.hostname)
      if (alert === undefined || !isCliError(error) || error.code !== 'network_error') throw error
      alerts.delete(request.url.hostname)
      throw explainNetworkError(alert, request, settings.timeoutMs, ctx.signal)
    }
  }
}
