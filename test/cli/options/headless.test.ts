import { describe, expect, it } from 'vitest'
import { toHeadlessOptions } from '../../../src/cli/options/headless.js'
import { withTempFiles } from '../../helpers/temp-files.js'
import { testCtx } from '../../helpers/test-ctx.js'

describe('toHeadlessOptions()', () => {
  const files = withTempFiles('pkce-headless-options-')

  it('reads the password from its file and redacts it; defaults: accept, 30s a step', async () => {
    const passwordFile = await files.file('password', 'correct horse battery\n')
    const ctx = testCtx()
    expect(
      await toHeadlessOptions({ headless: true, username: 'ci-user', passwordFile }, ctx),
    ).toStrictEqual({
      chromium: undefined,
      username: 'ci-user',
      password: 'correct horse battery',
      consent: 'accept',
      loginScript: undefined,
      screenshotDir: undefined,
      stepTimeoutMs: 30_000,
    })
    expect(ctx.secrets.redact('pw correct horse battery')).not.toContain('correct horse')
  })

  it('--deny-consent, --step-timeout, --chromium, --screenshot-dir, --login-script', async () => {
    expect(
      await toHeadlessOptions(
        {
          headless: true,
          denyConsent: true,
          stepTimeout: 5,
          chromium: '/c',
          screenshotDir: 'shots',
          loginScript: 'login.mjs',
        },
        testCtx(),
      ),
    ).toMatchObject({
      consent: 'deny',
      stepTimeoutMs: 5000,
      chromium: '/c',
      screenshotDir: 'shots',
      loginScript: 'login.mjs',
    })
  })

  it('without --headless: nothing, and a headless-only flag is a usage error', async () => {
    expect(await toHeadlessOptions({}, testCtx())).toBeUndefined()
    await expect(toHeadlessOptions({ username: 'ci-user' }, testCtx())).rejects.toMatchObject({
      code: 'usage_error',
      message: '--username works only with --headless',
    })
  })
})
