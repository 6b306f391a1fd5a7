import { NO_ASSERTIONS } from '../../src/commands/assertions.js'
import { authorizationRequestWith } from '../../src/commands/authorize-step.js'
import type { AuthorizeOptions, Target } from '../../src/commands/authorize-step.js'
import { setupDpop } from '../../src/commands/flow.js'
import type { DpopOptions, Flow } from '../../src/commands/flow.js'
import { DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import type { LoginOptions } from '../../src/commands/login.js'
import { ISSUER, METADATA } from './mock-tenant.js'
import type { TestCtx } from './test-ctx.js'

// The options of the command tests' flows against the MockAgent tenant (./mock-tenant.ts).

export const REDIRECT = 'http://127.0.0.1:8484/callback'

/** The tenant's public client `abc`. */
export const TARGET: Target = {
  issuer: ISSUER,
  client: { client_id: 'abc', auth: { method: 'none' } },
}

// testCtx's random bytes count up: verifier bytes 0-31 (PK-1), state 32-63, nonce 64-95.
export const SEEDED = {
  codeVerifier: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
  codeChallenge: '6oZqdX5MOLq_qBJ8vppAnT4fk6AP8UiP9zX8-Rev_9A',
  state: 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8',
  nonce: 'QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8',
}

/** `--dpop` alone: a fresh key, its algorithm chosen from the metadata. */
export const FRESH_DPOP: DpopOptions = { alg: undefined, key: undefined, allowDowngrade: false }

/** The public client asking for `openid profile` on {@link REDIRECT}, without DPoP. */
export function authorizeOptions(extra: Partial<AuthorizeOptions> = {}): AuthorizeOptions {
  return {
    target: TARGET,
    request: authorizationRequestWith({ scope: 'openid profile' }),
    redirectUri: new URL(REDIRECT),
    dpop: undefined,
    http: DEFAULT_HTTP_SETTINGS,
    ...extra,
  }
}

/** {@link authorizeOptions}, printing the URL only, waiting 5 s, 60 s clock tolerance, no assertions. */
export function loginOptions(extra: Partial<LoginOptions> = {}): LoginOptions {
  return {
    ...authorizeOptions(),
    listener: { browser: { kind: 'none' }, timeoutMs: 5000, receipt: 'listener' },
    clockToleranceSeconds: 60,
    assertions: NO_ASSERTIONS,
    save: false,
    ...extra,
  }
}

/** Gives the flow a fresh ES256 DPoP key (the tenant lists ES256); its thumbprint. */
export async function withDpop(flow: Flow, ctx: TestCtx): Promise<string> {
  await setupDpop(
    FRESH_DPOP,
    { ...METADATA, dpop_signing_alg_values_supported: ['ES256'] },
    flow,
    ctx,
  )
  return flow.dpop?.key.jkt ?? ''
}
