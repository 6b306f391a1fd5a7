import { describe, expect, it } from 'vitest'
import { expectFailure, loginAgainst } from '../helpers/hostile-server.js'
import type { HostileOptions, LoginRun } from '../helpers/hostile-server.js'
import type { CliProcess } from '../helpers/spawn-cli.js'
import { rawRequest } from '../helpers/raw-request.js'

const TOKEN = '/oauth/token'
// ESC, BEL and RIGHT-TO-LEFT OVERRIDE: none may reach a terminal raw (SO-4).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0007\u001b\u202e]/u
const ISS_SUPPORTED: HostileOptions['metadata'] = (m) => ({
  ...m,
  authorization_response_iss_parameter_supported: true,
})

/** Stopped at the callback: the browser got there, nothing was exchanged. */
function expectNoExchange(run: LoginRun): void {
  expect(run.browserRuns).toHaveLength(1)
  expect(run.server.count('GET', '/authorize')).toBe(1)
  expect(run.server.count('POST', TOKEN)).toBe(0)
}

/** Plays the user with `--no-browser`: reads the URL from stderr and asks the server for a code. */
async function authorizeByHand(cli: CliProcess): Promise<URL> {
  const [, url] = await cli.waitFor('stderr', /Open this URL to sign in:\n {2}(\S+)\n/u)
  const response = await rawRequest(new URL(url ?? ''))
  expect(response.status).toBe(302)
  return new URL(String(response.headers.location))
}

