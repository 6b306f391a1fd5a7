/**
 * Parameters `pkce` always sets itself; neither `--param` nor the endpoint's own query may carry
 * them (security.md AR-1).
 */
export const PROTECTED_PARAMETERS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request_uri',
  'dpop_jkt',
] as const
