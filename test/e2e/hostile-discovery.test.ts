import { describe, expect, it } from 'vitest'
import { expectFailure, loginAgainst } from '../helpers/hostile-server.js'
import type { LoginRun } from '../helpers/hostile-server.js'

const DISCOVERY = '/.well-known/openid-configuration'

/** Nothing after discovery happened: no authorization request, no browser, no token request. */
function expectStoppedAtDiscovery(run: LoginRun): void {
  expect(run.server.requests.every((r) => r.pathname === DISCOVERY)).toBe(true)
  expect(run.browserRuns).toEqual([])
  expect(run.stdout.match(/^\{/gmu)).toHaveLength(1)
}

describe.concurrent('pkce login against a hostile server: discovery', () => {
  it('a well-behaved server signs in end to end (baseline for every hostile case)', async () => {
    const run = await loginAgainst({})
    expect(run.code).toBe(0)
    expect(run.doc.ok).toBe(true)
    expect(run.stderr).toContain(
      `warning: using plain http to the loopback issuer ${run.server.issuer} (insecure_loopback_issuer)`,
    )
    expect(run.stderr).not.toMatch(/^error:/mu)
    expect(run.server.requests.map((r) => `${r.method} ${r.pathname}`)).toEqual([
      `GET ${DISCOVERY}`,
      'GET /authorize',
      'POST /oauth/token',
      'GET /.well-known/jwks.json',
    ])
    expect(run.browserRuns).toHaveLength(1)
    expect(run.pages.map((page) => page.status)).toEqual([200])
    expect(run.pages[0]?.body).toContain('<h1>Signed in</h1>')
    expect(run.pages[0]?.body).not.toContain(String(run.server.requests[2]?.form.code))
    const checks = (run.doc.checks as { name: string; ok: boolean }[]).map(
      (c) => `${c.name} ${c.ok}`,
    )
    expect(checks).toContain('id_token.signature true')
    expect(checks).toContain('id_token.nonce true')
  })

  it('MD-6: an endpoint on a link-local address is endpoint_internal_address, a warning, and never requested', async () => {
    const revoke = 'https://169.254.169.254/latest/meta-data/'
    const run = await loginAgainst({ metadata: (m) => ({ ...m, revocation_endpoint: revoke }) })
    expect(run.code).toBe(0)
    const message = `revocation_endpoint ${revoke} is on 169.254.169.254, a link-local address, unlike the issuer: check that the metadata is the server's own`
    expect(run.stderr).toContain(`warning: ${message} (endpoint_internal_address)\n`)
    expect(run.doc.warnings).toContainEqual({ code: 'endpoint_internal_address', message })
  })

  for (const [label, issuer] of [
    ['no trailing slash', (origin: string) => origin],
    ['another path', (origin: string) => `${origin}/tenant/`],
    ['another port', (origin: string) => `${origin.replace(/:\d+$/u, ':1')}/`],
  ] as const) {
    it(`MD-1: a metadata issuer differing by ${label} is metadata_issuer_mismatch, exit 4`, async () => {
      const run = await loginAgainst({
        metadata: (m, origin) => ({ ...m, issuer: issuer(origin) }),
      })
      const origin = run.server.origin
      expectFailure(
        run,
        4,
        'metadata_issuer_mismatch',
        `the metadata issuer "${issuer(origin)}" is not the expected issuer "${origin}/"`,
      )
      expect(run.doc.error?.stage).toBe('discovery')
      expectStoppedAtDiscovery(run)
    })
  }

  it('HC-3: discovery redirecting to itself gives up after 3 redirects, exit 5', async () => {
    const run = await loginAgainst({
      discovery: (_request, response) => {
        response.writeHead(302, { location: DISCOVERY }).end()
      },
    })
    expectFailure(
      run,
      5,
      'network_error',
      `discovery at ${run.server.origin}${DISCOVERY} redirected more than 3 times`,
    )
    // The first request and three followed redirects; the fourth redirect is not followed.
    expect(run.server.count('GET', DISCOVERY)).toBe(4)
    expectStoppedAtDiscovery(run)
  })

  it('HC-3: discovery redirecting to another origin is unexpected_redirect, exit 4, not followed', async () => {
    const run = await loginAgainst({
      discovery: (_request, response, server) => {
        // Same host, another port: another origin.
        const elsewhere = `http://127.0.0.1:${server.port + 1}${DISCOVERY}`
        response.writeHead(301, { location: elsewhere }).end()
      },
    })
    const elsewhere = `http://127.0.0.1:${run.server.port + 1}${DISCOVERY}`
    expectFailure(
      run,
      4,
      'unexpected_redirect',
      `discovery at ${run.server.origin}${DISCOVERY} redirected to ${elsewhere}, another origin`,
    )
    expect(run.doc.error?.http).toEqual({ status: 301 })
    expect(run.server.count('GET', DISCOVERY)).toBe(1)
    expectStoppedAtDiscovery(run)
  })

  for (const [field, value, problem] of [
    ['authorization_endpoint', 'javascript:alert(1)', 'its scheme "javascript:" is not https'],
    ['authorization_endpoint', 'file:///etc/passwd', 'its scheme "file:" is not https'],
    ['authorization_endpoint', '-x', 'it starts with "-"'],
    ['authorization_endpoint', '--help', 'it starts with "-"'],
    [
      'authorization_endpoint',
      'http://example.com/authorize',
      'plain http is only allowed to a loopback host, not example.com',
    ],
    ['authorization_endpoint', '/authorize', 'it is not an absolute URL'],
    [
      'token_endpoint',
      'http://example.com/oauth/token',
      'plain http is only allowed to a loopback host, not example.com',
    ],
    ['jwks_uri', 'data:application/json,{"keys":[]}', 'its scheme "data:" is not https'],
  ] as const) {
    it(`HC-4, AR-2: metadata ${field} ${value} is insecure_endpoint, exit 4, before any browser opens`, async () => {
      const run = await loginAgainst({ metadata: (m) => ({ ...m, [field]: value }) })
      expectFailure(
        run,
        4,
        'insecure_endpoint',
        `the metadata ${field} "${value}" is refused: ${problem}`,
      )
      expectStoppedAtDiscovery(run)
    })
  }
})
