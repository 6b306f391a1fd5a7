import { sandboxOptions, type SandboxOptions } from '../sandbox/options.js'

export interface RawSandboxOptions {
  port: number
  https?: boolean
  requirePar?: boolean
  requireDpop?: boolean
  dpopNonce?: boolean
  skipConsent?: boolean
  accessTokenTtl?: number
  idTokenTtl?: number
  refreshTokenTtl?: number
  config?: string
  json?: boolean
}

/** `pkce sandbox`'s flags as the sandbox's options; a flag not given takes the sandbox default. */
export function toSandboxOptions(raw: RawSandboxOptions): SandboxOptions {
  return sandboxOptions({
    port: raw.port,
    https: raw.https,
    requirePar: raw.requirePar,
    requireDpop: raw.requireDpop,
    dpopNonce: raw.dpopNonce,
    skipConsent: raw.skipConsent,
    lifetimes: {
      accessToken: raw.accessTokenTtl,
      idToken: raw.idTokenTtl,
      refreshToken: raw.refreshTokenTtl,
    },
    configFile: raw.config,
  })
}
