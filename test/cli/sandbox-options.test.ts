import { describe, expect, it } from 'vitest'
import { toSandboxOptions } from '../../src/cli/sandbox-options.js'

describe('toSandboxOptions()', () => {
  it('`pkce sandbox` alone: the port commander gives, every other flag at its sandbox default', () => {
    expect(toSandboxOptions({ port: 4000 })).toStrictEqual({
      port: 4000,
      https: false,
      requirePar: false,
      requireDpop: false,
      dpopNonce: false,
      skipConsent: false,
      lifetimes: { accessToken: 86_400, idToken: 36_000, refreshToken: 2_592_000 },
      configFile: undefined,
    })
  })

  it('every flag given, in one step to the sandbox options', () => {
    expect(
      toSandboxOptions({
        port: 0,
        https: true,
        requirePar: true,
        requireDpop: true,
        dpopNonce: true,
        skipConsent: true,
        accessTokenTtl: 120,
        idTokenTtl: 60,
        refreshTokenTtl: 600,
        config: 'tenant.json',
        json: true,
      }),
    ).toStrictEqual({
      port: 0,
      https: true,
      requirePar: true,
      requireDpop: true,
      dpopNonce: true,
      skipConsent: true,
      lifetimes: { accessToken: 120, idToken: 60, refreshToken: 600 },
      configFile: 'tenant.json',
    })
  })

  it('one lifetime flag changes that lifetime only', () => {
    expect(toSandboxOptions({ port: 4000, refreshTokenTtl: 30 }).lifetimes).toStrictEqual({
      accessToken: 86_400,
      idToken: 36_000,
      refreshToken: 30,
    })
  })
})
