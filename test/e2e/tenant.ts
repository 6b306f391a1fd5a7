import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSandboxCertificates } from '../../src/sandbox/ca.js'
import { startSandbox } from '../../src/sandbox/tenant.js'
import type { Sandbox, SandboxOptions } from '../../src/sandbox/tenant.js'

export interface TestTenant {
  sandbox: Sandbox
  /** A directory of this tenant's files (CA, secrets, keys), removed with the OS temp dir. */
  dir: string
  caFile: string
  /** Environment for a spawned CLI: trusts the tenant's throw-away CA. */
  env: Record<string, string>
  /** The secret of the confidential client, in a mode-0600 file. */
  secretFile: string
  /** The private_key_jwt client's private JWK, in a file. */
  keyFile: string
  /** Paths of requests the tenant received, as `METHOD /path`. */
  requests(): string[]
  close(): Promise<void>
}

/**
 * The project's test tenant: the sandbox (oidc-provider, Auth0-shaped) over HTTPS on 127.0.0.1
 * with a throw-away CA, trusted by spawned CLIs through NODE_EXTRA_CA_CERTS.
 */
export async function startTestTenant(options: SandboxOptions = {}): Promise<TestTenant> {
  const dir = mkdtempSync(join(tmpdir(), 'pkce-tenant-'))
  const certificates = createSandboxCertificates()
  const caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, certificates.caCert)
  const sandbox = await startSandbox({
    ...options,
    tls: { cert: certificates.cert, key: certificates.key },
  })
  const confidential = sandbox.clients.find((client) => client.client_secret !== undefined)
  const keyed = sandbox.clients.find((client) => client.private_jwk !== undefined)
  if (confidential?.client_secret === undefined || keyed?.private_jwk === undefined) {
    throw new Error('the sandbox has no confidential or private_key_jwt client')
  }
  const secretFile = join(dir, 'secret.txt')
  writeFileSync(secretFile, `${confidential.client_secret}\n`, { mode: 0o600 })
  const keyFile = join(dir, 'key.json')
  writeFileSync(keyFile, JSON.stringify(keyed.private_jwk), { mode: 0o600 })
  return {
    sandbox,
    dir,
    caFile,
    env: { NODE_EXTRA_CA_CERTS: caFile },
    secretFile,
    keyFile,
    requests: () => sandbox.requests.map((request) => `${request.method} ${request.path}`),
    close: () => sandbox.close(),
  }
}
