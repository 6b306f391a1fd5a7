/** Token lifetimes in seconds. */
export interface SandboxLifetimes {
  accessToken: number
  idToken: number
  refreshToken: number
}

/**
 * How a sandbox tenant behaves: what `pkce sandbox` takes as flags, `pkce demo` and the tests as
 * arguments. It always listens on 127.0.0.1 (security.md LL-1).
 */
export interface SandboxOptions {
  /** The port to bind; 0 picks a free one. */
  port: number
  /** Serve HTTPS with a throw-away CA made at start (the tenant hands out its PEM). */
  https: boolean
  /** RFC 9126 §5: every authorization request must come through PAR. */
  requirePar: boolean
  /** RFC 9449 §5: every client must present DPoP proofs at the token endpoint. */
  requireDpop: boolean
  /** RFC 9449 §8: DPoP proofs must carry a server-provided nonce. */
  dpopNonce: boolean
  /** Grant consent without showing the consent page. */
  skipConsent: boolean
  /** The login page's shape: one page (`classic`), or username then password (`identifier-first`). */
  loginPage: 'classic' | 'identifier-first'
  lifetimes: SandboxLifetimes
  /** A JSON file of users, clients, audiences and organizations; absent: `defaultSandboxConfig()`. */
  configFile: string | undefined
}

type Given<T> = { [K in keyof T]?: T[K] | undefined }

/** Options as callers give them: a field left out, or `undefined`, takes its default. */
export type SandboxOptionsInput = Given<Omit<SandboxOptions, 'lifetimes'>> & {
  lifetimes?: Given<SandboxLifetimes>
}

// Port 0 for the demo and the tests; `pkce sandbox` asks for its documented --port default, 4000.
// The lifetimes are Auth0's defaults for an API, an application's ID token and a refresh token.
const DEFAULTS: SandboxOptions = {
  port: 0,
  https: false,
  requirePar: false,
  requireDpop: false,
  dpopNonce: false,
  skipConsent: false,
  loginPage: 'classic',
  lifetimes: { accessToken: 86_400, idToken: 36_000, refreshToken: 2_592_000 },
  configFile: undefined,
}

/** The options with every default applied: the one place the sandbox's defaults live. */
export function sandboxOptions(given: SandboxOptionsInput = {}): SandboxOptions {
  return {
    port: given.port ?? DEFAULTS.port,
    https: given.https ?? DEFAULTS.https,
    requirePar: given.requirePar ?? DEFAULTS.requirePar,
    requireDpop: given.requireDpop ?? DEFAULTS.requireDpop,
    dpopNonce: given.dpopNonce ?? DEFAULTS.dpopNonce,
    skipConsent: given.skipConsent ?? DEFAULTS.skipConsent,
    loginPage: given.loginPage ?? DEFAULTS.loginPage,
    lifetimes: {
      accessToken: given.lifetimes?.accessToken ?? DEFAULTS.lifetimes.accessToken,
      idToken: given.lifetimes?.idToken ?? DEFAULTS.lifetimes.idToken,
      refreshToken: given.lifetimes?.refreshToken ?? DEFAULTS.lifetimes.refreshToken,
    },
    configFile: given.configFile ?? DEFAULTS.configFile,
  }
}
