import { describe, expect, it } from 'vitest'
import { toRedirectUri } from '../../src/cli/options/listener.js'
import { toParams } from '../../src/cli/options/request.js'
import { toIssuer } from '../../src/cli/options/target.js'
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

  it.each(['acme.test?x', 'acme.test#frag', 'user:pw@acme.test', 'acme.test/path'])(
    '--domain %s is refused: it would put more than a host into the issuer (it was accepted)',
    async (domain) => {
      await expect(toIssuer({ domain })).rejects.toThrow(
        expect.objectContaining({
          code: 'usage_error',
          message: `--domain takes a host name, not a URL: ${domain}`,
        }),
      )
    },
  )

  it('--param scope=x is protected_parameter: scope is always sent (it went out twice)', () => {
    expect(() => toParams([['scope', 'x']])).toThrow(
      expect.objectContaining({ code: 'protected_parameter' }),
    )
  })

  it('--param audience=x is refused for --audience: no parameter is sent twice (RFC 6749 §3.1)', () => {
    expect(() => toParams([['audience', 'x']])).toThrow(
      expect.objectContaining({
        code: 'usage_error',
        message: '"audience" has a flag of its own: use --audience',
      }),
    )
    expect(toParams([['resource', 'https://r/']])).toEqual([['resource', 'https://r/']])
  })

  it('a redirect URI with credentials is refused (it was accepted)', async () => {
    await expect(
      toRedirectUri({ redirectUri: 'http://user:pw@127.0.0.1:8484/callback' }, {}),
    ).rejects.toThrow(
      expect.objectContaining({
        code: 'usage_error',
        message: 'a redirect URI has no user name or password',
      }),
    )
  })
})
