import type { SandboxCommandOptions } from '../commands/sandbox.js'

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

export function toSandboxOptions(raw: RawSandboxOptions): SandboxCommandOptions {
  const lifetimes: SandboxCommandOptions['lifetimes'] = {}
  if (raw.accessTokenTtl !== undefined) lifetimes.accessToken = raw.accessTokenTtl
  if (raw.idTokenTtl !== undefined) lifetimes.idToken = raw.idTokenTtl
  if (raw.refreshTokenTtl !== undefined) lifetimes.refreshToken = raw.refreshTokenTtl
  return {
    port: raw.port,
    https: raw.https === true,
    requirePar: raw.requirePar === true,
    requireDpop: raw.requireDpop === true,
    dpopNonce: raw.dpopNonce === true,
    skipConsent: raw.skipConsent === true,
    lifetimes,
    configFile: raw.config,
  }
}
