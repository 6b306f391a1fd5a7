import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_AUDIENCE,
  DEFAULT_CLIENT_IDS,
  DEFAULT_ORGANIZATION,
  SandboxConfigError,
  defaultSandboxConfig,
  loadSandboxConfig,
  parseSandboxConfig,
} from '../../src/sandbox/config.js'

describe('defaultSandboxConfig()', () => {
  it('is the documented tenant', () => {
    expect(defaultSandboxConfig()).toEqual({
      users: [{ username: 'user@sandbox.test', name: 'Sandbox User' }],
      clients: [
        {
          client_id: 'sandbox-public',
          name: 'Sandbox Native App',
          token_endpoint_auth_method: 'none',
        },
        {
          client_id: 'sandbox-confidential',
          name: 'Sandbox Regular Web App',
          token_endpoint_auth_method: 'client_secret_post',
        },
        {
          client_id: 'sandbox-private-key-jwt',
          name: 'Sandbox Private Key JWT App',
          token_endpoint_auth_method: 'private_key_jwt',
        },
      ],
      audiences: [
        {
          identifier: 'https://api.sandbox.test/',
          name: 'Sandbox API',
          scopes: ['read:messages', 'write:messages'],
        },
      ],
      organizations: [{ id: 'org_sandbox123', name: 'acme', display_name: 'Acme' }],
      authorization_details_types: ['payment_initiation'],
    })
    expect(DEFAULT_CLIENT_IDS).toEqual({
      public: 'sandbox-public',
      confidential: 'sandbox-confidential',
      privateKeyJwt: 'sandbox-private-key-jwt',
    })
    expect(DEFAULT_AUDIENCE).toBe('https://api.sandbox.test/')
    expect(DEFAULT_ORGANIZATION).toEqual({ id: 'org_sandbox123', name: 'acme' })
  })

  it('returns a fresh copy each time', () => {
    const first = defaultSandboxConfig()
    first.users.push({ username: 'mallory' })
    expect(defaultSandboxConfig().users).toHaveLength(1)
  })
})

