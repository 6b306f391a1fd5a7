import { decodeJwt } from 'jose'
import { request } from 'undici'
import { describe, expect, it, vi } from 'vitest'
import { DEFAULT_AUDIENCE, DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import type { Sandbox } from '../../src/sandbox/tenant.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import {
  authorizationUrl,
  callbackQuery,
  codeFlowParams,
  codeFrom,
  createPkce,
  getJson,
  postForm,
  requestLines,
  spyOnConsole,
  tokenEndpoint,
  withCodeFlow,
  withSandbox,
} from './helpers.js'

// Pushed authorization requests (RFC 9126) and rich authorization requests through them (RFC 9396).
const consoleSpies = spyOnConsole()
const { callback, codeFlow, codeGrant } = withCodeFlow()

/**
 * Pushes a code-flow request for the confidential client (with `extra` parameters); `url` is the
 * authorization URL that names the pushed request, `exchange()` drives it through the scripted
 * browser and redeems the code.
 */
async function pushCodeFlow(sandbox: Sandbox, extra: Record<string, string> = {}) {
  const client = sandbox.client(DEFAULT_CLIENT_IDS.confidential)
  const pkce = createPkce()
  const par = await postForm(`${sandbox.url}/oauth/par`, {
    ...codeFlowParams(client.client_id, callback.redirectUri, pkce, extra),
    client_secret: client.client_secret!,
  })
  const url = authorizationUrl(sandbox, {
    client_id: client.client_id,
    request_uri: par.body.request_uri as string,
  })
  const exchange = async () => {
    const result = await driveAuthorization(url)
    return postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, codeFrom(result.callbackUrl), pkce.verifier),
      client_secret: client.client_secret!,
    })
  }
  return { par, url, exchange }
}

describe('the default tenant', () => {
  const sandbox = withSandbox()

  it('pushes authorization requests for the confidential client with Auth0 lifetime', async () => {
    const { par, exchange } = await pushCodeFlow(sandbox, {
      scope: 'openid offline_access read:messages',
      audience: DEFAULT_AUDIENCE,
      organization: 'acme',
    })
    expect(par.status).toBe(201)
    expect(Object.keys(par.body).sort()).toEqual(['expires_in', 'request_uri'])
    expect(par.body.expires_in).toBe(30)
    expect(par.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:[\w-]+$/)

    const token = await exchange()
    expect(token.status).toBe(200)
    expect(typeof token.body.refresh_token).toBe('string')
    expect(decodeJwt(token.body.access_token as string)).toMatchObject({
      aud: DEFAULT_AUDIENCE,
      org_id: 'org_sandbox123',
      permissions: ['read:messages'],
    })
  })

  it('keeps a request_uri for 30 seconds', async () => {
    const push = async () => (await pushCodeFlow(sandbox)).url
    const follow = async (url: string) => {
      const response = await request(url)
      await response.body.dump()
      return `${response.statusCode} ${String(response.headers.location).replace(/[\w-]+$/, ':uid')}`
    }
    const [young, old] = [await push(), await push()]
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 29_000)
      expect(await follow(young)).toBe('303 /u/login/:uid')
      vi.setSystemTime(Date.now() + 2_000)
      await expect(driveAuthorization(old)).rejects.toThrow(
        new Error(
          `the authorization server showed an error page (HTTP 400) at ${sandbox.url}/authorize: invalid_request_uri: request_uri is invalid, expired, or was already used`,
        ),
      )
    } finally {
      vi.useRealTimers()
    }
  })

  it('refuses PAR from the public client, as Auth0 does', async () => {
    const before = sandbox.requests.length
    const par = await postForm(`${sandbox.url}/oauth/par`, codeFlow(DEFAULT_CLIENT_IDS.public))
    expect(par.status).toBe(401)
    expect(par.body).toEqual({
      error: 'invalid_client',
      error_description:
        'public clients cannot use pushed authorization requests; authenticate the client',
    })
    expect(sandbox.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /oauth/par',
    ])
  })

  it('passes authorization_details (RFC 9396) through PAR to the token response', async () => {
    const details = [
      { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '123.50' } },
    ]
    const { par, exchange } = await pushCodeFlow(sandbox, {
      audience: DEFAULT_AUDIENCE,
      authorization_details: JSON.stringify(details),
    })
    expect(par.status).toBe(201)
    expect(sandbox.lastAuthorizationDetails).toEqual(details)

    const token = await exchange()
    expect(token.status).toBe(200)
    expect(token.body.authorization_details).toEqual(details)
    expect(decodeJwt(token.body.access_token as string).authorization_details).toEqual(details)
  })

  it('rejects an authorization_details type it does not know', async () => {
    const { par } = await pushCodeFlow(sandbox, {
      audience: DEFAULT_AUDIENCE,
      authorization_details: JSON.stringify([{ type: 'tax_data' }]),
    })
    expect(par.status).toBe(400)
    expect(par.body).toEqual({
      error: 'invalid_authorization_details',
      error_description:
        'unsupported authorization details type value (authorization details index 0)',
    })
  })
})

describe('a tenant that requires PAR', () => {
  const sandbox = withSandbox({ requirePar: true })

  it('says so in discovery', async () => {
    const { body } = await getJson(`${sandbox.url}/.well-known/openid-configuration`)
    expect(body.require_pushed_authorization_requests).toBe(true)
  })

  it('rejects an authorization request that was not pushed', async () => {
    const before = sandbox.requests.length
    const query = await callbackQuery(sandbox, codeFlow(DEFAULT_CLIENT_IDS.confidential))
    expect(query).toEqual({
      error: 'invalid_request',
      error_description: 'Pushed Authorization Request must be used',
      state: 'state-123',
      iss: sandbox.issuer,
    })
    expect(requestLines(sandbox).slice(before)).toEqual(['GET /authorize'])
  })

  it('runs the flow through PAR', async () => {
    const { par, exchange } = await pushCodeFlow(sandbox)
    expect(par.status).toBe(201)
    const token = await exchange()
    expect(token.status).toBe(200)
  })
})

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
