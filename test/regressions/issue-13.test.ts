import { describe, expect, it } from 'vitest'
import { createTrace } from '../../src/net/trace.js'
import { isUseDpopNonce } from '../../src/oauth/dpop.js'

// Issue 13: what building refresh, UserInfo and revocation found (each failed before its fix).

describe('issue 13', () => {
  it('SO-3: the revocation form field `token` is redacted in --verbose (it showed the refresh token)', () => {
    const lines: string[] = []
    const trace = createTrace({
      write: (line) => lines.push(line),
      showSecrets: false,
      showTokens: false,
    })
    trace.request(
      {
        method: 'POST',
        url: new URL('https://as.test/oauth/revoke'),
        stage: 'revocation',
        form: new URLSearchParams({
          token: 'v1.refresh-token-value',
          token_type_hint: 'refresh_token',
        }),
      },
      {},
    )
    expect(lines).toContain('>   token=[redacted 22 chars]\n')
    expect(lines.join('')).not.toContain('v1.refresh-token-value')
  })

  it("DP-5: a resource server's 401 DPoP challenge with use_dpop_nonce asks for the one retry (it was not recognised)", async () => {
    const response = new Response(null, {
      status: 401,
      headers: {
        'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="nonce required"',
        'dpop-nonce': 'n1',
      },
    })
    expect(await isUseDpopNonce(response)).toBe(true)
    expect(
      await isUseDpopNonce(
        new Response(null, {
          status: 401,
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        }),
      ),
    ).toBe(false)
  })
})
