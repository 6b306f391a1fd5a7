export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  oauth: 3,
  protocol: 4,
  network: 5,
  interrupted: 130,
} as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/**
 * Every error code `pkce` can report, each bound to one exit code. Codes are stable: messages may
 * change, codes may not (security.md D-6).
 */
export const ERROR_EXIT = {
  internal_error: EXIT.internal,

  usage_error: EXIT.usage,
  protected_parameter: EXIT.usage,
  code_verifier_invalid: EXIT.usage,
  secret_on_argv: EXIT.usage,
  secret_missing: EXIT.usage,
  tls_verification_disabled: EXIT.usage,
  insecure_not_loopback: EXIT.usage,
  browser_not_found: EXIT.usage,

  authorization_error: EXIT.oauth,
  par_error: EXIT.oauth,
  token_error: EXIT.oauth,
  dpop_nonce_loop: EXIT.oauth,
  userinfo_error: EXIT.oauth,
  revocation_error: EXIT.oauth,
  login_rejected: EXIT.oauth,
  login_page_error: EXIT.oauth,

  metadata_invalid: EXIT.protocol,
  metadata_issuer_mismatch: EXIT.protocol,
  insecure_endpoint: EXIT.protocol,
  unsafe_authorization_endpoint: EXIT.protocol,
  conflicting_authorization_endpoint_param: EXIT.protocol,
  pkce_s256_unsupported: EXIT.protocol,
  jwks_invalid: EXIT.protocol,
  no_matching_key: EXIT.protocol,
  weak_key: EXIT.protocol,
  unexpected_redirect: EXIT.protocol,
  response_too_large: EXIT.protocol,

  empty_authorization_response: EXIT.protocol,
  duplicate_parameter: EXIT.protocol,
  iss_mismatch: EXIT.protocol,
  iss_missing: EXIT.protocol,
  state_mismatch: EXIT.protocol,
  state_missing: EXIT.protocol,
  code_missing: EXIT.protocol,
  unexpected_response_parameter: EXIT.protocol,
  fragment_relay_refused: EXIT.protocol,
  jarm_invalid: EXIT.protocol,
  jarm_encrypted: EXIT.protocol,
  jarm_alg_not_allowed: EXIT.protocol,
  jarm_signature_invalid: EXIT.protocol,
  jarm_issuer_invalid: EXIT.protocol,
  jarm_audience_invalid: EXIT.protocol,
  jarm_expired: EXIT.protocol,

  par_invalid_response: EXIT.protocol,
  par_unexpected_status: EXIT.protocol,
  token_response_not_json: EXIT.protocol,
  token_response_invalid: EXIT.protocol,
  id_token_missing: EXIT.protocol,
  dpop_nonce_invalid: EXIT.protocol,
  dpop_downgrade: EXIT.protocol,

  userinfo_unsupported: EXIT.protocol,
  userinfo_invalid: EXIT.protocol,
  userinfo_sub_mismatch: EXIT.protocol,
  revocation_unsupported: EXIT.protocol,
  revocation_invalid: EXIT.protocol,

  id_token_malformed: EXIT.protocol,
  id_token_unsupported_header: EXIT.protocol,
  id_token_typ_invalid: EXIT.protocol,
  id_token_alg_not_allowed: EXIT.protocol,
  id_token_signature_invalid: EXIT.protocol,
  id_token_issuer_invalid: EXIT.protocol,
  id_token_audience_invalid: EXIT.protocol,
  id_token_expired: EXIT.protocol,
  id_token_claim_invalid: EXIT.protocol,
  id_token_nonce_invalid: EXIT.protocol,
  id_token_at_hash_invalid: EXIT.protocol,
  id_token_auth_time_invalid: EXIT.protocol,
  access_token_invalid: EXIT.protocol,
  certificate_binding_mismatch: EXIT.protocol,
  assertion_failed: EXIT.protocol,
  token_invalid: EXIT.protocol,
  token_unavailable: EXIT.protocol,
  login_challenge: EXIT.protocol,
  login_page_unrecognised: EXIT.protocol,

  token_malformed: EXIT.protocol,
  token_too_large: EXIT.protocol,

  network_error: EXIT.network,
  tls_error: EXIT.network,
  timeout: EXIT.network,
  callback_timeout: EXIT.network,
  port_in_use: EXIT.network,

  interrupted: EXIT.interrupted,
} as const satisfies Record<string, ExitCode>

export type ErrorCode = keyof typeof ERROR_EXIT

/** Where in the flow an error happened; shown as `stage` in `--json`. */
export type Stage =
  | 'discovery'
  | 'par'
  | 'authorize'
  | 'callback'
  | 'token'
  | 'validate'
  | 'decode'
  | 'userinfo'
  | 'revocation'

export interface OAuthErrorFields {
  error: string
  error_description?: string
  error_uri?: string
}

export interface CliErrorInit {
  hint?: string | undefined
  stage?: Stage | undefined
  cause?: unknown
  oauth?: OAuthErrorFields | undefined
  status?: number | undefined
}

/**
 * An expected failure: a stable code (which fixes the exit code), a human message and a hint.
 * Anything thrown that is not a `CliError` is a bug and exits 1.
 */
export class CliError extends Error {
  readonly code: ErrorCode
  readonly hint: string | undefined
  readonly stage: Stage | undefined
  readonly oauth: OAuthErrorFields | undefined
  readonly status: number | undefined
  /** Extra members for the `--json` failure document, e.g. the checks that ran (`checks`). */
  readonly details: Record<string, unknown> = {}

  constructor(code: ErrorCode, message: string, init: CliErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'CliError'
    this.code = code
    this.hint = init.hint
    this.stage = init.stage
    this.oauth = init.oauth
    this.status = init.status
  }

  get exitCode(): ExitCode {
    return ERROR_EXIT[this.code]
  }
}

export function isCliError(value: unknown): value is CliError {
  return value instanceof CliError
}

/**
 * The same failure with a hint for where it happened: `invalid_grant` means a spent code at the
 * exchange, and a revoked or rotated refresh token at a refresh.
 */
export function withHint(error: CliError, hint: string): CliError {
  const hinted = new CliError(error.code, error.message, {
    hint,
    stage: error.stage,
    oauth: error.oauth,
    status: error.status,
    cause: error.cause,
  })
  Object.assign(hinted.details, error.details)
  return hinted
}
