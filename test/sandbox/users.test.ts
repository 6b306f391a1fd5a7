import { describe, expect, it } from 'vitest'
import { defaultSandboxConfig } from '../../src/sandbox/config.js'
import { profileClaims, subjectFor, tenantUsers } from '../../src/sandbox/users.js'
import { USER_SUB } from './helpers.js'

const UPDATED_AT = '2026-01-01T00:00:00.000Z'

describe('subjectFor()', () => {
  it('is auth0| and the first 24 hex digits of the username’s SHA-256', () => {
    expect(subjectFor('user@sandbox.test')).toBe(USER_SUB)
    expect(subjectFor('alice')).toMatch(/^auth0\|[0-9a-f]{24}$/)
    expect(subjectFor('alice')).not.toBe(subjectFor('Alice'))
  })
})

describe('profileClaims()', () => {
  it('uses the configured profile as it is', () => {
    expect(
      profileClaims(
        { username: 'bob', name: 'Bob Example', email: 'bob@example.com', email_verified: false },
        UPDATED_AT,
      ),
    ).toStrictEqual({
      email: 'bob@example.com',
      email_verified: false,
      name: 'Bob Example',
      nickname: 'bob',
      updated_at: UPDATED_AT,
    })
  })

  it('takes an email-shaped username as the email, verified', () => {
    expect(profileClaims({ username: 'carol@example.com' }, UPDATED_AT)).toStrictEqual({
      email: 'carol@example.com',
      email_verified: true,
      name: 'carol@example.com',
      nickname: 'carol',
      updated_at: UPDATED_AT,
    })
  })

  it('makes up an address at sandbox.test for any other username', () => {
    expect(profileClaims({ username: 'alice' }, UPDATED_AT)).toStrictEqual({
      email: 'alice@sandbox.test',
      email_verified: true,
      name: 'alice',
      nickname: 'alice',
      updated_at: UPDATED_AT,
    })
  })
})

describe('tenantUsers()', () => {
  it('holds the configured users by sub', () => {
    const users = tenantUsers(defaultSandboxConfig())
    expect([...users.accounts]).toStrictEqual([
      [USER_SUB, { username: 'user@sandbox.test', name: 'Sandbox User' }],
    ])
  })

  it('finds an organization by id or by name, as Auth0’s organization parameter does', () => {
    const users = tenantUsers(defaultSandboxConfig())
    const acme = { id: 'org_sandbox123', name: 'acme', display_name: 'Acme' }
    expect(users.findOrganization('org_sandbox123')).toStrictEqual(acme)
    expect(users.findOrganization('acme')).toStrictEqual(acme)
    expect(users.findOrganization('Acme')).toBeUndefined()
    expect(users.findOrganization(undefined)).toBeUndefined()
  })

  it('gives org_id and org_name for a grant made in an organization, until it is forgotten', () => {
    const users = tenantUsers(defaultSandboxConfig())
    const acme = users.findOrganization('acme')
    users.setGrantOrganization('g1', acme)
    expect(users.organizationClaims('g1')).toStrictEqual({
      org_id: 'org_sandbox123',
      org_name: 'acme',
    })
    expect(users.organizationClaims('g2')).toStrictEqual({})
    expect(users.organizationClaims(undefined)).toStrictEqual({})
    users.setGrantOrganization('g1', undefined)
    expect(users.organizationClaims('g1')).toStrictEqual({})
  })

  it('keeps each tenant’s grants to itself', () => {
    const config = defaultSandboxConfig()
    const one = tenantUsers(config)
    one.setGrantOrganization('g1', one.findOrganization('acme'))
    expect(tenantUsers(config).organizationClaims('g1')).toStrictEqual({})
  })
})
