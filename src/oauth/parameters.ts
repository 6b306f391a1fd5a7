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

/**
 * The response modes `--response-mode` takes: OAuth 2.0 Multiple Response Types, Form Post, JARM.
 * Here, not in authorize.ts, so the flag definitions load no endpoint rules (node:net).
 */
export const RESPONSE_MODES = [
  'query',
  'form_post',
  'fragment',
  'jwt',
  'query.jwt',
  'form_post.jwt',
  'fragment.jwt',
] as const
export type ResponseMode = (typeof RESPONSE_MODES)[number]
