import type { JWK } from 'jose'
import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import type { Stage } from '../errors.js'
import type { Check } from '../jwt/verify.js'
import type { Client, ClientCredentials } from '../oauth/client-auth.js'
import { clientCredentials } from '../oauth/client-auth.js'
import { discover, withMtlsAliases } from '../oauth/discovery.js'
import type { AuthorizationServer } from '../oauth/discovery.js'
import { createDpopKey, DpopNonces, sendWithDpop } from '../oauth/dpop.js'
import type { DpopKey, DpopProofRecord } from '../oauth/dpop.js'
import type { Http } from '../oauth/http.js'
import { generateRandomValue } from '../oauth/pkce.js'
import { internalEndpointWarnings } from './endpoint-addresses.js'
import type { ClientCertificate } from './client-certificate.js'
import type { HttpSettings } from './http-settings.js'
import { createCommandHttp } from './http-settings.js'

export interface DpopOptions {
  /** `--dpop-alg`; default ES256, or the key's own `alg`. */
  alg: string | undefined
  /** `--dpop-key`: a private JWK; otherwise a fresh key per run. */
  key: JWK | undefined
  allowDowngrade: boolean
}

export interface Warning {
  code: string
  message: string
}

export interface DpopReport {
  alg: string
  jkt: string
  jwk: JWK
  nonce_retries: number
  proofs: DpopProofRecord[]
}

export interface ParReport {
  request_uri: string
  expires_in: number
  expires_at: string
}

/** The run's shared state: HTTP client, warnings, checks and step timings. */
export class Flow {
  readonly http: Http
  readonly checks: Check[] = []
  readonly warnings: Warning[] = []
  readonly timings: Record<string, number> = {}
  readonly #ctx: Ctx
  readonly #started = performance.now()
  #mark = performance.now()
  dpop: { key: DpopKey; nonces: DpopNonces; report: DpopReport } | undefined
  /** `--client-cert`: presented on every TLS connection; mTLS aliases and `cnf` follow from it. */
  readonly clientCertificate: ClientCertificate | undefined

  constructor(settings: HttpSettings, ctx: Ctx) {
    this.http = createCommandHttp(settings, ctx)
    this.#ctx = ctx
    this.clientCertificate = settings.clientCertificate
  }

  warn(code: string, message: string): void {
    this.warnings.push({ code, message })
    this.#ctx.reporter.warn(code, message)
  }

