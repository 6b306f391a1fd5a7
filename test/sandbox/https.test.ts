import { decodeJwt } from 'jose'
import { Agent, fetch, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import {
  CALLBACK_BODY,
  authorizationUrl,
  codeFlowParams,
  codeFrom,
  createPkce,
  getJson,
  postForm,
  spyOnConsole,
  tokenEndpoint,
  withCallbackListener,
  withSandbox,
} from './helpers.js'

describe('an HTTPS tenant with the throw-away CA', () => {
  const spies = spyOnConsole()
  const sandbox = withSandbox({ https: true })
  const callback = withCallbackListener()
  let dispatcher: Agent

  beforeAll(() => {
    dispatcher = new Agent({ connect: { ca: sandbox.caCert! } })
  })

  afterAll(async () => {
    await dispatcher.close()
    for (const spy of spies) spy.mockRestore()
  })

  it('has an https issuer', async () => {
    expect(sandbox.issuer).toBe(`https://127.0.0.1:${sandbox.port}/`)
    const { status, body } = await getJson(
      `${sandbox.url}/.well-known/openid-configuration`,
      dispatcher,
    )
    expect(status).toBe(200)
    expect(body.issuer).toBe(sandbox.issuer)
    expect(body.token_endpoint).toBe(`https://127.0.0.1:${sandbox.port}/oauth/token`)
  })

  it('is refused by a client that does not trust the CA', async () => {
    const error = await fetch(`${sandbox.url}/.well-known/openid-configuration`).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).cause).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
  })

  it('marks its cookies Secure', async () => {
    const response = await request(
      authorizationUrl(
        sandbox,
        codeFlowParams(DEFAULT_CLIENT_IDS.public, callback.redirectUri, createPkce()),
      ),
      { dispatcher },
    )
    await response.body.dump()
    expect(response.statusCode).toBe(303)
    const cookies = response.headers['set-cookie'] as string[]
    expect(cookies.filter((cookie) => cookie.startsWith('_interaction='))).toHaveLength(1)
    for (const cookie of cookies) expect(cookie).toMatch(/; secure(;|$)/)
  })

  it('runs the whole flow with the scripted agent trusting the CA', async () => {
    const pkce = createPkce()
    const result = await driveAuthorization(
      authorizationUrl(
        sandbox,
        codeFlowParams(DEFAULT_CLIENT_IDS.public, callback.redirectUri, pkce),
      ),
      { ca: sandbox.caCert! },
    )
    expect(result.status).toBe(200)
    expect(result.body).toBe(CALLBACK_BODY)
    expect(new URL(result.callbackUrl).searchParams.get('iss')).toBe(sandbox.issuer)

    const token = await postForm(
      tokenEndpoint(sandbox),
      {
        grant_type: 'authorization_code',
        code: codeFrom(result.callbackUrl),
        redirect_uri: callback.redirectUri,
        client_id: DEFAULT_CLIENT_IDS.public,
        code_verifier: pkce.verifier,
      },
      {},
      dispatcher,
    )
    expect(token.status).toBe(200)
    expect(decodeJwt(token.body.id_token as string).iss).toBe(sandbox.issuer)
  })

  it('fails the scripted agent without the CA', async () => {
    const url = authorizationUrl(
      sandbox,
      codeFlowParams(DEFAULT_CLIENT_IDS.public, callback.redirectUri, createPkce()),
    )
    const error = await driveAuthorization(url).catch((e: unknown) => e)
    expect((error as Error).message).toBe(
      `could not reach the authorization server at ${sandbox.url}/authorize`,
    )
    expect((error as Error).cause).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
  })

  it('printed nothing to the console', () => {
    for (const spy of spies) expect(spy).not.toHaveBeenCalled()
  })
})
