/**
 * Parameters `pkce` always sets itself; neither `--param` nor the endpoint's own query may carry
 * them (docs/security.md AR-1). `scope` is always sent (`--scope`), so it is one of them.
 */
export const PROTECTED_PARAMETERS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request_uri',
  'dpop_jkt',
] as const