  /** Records the time since the previous lap under `name`. */
  lap(name: string): void {
    const now = performance.now()
    this.timings[name] = Math.round(now - this.#mark)
    this.#mark = now
  }

  total(): Record<string, number> {
    return { ...this.timings, total: Math.round(performance.now() - this.#started) }
  }

  /** Attaches what ran so far to a failure, for the `--json` failure document. */
  annotate(error: unknown): void {
    if (!(error instanceof CliError)) return
    error.details.checks = this.checks
    if (this.warnings.length > 0) error.details.warnings = this.warnings
  }

  jti(): string {
    return generateRandomValue(this.#ctx.random)
  }

  /** The client's credentials for one request; an assertion is a secret for the redactor. */
  async credentials(client: Client, issuer: string): Promise<ClientCredentials> {
    const credentials = await clientCredentials(client, issuer, this.#ctx.now(), this.jti())
    for (const [name, value] of credentials.form)
      if (name === 'client_assertion') this.#ctx.secrets.add(value)
    return credentials
  }

  /**
   * Sends a POST, with a DPoP proof (and the one `use_dpop_nonce` retry) when DPoP is on.
   * `build` makes the request afresh each time, so a retry gets a new proof and assertion.
   */
  post(
    url: URL,
    stage: Stage,
    build: (headers: Record<string, string>) => Promise<Response>,
  ): Promise<Response> {
    return this.send({ method: 'POST', url, stage }, build)
  }

  /**
   * Sends any request with a DPoP proof when DPoP is on; presenting an access token, the proof
   * carries its hash (`ath`, RFC 9449 §4.2).
   */
  async send(
    target: { method: 'GET' | 'POST'; url: URL; stage: Stage; accessToken?: string },
    build: (headers: Record<string, string>) => Promise<Response>,
  ): Promise<Response> {
    const dpop = this.dpop
    if (dpop === undefined) return build({})
    const result = await sendWithDpop(
      dpop.key,
      dpop.nonces,
      target,
      (proof) => build({ dpop: proof }),
      {
        now: () => this.#ctx.now(),
        jti: () => this.jti(),
      },
    )
    dpop.report.nonce_retries += result.nonceRetries
    dpop.report.proofs.push(...result.proofs)
    return result.response
  }
}

/**
 * Discovery plus the PKCE checks on the metadata: S256 must be listed when the list is there
 * (docs/security.md PK-6); an absent list is a warning.
 */
export async function discoverServer(
  issuer: string,
  flow: Flow,
  ctx: Ctx,
): Promise<AuthorizationServer> {
  if (new URL(issuer).protocol === 'http:') {
    flow.warn('insecure_loopback_issuer', `using plain http to the loopback issuer ${issuer}`)
  }
  ctx.reporter.step(`Discovering ${issuer}`)
  let as = await discover(issuer, flow.http)
  if (flow.clientCertificate !== undefined) {
    const mtls = withMtlsAliases(as)
    as = mtls.as
    for (const { endpoint, url } of mtls.aliased) {
      ctx.reporter.step(`mTLS: ${endpoint} is the alias ${url} (mtls_endpoint_aliases)`)
    }
  }
  for (const message of await internalEndpointWarnings(as)) {
    flow.warn('endpoint_internal_address', message)
  }
  flow.lap('discovery')
  const methods = as.code_challenge_methods_supported
  if (methods !== undefined && !methods.includes('S256')) {
    throw new CliError(
      'pkce_s256_unsupported',
      `the server lists code_challenge_methods_supported ${JSON.stringify(methods)} without S256`,
      {
        stage: 'discovery',
        hint: 'pkce always uses S256 (RFC 9700 §2.1.1); plain is never sent',
      },
    )
  }
  if (methods === undefined) {
    flow.warn(
      'pkce_support_unconfirmed',
      'the metadata has no code_challenge_methods_supported; PKCE support is unconfirmed, state still protects the flow',
    )
  }
  return as
}

/** Sets up DPoP for the run: the algorithm must be one the server lists, when it lists any. */
export async function setupDpop(
  options: DpopOptions | undefined,
  as: AuthorizationServer,
  flow: Flow,
  ctx: Ctx,
  extractable = false,
): Promise<void> {
  if (options === undefined) return
  const alg = options.alg ?? options.key?.alg ?? 'ES256'
  const supported = as.dpop_signing_alg_values_supported
  if (supported === undefined) {
    flow.warn(
      'dpop_support_unconfirmed',
      'the metadata has no dpop_signing_alg_values_supported; DPoP support is unconfirmed',
    )
  } else if (!supported.includes(alg)) {
    throw new CliError(
      'usage_error',
      `the server does not accept DPoP proofs signed with ${alg} (it lists ${supported.join(', ')})`,
      {
        hint: `pass --dpop-alg ${supported[0] ?? 'ES256'}`,
      },
    )
  }
  const key = await createDpopKey(alg, options.key, extractable)
  flow.dpop = {
    key,
    nonces: new DpopNonces(),
    report: { alg, jkt: key.jkt, jwk: key.publicJwk, nonce_retries: 0, proofs: [] },
  }
  ctx.reporter.step(`DPoP key ${alg}, thumbprint (dpop_jkt) ${key.jkt}`)
}

/** Whether this run pushes its request: asked for, or required by the server (PAR-7). */
export function usesPar(requested: boolean, as: AuthorizationServer, ctx: Ctx): boolean {
  if (requested) return true
  if (as.require_pushed_authorization_requests === true) {
    ctx.reporter.step(
      'The server requires pushed authorization requests (require_pushed_authorization_requests): using PAR',
    )
    return true
  }
  return false
}