describe('parseSandboxConfig()', () => {
  it('keeps the default sections a file leaves out', () => {
    const config = parseSandboxConfig({ organizations: [{ id: 'org_1', name: 'initech' }] })
    expect(config.organizations).toEqual([{ id: 'org_1', name: 'initech' }])
    expect(config.clients).toEqual(defaultSandboxConfig().clients)
    expect(config.users).toEqual(defaultSandboxConfig().users)
  })

  it('reads every field', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }
    expect(
      parseSandboxConfig({
        users: [{ username: 'bob', name: 'Bob', email: 'bob@example.com', email_verified: false }],
        clients: [
          {
            client_id: 'web',
            name: 'Web',
            token_endpoint_auth_method: 'client_secret_basic',
            client_secret: 'secret',
            redirect_uris: ['http://127.0.0.1/cb'],
          },
          { client_id: 'spa' },
          {
            client_id: 'keyed',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [jwk] },
          },
        ],
        audiences: [{ identifier: 'https://api.example/', scopes: ['read:all'] }],
        authorization_details_types: ['account_information'],
      }),
    ).toEqual({
      users: [{ username: 'bob', name: 'Bob', email: 'bob@example.com', email_verified: false }],
      clients: [
        {
          client_id: 'web',
          name: 'Web',
          token_endpoint_auth_method: 'client_secret_basic',
          client_secret: 'secret',
          redirect_uris: ['http://127.0.0.1/cb'],
        },
        { client_id: 'spa', token_endpoint_auth_method: 'none' },
        {
          client_id: 'keyed',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [jwk] },
        },
      ],
      audiences: [{ identifier: 'https://api.example/', scopes: ['read:all'] }],
      organizations: defaultSandboxConfig().organizations,
      authorization_details_types: ['account_information'],
    })
  })

  it.each([
    [[], 'tenant.json must be an object'],
    [
      { client: [] },
      'tenant.json has unknown field "client" (expected users, clients, audiences, organizations, authorization_details_types)',
    ],
    [{ clients: [] }, 'tenant.json: clients must not be empty'],
    [{ clients: {} }, 'tenant.json: clients must be an array'],
    [
      { clients: [{ client_id: '' }] },
      'tenant.json: clients[0].client_id must be a non-empty string',
    ],
    [
      { clients: [{ client_id: 'a b\n' }] },
      'tenant.json: clients[0].client_id has characters that are not allowed: "a b\\n"',
    ],
    [
      { clients: [{ client_id: 'a', token_endpoint_auth_method: 'tls_client_auth' }] },
      'tenant.json: clients[0].token_endpoint_auth_method must be one of none, client_secret_post, client_secret_basic, client_secret_jwt, private_key_jwt, self_signed_tls_client_auth',
    ],
    [
      { clients: [{ client_id: 'a', client_secret: 's' }] },
      'tenant.json: clients[0].client_secret is only for client_secret_post, client_secret_basic and client_secret_jwt clients',
    ],
    [
      { clients: [{ client_id: 'a', jwks: { keys: [] } }] },
      'tenant.json: clients[0].jwks is only for private_key_jwt and self_signed_tls_client_auth clients',
    ],
    [
      {
        clients: [
          {
            client_id: 'a',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [{ kty: 'RSA', n: 'n', e: 'e', d: 'd' }] },
          },
        ],
      },
      'tenant.json: clients[0].jwks.keys[0] has private member "d"; give public keys only',
    ],
    [
      { clients: [{ client_id: 'a', redirect_uris: ['/callback'] }] },
      'tenant.json: clients[0].redirect_uris[0] must be an absolute URL without a fragment',
    ],
    [
      { clients: [{ client_id: 'a', secret: 's' }] },
      'tenant.json: clients[0] has unknown field "secret" (expected client_id, name, token_endpoint_auth_method, client_secret, jwks, redirect_uris)',
    ],
    [
      { clients: [{ client_id: 'a' }, { client_id: 'a' }] },
      'tenant.json: clients repeats client_id "a"',
    ],
    [
      { audiences: [{ identifier: 'my-api', scopes: [] }] },
      'tenant.json: audiences[0].identifier must be an absolute URL without a fragment',
    ],
    [
      { audiences: [{ identifier: 'https://api/', scopes: ['read all'] }] },
      'tenant.json: audiences[0].scopes[0] has characters that are not allowed: "read all"',
    ],
    [
      {
        organizations: [
          { id: 'org_1', name: 'a' },
          { id: 'org_2', name: 'org_1' },
        ],
      },
      'tenant.json: organizations repeats id or name "org_1"',
    ],
    [
      { users: [{ username: 'a', email_verified: 'yes' }] },
      'tenant.json: users[0].email_verified must be true or false',
    ],
    [{ users: [{ username: 'a' }, { username: 'a' }] }, 'tenant.json: users repeats username "a"'],
  ])('rejects %j', (input, message) => {
    expect(() => parseSandboxConfig(input, 'tenant.json')).toThrow(new SandboxConfigError(message))
  })
})

describe('loadSandboxConfig()', () => {
  it('reads a JSON file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pkce-sandbox-config-'))
    const path = join(dir, 'tenant.json')
    await writeFile(path, JSON.stringify({ users: [{ username: 'carol' }] }))
    expect((await loadSandboxConfig(path)).users).toEqual([{ username: 'carol' }])
  })

  it('names the file when it is not JSON, or missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pkce-sandbox-config-'))
    const path = join(dir, 'tenant.json')
    await writeFile(path, '{ users: [] }')
    await expect(loadSandboxConfig(path)).rejects.toThrow(
      new SandboxConfigError(`sandbox config ${path} is not valid JSON`),
    )
    await expect(loadSandboxConfig(join(dir, 'missing.json'))).rejects.toThrow(
      new SandboxConfigError(`could not read sandbox config ${join(dir, 'missing.json')}`),
    )
  })

  it('names the file in validation errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pkce-sandbox-config-'))
    const path = join(dir, 'tenant.json')
    await writeFile(path, JSON.stringify({ users: [{}] }))
    await expect(loadSandboxConfig(path)).rejects.toThrow(
      new SandboxConfigError(`${path}: users[0].username must be a non-empty string`),
    )
  })
})
