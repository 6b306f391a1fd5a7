import { describe, expect, it } from 'vitest'
import { toSandboxOptions, toSandboxUserOptions } from '../../../src/cli/options/sandbox.js'
import { createSandboxCertificates } from '../../../src/sandbox/ca.js'
import { withTempFiles } from '../../helpers/temp-files.js'
import { testCtx } from '../../helpers/test-ctx.js'

describe('toSandboxOptions()', () => {
  it('`pkce sandbox` alone: port 4000, every other flag at its sandbox default', async () => {
    expect(await toSandboxOptions({})).toStrictEqual({
      port: 4000,
      https: false,
      requirePar: false,
      requireDpop: false,
      dpopNonce: false,
      skipConsent: false,
      loginPage: 'classic',
      lifetimes: { accessToken: 86_400, idToken: 36_000, refreshToken: 2_592_000 },
      configFile: undefined,
    })
  })

  it('every flag given, in one step to the sandbox options', async () => {
    expect(
      await toSandboxOptions({
        port: 0,
        https: true,
        requirePar: true,
        requireDpop: true,
        dpopNonce: true,
        skipConsent: true,
        loginPage: 'identifier-first',
        accessTokenTtl: 120,
        idTokenTtl: 60,
        refreshTokenTtl: 600,
        config: 'tenant.json',
      }),
    ).toStrictEqual({
      port: 0,
      https: true,
      requirePar: true,
      requireDpop: true,
      dpopNonce: true,
      skipConsent: true,
      loginPage: 'identifier-first',
      lifetimes: { accessToken: 120, idToken: 60, refreshToken: 600 },
      configFile: 'tenant.json',
    })
  })

  it('one lifetime flag changes that lifetime only', async () => {
    expect((await toSandboxOptions({ port: 4000, refreshTokenTtl: 30 })).lifetimes).toStrictEqual({
      accessToken: 86_400,
      idToken: 36_000,
      refreshToken: 30,
    })
  })
})

describe('toSandboxUserOptions()', () => {
  const files = withTempFiles('pkce-sandbox-user-')

  it('reads the password file and the CA before the first request; --deny denies consent', async () => {
    const { caCert } = createSandboxCertificates()
    const caFile = await files.file('ca.pem', caCert)
    const passwordFile = await files.file('password', 'hunter2\n')
    const ctx = testCtx()
    expect(
      await toSandboxUserOptions(
        {
          username: 'ada',
          passwordFile,
          deny: true,
          caFile,
        },
        'https://127.0.0.1:4000/authorize?x=1',
        ctx,
      ),
    ).toStrictEqual({
      url: 'https://127.0.0.1:4000/authorize?x=1',
      username: 'ada',
      password: 'hunter2',
      consent: 'deny',
      ca: caCert,
    })
    await expect(
      toSandboxUserOptions({ caFile: passwordFile }, 'https://x.test/', ctx),
    ).rejects.toThrow(expect.objectContaining({ code: 'usage_error' }))
  })
})
