import { createHash } from 'node:crypto'
import type { OrganizationConfig, SandboxConfig, UserConfig } from './config.js'

export interface SandboxUser {
  username: string
  sub: string
  email: string
  name: string
}

/**
 * The users and organizations of one running tenant, shared by the provider (claims) and the
 * interaction pages (sign-in, consent).
 */
export interface TenantUsers {
  /** Users by `sub`; the login page adds every new username: the sandbox lets anyone in. */
  accounts: Map<string, UserConfig>
  /** The organization `organization=` names, by id or by name, as Auth0 takes it. */
  findOrganization(value: unknown): OrganizationConfig | undefined
  /** Remembers the organization a grant was consented for; `undefined` forgets it. */
  setGrantOrganization(grantId: string, organization: OrganizationConfig | undefined): void
  /** Auth0's `org_id` and `org_name` claims for the tokens of a grant: none without one. */
  organizationClaims(grantId: string | undefined): { org_id?: string; org_name?: string }
}

export function tenantUsers(config: SandboxConfig): TenantUsers {
  const accounts = new Map(config.users.map((user) => [subjectFor(user.username), user]))
  const grantOrganizations = new Map<string, OrganizationConfig>()
  return {
    accounts,
    findOrganization: (value) =>
      config.organizations.find((org) => org.id === value || org.name === value),
    setGrantOrganization(grantId, organization) {
      if (organization) grantOrganizations.set(grantId, organization)
      else grantOrganizations.delete(grantId)
    },
    organizationClaims(grantId) {
      const org = grantId === undefined ? undefined : grantOrganizations.get(grantId)
      return org ? { org_id: org.id, org_name: org.name } : {}
    },
  }
}

/** The Auth0-style `sub` for a sandbox username: `auth0|` and 24 hex digits of its SHA-256. */
export function subjectFor(username: string): string {
  return `auth0|${createHash('sha256').update(username).digest('hex').slice(0, 24)}`
}

/**
 * The OIDC Core §5.1 profile and email claims of a user; a username without `@` gets an email
 * at `sandbox.test` (RFC 2606 §2: a name reserved for testing).
 */
export function profileClaims(user: UserConfig, updatedAt: string) {
  const email =
    user.email ?? (user.username.includes('@') ? user.username : `${user.username}@sandbox.test`)
  return {
    email,
    email_verified: user.email_verified ?? true,
    name: user.name ?? user.username,
    nickname: email.split('@')[0] ?? user.username,
    updated_at: updatedAt,
  }
}
