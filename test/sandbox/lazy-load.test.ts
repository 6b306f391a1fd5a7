import { afterEach, describe, expect, it, vi } from 'vitest'

describe('loading oidc-provider', () => {
  afterEach(() => {
    vi.doUnmock('oidc-provider')
    vi.resetModules()
  })

  it('waits for startSandbox(): importing the tenant module does not load it', async () => {
    const factory = vi.fn(() => {
      throw new Error('Cannot find package oidc-provider')
    })
    vi.doMock('oidc-provider', factory)
    const { startSandbox } = await import('../../src/sandbox/tenant.js')
    expect(factory).not.toHaveBeenCalled()

    const error = await startSandbox().catch((e: unknown) => e)
    expect(factory).toHaveBeenCalledTimes(1)
    expect((error as Error).message).toBe(
      'the sandbox needs the optional dependency oidc-provider 8; install it with `npm install oidc-provider@8`',
    )
  })
})
