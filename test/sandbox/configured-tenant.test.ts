import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, decodeJwt } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS, defaultSandboxConfig } from '../../src/sandbox/config.js'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import { subjectFor } from '../../src/sandbox/users.js'
import {
  authorizationUrl,
  codeFlowParams,
  codeFrom,
  createDpopKey,
  createPkce,
  postForm,
  requestLines,
  spyOnConsole,
  tokenEndpoint,
  withCodeFlow,
  withSandbox,
  type DpopKey,
} from './helpers.js'

// The options `pkce sandbox` takes besides PAR and DPoP: --skip-consent, the token lifetimes and
// a --config file of users, clients and organizations.
const consoleSpies = spyOnConsole()
const { callback, authorize, codeGrant } = withCodeFlow()

describe('a tenant that skips consent, with short lifetimes and a config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkce-sandbox-test-'))
  let ownKey: DpopKey
  const sandbox = withSandbox(async () => {
    ownKey = await createDpopKey()
    const config = defaultSandboxConfig()
    config.users = [{ username: 'bob@example.com', name: 'Bob Example', email_verified: false }]
    config.clients = [
      {
        client_id: 'my-app',
        token_endpoint_auth_method: 'client_secret_basic',
        client_secret: 's3cr:t+%',
      },
      {
        client_id: 'my-keyed-app',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...ownKey.publicJwk, kty: 'EC', kid: 'k1' }] },
      },
    ]
    config.organizations = [{ id: 'org_abc', name: 'initech' }]
    const configFile = join(dir, 'tenant.json')
    writeFileSync(configFile, JSON.stringify(config))
    return { skipConsent: true, lifetimes: { accessToken: 120, idToken: 60 }, configFile }
  })

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('grants without showing the consent page', async () => {
    const pkce = createPkce()
    const result = await driveAuthorization(
      authorizationUrl(
        sandbox,
        codeFlowParams('my-app', callback.redirectUri, pkce, { organization: 'initech' }),
      ),
      { username: 'bob@example.com' },
    )
    expect(requestLines(sandbox)).toEqual([
      'GET /authorize',
      'GET /u/login/:uid',
      'POST /u/login/:uid',
      'GET /authorize/:uid',
      'GET /u/consent/:uid',
      'GET /authorize/:uid',
    ])

    const credentials = `${encodeURIComponent('my-app')}:${encodeURIComponent('s3cr:t+%')}`
    const token = await postForm(
      tokenEndpoint(sandbox),
      {
        grant_type: 'authorization_code',
        code: codeFrom(result.callbackUrl),
        redirect_uri: callback.redirectUri,
        code_verifier: pkce.verifier,
      },
      { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
    )
    expect(token.status).toBe(200)
    expect(token.body.expires_in).toBe(120)
    const idToken = decodeJwt(token.body.id_token as string)
    expect(idToken.exp! - idToken.iat!).toBe(60)
    expect(idToken).toMatchObject({
      sub: subjectFor('bob@example.com'),
      name: 'Bob Example',
      email: 'bob@example.com',
      email_verified: false,
      org_id: 'org_abc',
      org_name: 'initech',
    })
    expect(sandbox.client('my-app').client_secret).toBe('s3cr:t+%')
    expect(() => sandbox.client(DEFAULT_CLIENT_IDS.public)).toThrow(
      'the sandbox has no client "sandbox-public"',
    )
  })

  it('verifies private_key_jwt with the public keys the config gave', async () => {
    const client = sandbox.client('my-keyed-app')
    expect(client.private_jwk).toBeUndefined()
    expect(client.jwks).toEqual({ keys: [{ ...ownKey.publicJwk, kid: 'k1' }] })
    const { code, verifier } = await authorize(sandbox, client.client_id)
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(client.client_id)
      .setSubject(client.client_id)
      .setAudience(`${sandbox.url}/oauth/token`)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomBytes(16).toString('base64url'))
      .sign(ownKey.privateKey)
    const token = await postForm(tokenEndpoint(sandbox), {
      ...codeGrant(client.client_id, code, verifier),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    })
    expect(token.status).toBe(200)
  })
})

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
