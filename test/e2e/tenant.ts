import { startSandboxTenant } from '../../src/commands/sandbox.js'
import type { SandboxOptionsInput } from '../../src/sandbox/options.js'
import type { Sandbox } from '../../src/sandbox/tenant.js'

export interface TestTenant {
  sandbox: Sandbox
  /** The private directory the command writes the tenant's files to; tests may add their own. */
  dir: string
  /** The tenant's throw-away CA, as `pkce sandbox --https` writes it. */
  caFile: string
  /** Environment for a spawned CLI: trusts the tenant's throw-away CA. */
  env: Record<string, string>
  /** The secret of the confidential client, in a mode-0600 file. */
  secretFile: string
  /** The private_key_jwt client's private JWK, in a mode-0600 file. */
  keyFile: string
  /** Every secret client's secret file, by client_id (a config file may add clients). */
  secretFiles: Record<string, string>
  /** Paths of requests the tenant received, as `METHOD /path`. */
  requests(): string[]
  close(): Promise<void>
}

/**
 * The project's test tenant: `pkce sandbox --https --port 0` started in-process by the command's
 * own starter, so the tests use the files (CA, secret, key) the command writes. Spawned CLIs trust
 * it through NODE_EXTRA_CA_CERTS.
 */
export async function startTestTenant(options: SandboxOptionsInput = {}): Promise<TestTenant> {
  const { sandbox, info } = await startSandboxTenant({ ...options, https: true })
  const secretFile = info.clients.find((client) => client.client_secret_file)?.client_secret_file
  const keyFile = info.clients.find((client) => client.private_key_file)?.private_key_file
  if (info.ca_file === null || secretFile === undefined || keyFile === undefined) {
    await sandbox.close()
    throw new Error('the sandbox has no CA, confidential or private_key_jwt client')
  }
  return {
    sandbox,
    dir: info.files_dir,
    caFile: info.ca_file,
    env: { NODE_EXTRA_CA_CERTS: info.ca_file },
    secretFile,
    keyFile,
    secretFiles: Object.fromEntries(
      info.clients.flatMap((client) =>
        client.client_secret_file ? [[client.client_id, client.client_secret_file]] : [],
      ),
    ),
    requests: () => sandbox.requests.map((request) => `${request.method} ${request.path}`),
    close: () => sandbox.close(),
  }
}
