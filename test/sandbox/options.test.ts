import { describe, expect, it } from 'vitest'
import { sandboxOptions } from '../../src/sandbox/options.js'

const DEFAULTS = {
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

describe('sandboxOptions()', () => {
  it('gives the default tenant: plain HTTP on a free port, Auth0 lifetimes, the built-in config', () => {
    expect(sandboxOptions()).toStrictEqual(DEFAULTS)
    expect(sandboxOptions({})).toStrictEqual(DEFAULTS)
  })

  it('keeps what is given and defaults the rest, lifetimes one by one', () => {
    expect(
      sandboxOptions({
        port: 4000,
        https: true,
        requirePar: true,
        skipConsent: true,
        loginPage: 'identifier-first',
        lifetimes: { idToken: 60 },
        configFile: 'tenant.json',
      }),
    ).toStrictEqual({
      port: 4000,
      https: true,
      requirePar: true,
      requireDpop: false,
      dpopNonce: false,
      skipConsent: true,
      loginPage: 'identifier-first',
      lifetimes: { accessToken: 86_400, idToken: 60, refreshToken: 2_592_000 },
      configFile: 'tenant.json',
    })
  })

  it('treats undefined as not given', () => {
    expect(
      sandboxOptions({
        port: undefined,
        https: undefined,
        requireDpop: undefined,
        lifetimes: { accessToken: undefined, refreshToken: undefined },
        configFile: undefined,
      }),
    ).toStrictEqual(DEFAULTS)
  })

  it('is idempotent: complete options come back equal', () => {
    const options = sandboxOptions({ port: 1234, dpopNonce: true, lifetimes: { accessToken: 5 } })
    expect(sandboxOptions(options)).toStrictEqual(options)
  })
})