describe.concurrent('pkce login against a hostile server: the callback', () => {
  it('SN-2, D-1, LL-7: a callback with another state is state_mismatch, exit 4, no token request, a static page', async () => {
    const forged = '<script>alert(1)</script>'
    const run = await loginAgainst({
      callback: (params) => {
        params.set('state', forged)
        return params
      },
    })
    expectFailure(run, 4, 'state_mismatch', `the callback state "${forged}" does not match`)
    expect(run.doc.error?.stage).toBe('callback')
    expectNoExchange(run)
    expect(run.pages).toHaveLength(1)
    const [page] = run.pages
    expect(page?.status).toBe(400)
    expect(page?.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    })
    expect(page?.headers['content-security-policy']).toMatch(/^default-src 'none';/u)
    expect(page?.body).toContain(
      '<p>The callback was refused (state_mismatch). See the terminal for details.</p>',
    )
    expect(page?.body).not.toContain('alert(1)')
  })

  it('SN-2: a callback without state is state_missing, exit 4, no token request', async () => {
    const run = await loginAgainst({
      callback: (params) => {
        params.delete('state')
        return params
      },
    })
    expectFailure(run, 4, 'state_missing', 'the callback has no state')
    expectNoExchange(run)
  })

  it('RH-4: an error redirect with the wrong state is reported as state_mismatch, not the error', async () => {
    const run = await loginAgainst({
      callback: () => new URLSearchParams({ error: 'access_denied', state: 'forged' }),
    })
    expectFailure(run, 4, 'state_mismatch', 'the callback state "forged" does not match')
    expect(run.doc.error?.oauth).toBeUndefined()
    expectNoExchange(run)
  })

  it('RH-3: iss missing while the metadata advertises it is iss_missing, exit 4', async () => {
    const run = await loginAgainst({
      metadata: ISS_SUPPORTED,
      callback: (params) => {
        params.delete('iss')
        return params
      },
    })
    expectFailure(
      run,
      4,
      'iss_missing',
      'the callback has no iss although the server advertises authorization_response_iss_parameter_supported',
    )
    expectNoExchange(run)
  })

  it('RH-3: a different iss (the issuer without its trailing slash) is iss_mismatch, exit 4', async () => {
    const run = await loginAgainst({
      metadata: ISS_SUPPORTED,
      callback: (params, _request, origin) => {
        params.set('iss', origin)
        return params
      },
    })
    expectFailure(
      run,
      4,
      'iss_mismatch',
      `the callback iss "${run.server.origin}" is not the issuer "${run.server.issuer}"`,
    )
    expectNoExchange(run)
  })

  it('RH-3: the right iss where advertised passes and is recorded as a check', async () => {
    const run = await loginAgainst({ metadata: ISS_SUPPORTED })
    expect(run.code).toBe(0)
    expect(run.doc.checks).toContainEqual({
      name: 'callback.iss',
      ok: true,
      detail: `equals ${run.server.issuer}`,
    })
  })

  // Colour sequences are stripped; a lone BEL, a newline and a bidi override are shown escaped.
  const HOSTILE_DESCRIPTION = 'Bad\u001b[31mred\u001b[0m \u0007bell\n::error::forged\u202eevil'
  const SHOWN_DESCRIPTION = 'Badred \\x07bell\\n::error::forged\\u202eevil'
  const errorRedirect: HostileOptions['callback'] = (params) =>
    new URLSearchParams({
      error: 'access_denied',
      error_description: HOSTILE_DESCRIPTION,
      state: params.get('state') ?? '',
    })

  it('RH-4, SO-4: error= is authorization_error, exit 3, the provider text escaped, no token request', async () => {
    const run = await loginAgainst({ callback: errorRedirect })
    const error = expectFailure(
      run,
      3,
      'authorization_error',
      `authorization failed: access_denied: ${SHOWN_DESCRIPTION}`,
    )
    expect(error.hint).toBe('the user or a rule denied the request')
    // The oauth member carries the provider's values as sent; the JSON text itself stays inert.
    expect(error.oauth).toEqual({ error: 'access_denied', error_description: HOSTILE_DESCRIPTION })
    expect(run.stdout).not.toMatch(RAW_CONTROL)
    expectNoExchange(run)
  })

  it('SO-4: in human output the error description is escaped and no line starts with ::', async () => {
    const run = await loginAgainst({ callback: errorRedirect }, [], { json: false })
    expect(run.code).toBe(3)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(
      `error: authorization failed: access_denied: ${SHOWN_DESCRIPTION}\nhint: the user or a rule denied the request\n`,
    )
    expect(run.stderr).not.toMatch(RAW_CONTROL)
    expect(run.stderr).not.toMatch(/^::/mu)
    expect(run.stderr).not.toMatch(/^\s+at /mu)
    expectNoExchange(run)
  })

  it('RH-2: a callback with the right state but neither code nor error is code_missing, exit 4', async () => {
    const run = await loginAgainst({
      callback: (params) => new URLSearchParams({ state: params.get('state') ?? '' }),
    })
    expectFailure(run, 4, 'code_missing', 'the callback has neither code nor error')
    expectNoExchange(run)
  })

  it('D-1, RH-5: a callback with no parameters is empty_authorization_response, exit 4', async () => {
    const run = await loginAgainst({ callback: () => '' })
    const error = expectFailure(
      run,
      4,
      'empty_authorization_response',
      'the callback carried none of code, state, error or iss',
    )
    expect(error.hint).toMatch(/response_mode=fragment/u)
    expectNoExchange(run)
  })

  it('RH-1: a repeated parameter is duplicate_parameter, exit 4', async () => {
    const run = await loginAgainst({
      callback: (params) => `${params.toString()}&code=second`,
    })
    expectFailure(run, 4, 'duplicate_parameter', 'the callback repeats the parameter "code"')
    expectNoExchange(run)
  })

  it('RH-2: an unrequested id_token in the callback is unexpected_response_parameter, exit 4', async () => {
    const run = await loginAgainst({
      callback: (params) => {
        params.set('id_token', 'eyJhbGciOiJub25lIn0.e30.')
        return params
      },
    })
    expectFailure(
      run,
      4,
      'unexpected_response_parameter',
      'the callback carries "id_token", which the code flow never asks for',
    )
    expectNoExchange(run)
  })

  it('LL-5: the right state with Host evil.test gets 421 and no token request; the flow keeps waiting', async () => {
    let tokenRequestsAfterRebinding = -1
    const run = await loginAgainst({}, [], {
      browser: ['--no-browser'],
      during: async (cli, server) => {
        const callback = await authorizeByHand(cli)
        const rebound = await rawRequest(callback, {
          headers: { host: `evil.test:${callback.port}` },
        })
        expect(rebound.status).toBe(421)
        expect(rebound.body).not.toContain(callback.searchParams.get('code') ?? '')
        await cli.waitFor('stderr', /listener: a request for Host "evil\.test:\d+" was refused/u)
        tokenRequestsAfterRebinding = server.count('POST', TOKEN)
        const real = await rawRequest(callback)
        expect(real.status).toBe(200)
      },
    })
    expect(tokenRequestsAfterRebinding).toBe(0)
    expect(run.code).toBe(0)
    expect(run.server.count('POST', TOKEN)).toBe(1)
  })

  it('LL-4: other paths, methods and prefetches are answered and leave the flow running', async () => {
    const seen: number[] = []
    const run = await loginAgainst({}, [], {
      browser: ['--no-browser'],
      during: async (cli) => {
        const callback = await authorizeByHand(cli)
        seen.push((await rawRequest(new URL('/favicon.ico', callback))).status)
        seen.push((await rawRequest(callback, { method: 'POST' })).status)
        seen.push((await rawRequest(callback, { headers: { 'sec-purpose': 'prefetch' } })).status)
        seen.push((await rawRequest(callback)).status)
      },
    })
    expect(seen).toEqual([404, 405, 404, 200])
    expect(run.code).toBe(0)
    expect(run.server.count('POST', TOKEN)).toBe(1)
    expect(run.stderr).toContain('listener: a request for /favicon.ico was ignored')
  })

  it('SN-3: a second callback while the first is being exchanged is refused with 409', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const statuses: number[] = []
    const run = await loginAgainst({ tokenGate: gate }, [], {
      browser: ['--no-browser'],
      during: async (cli, server) => {
        const callback = await authorizeByHand(cli)
        const first = rawRequest(callback)
        await cli.waitFor('stderr', /Exchanging the code/u)
        // The token endpoint holds the exchange, so the first callback is still being handled.
        statuses.push((await rawRequest(callback)).status)
        expect(server.count('POST', TOKEN)).toBe(1)
        release()
        statuses.push((await first).status)
      },
    })
    expect(statuses).toEqual([409, 200])
    expect(run.code).toBe(0)
    expect(run.server.count('POST', TOKEN)).toBe(1)
    expect(run.stderr).toContain('listener: a second callback was refused')
  })
})
