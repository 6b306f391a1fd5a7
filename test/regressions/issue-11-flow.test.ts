import { describe, expect, it } from 'vitest'
import { toRedirectUri } from '../../src/cli/options/listener.js'
import { main } from '../../src/main.js'
import { generateCodeVerifier } from '../../src/oauth/pkce.js'
import { testCtx } from '../helpers/test-ctx.js'

// Issue 11: bugs found while splitting the flow into steps and the options into concerns.

describe('issue 11: options and the flow', () => {
  it('a redirect URI on 127.0.0.2 is accepted: the same loopback rule as isLoopbackHost (it was refused)', async () => {
    expect((await toRedirectUri({ redirectUri: 'http://127.0.0.2:9000/callback' }, {})).href).toBe(
      'http://127.0.0.2:9000/callback',
    )
  })

  it('--param state=x is protected_parameter (exit 2) as README documents, not a generic usage_error', async () => {
    const ctx = testCtx()
    const code = await main(
      ['login', '--domain', 'a.test', '--client-id', 'c', '--param', 'state=x'],
      ctx,
    )
    expect(code).toBe(2)
    expect(ctx.stderr()).toBe(
      'error: "state" is set by pkce itself and cannot be passed with --param\nhint: use the flag for it, or drop --param state=…\n',
    )
  })

  it('PK-1: the default code_verifier is made from exactly 32 random bytes (it drew 33)', () => {
    const asked: number[] = []
    generateCodeVerifier((n) => {
      asked.push(n)
      return new Uint8Array(n)
    })
    expect(asked).toEqual([32])
  })
})
