import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { JWK } from 'jose'
import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import type { IO } from '../io/io.js'
import { heading } from '../io/render.js'
import { portProblem } from '../net/listen.js'
import { sandboxOptions } from '../sandbox/options.js'
import type { SandboxOptions, SandboxOptionsInput } from '../sandbox/options.js'
import type { Sandbox } from '../sandbox/tenant.js'

export interface SandboxClientInfo {
  client_id: string
  token_endpoint_auth_method: string
  client_secret?: string
  /** A mode-0600 file holding the secret, for `--client-secret-file`. */
  client_secret_file?: string
  private_jwk?: JWK
  /** A mode-0600 file holding the private JWK, for `--private-key-file`. */
  private_key_file?: string
}

export interface SandboxInfo {
  issuer: string
  domain: string
  /** With `--https`: the throw-away CA, and what to set so clients trust it. */
  ca_file: string | null
  clients: SandboxClientInfo[]
  audiences: { identifier: string; scopes: string[] }[]
  organizations: { id: string; name: string }[]
  users: { username: string; sub: string }[]
  files_dir: string
}

export interface RunningSandbox {
  info: SandboxInfo
  sandbox: Sandbox
}

/**
 * Starts the sandbox tenant and writes its throw-away credentials (and CA) to a private directory,
 * so `pkce login` can take them with `--client-secret-file`, `--private-key-file`, `--ca-file`.
 * What `pkce sandbox`, `pkce demo` and the end-to-end tests start.
 */
export async function startSandboxTenant(
  given: SandboxOptionsInput = {},
  log?: (line: string) => void,
): Promise<RunningSandbox> {
  const options = sandboxOptions(given)
  const [{ startSandbox }, { SandboxConfigError }] = await Promise.all([
    import('../sandbox/tenant.js'),
    import('../sandbox/config.js'),
  ])
  let sandbox: Sandbox
  try {
    sandbox = await startSandbox(options, log)
  } catch (error) {
    if (error instanceof SandboxConfigError)
      throw new CliError('usage_error', error.message, { cause: error })
    const problem = portProblem(error)
    if (problem !== undefined) {
      throw new CliError(
        'port_in_use',
        `cannot start the sandbox on 127.0.0.1:${options.port}: the port is ${problem}`,
        {
          hint: 'pass --port <n>, or --port 0 for a free one',
        },
      )
    }
    throw error
  }
  try {
    return { sandbox, info: await writeSandboxFiles(sandbox) }
  } catch (error) {
    await sandbox.close()
    throw error
  }
}

/** The ready document, once each credential is in a new directory only the user can read (0700). */
async function writeSandboxFiles(sandbox: Sandbox): Promise<SandboxInfo> {
  const dir = await mkdtemp(join(tmpdir(), 'pkce-sandbox-'))
  let caFile: string | null = null
  if (sandbox.caCert !== undefined) {
    caFile = join(dir, 'ca.pem')
    await writeFile(caFile, sandbox.caCert)
  }
  const clients: SandboxClientInfo[] = []
  for (const client of sandbox.clients) {
    const info: SandboxClientInfo = {
      client_id: client.client_id,
      token_endpoint_auth_method: client.token_endpoint_auth_method,
    }
    if (client.client_secret !== undefined) {
      info.client_secret = client.client_secret
      info.client_secret_file = join(dir, `${client.client_id}.secret`)
      await writeFile(info.client_secret_file, `${client.client_secret}\n`, { mode: 0o600 })
    }
    if (client.private_jwk !== undefined) {
      info.private_jwk = client.private_jwk
      info.private_key_file = join(dir, `${client.client_id}.jwk.json`)
      await writeFile(info.private_key_file, JSON.stringify(client.private_jwk), { mode: 0o600 })
    }
    clients.push(info)
  }
  return {
    issuer: sandbox.issuer,
    domain: sandbox.domain,
    ca_file: caFile,
    clients,
    audiences: sandbox.audiences.map((audience) => ({
      identifier: audience.identifier,
      scopes: audience.scopes,
    })),
    organizations: sandbox.organizations.map((organization) => ({
      id: organization.id,
      name: organization.name,
    })),
    users: sandbox.users.map((user) => ({ username: user.username, sub: user.sub })),
    files_dir: dir,
  }
}

/**
 * `pkce sandbox`: an Auth0-shaped tenant on loopback until Ctrl-C. One ready line (or document)
 * on stdout; each request is logged on stderr.
 */
export async function runSandbox(
  options: SandboxOptions,
  ctx: Ctx,
  ready: (info: SandboxInfo) => void,
): Promise<void> {
  const { sandbox, info } = await startSandboxTenant(options, (line) =>
    ctx.io.err(`${ctx.secrets.redact(line)}\n`),
  )
  ready(info)
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve()
    ctx.signal.addEventListener('abort', () => resolve(), { once: true })
  })
  await sandbox.close()
}

/**
 * One ready line on stdout (data: what a script waits for); the guide to using the tenant on
 * stderr (conversation).
 */
export function renderSandboxReady(info: SandboxInfo, io: IO): void {
  const c = io.color.err
  const publicClient = info.clients.find((client) => client.token_endpoint_auth_method === 'none')
  io.out(`pkce sandbox ready: issuer ${info.issuer}\n`)
  let guide = heading('Clients', c)
  for (const client of info.clients) {
    const credential = client.client_secret_file ?? client.private_key_file
    const flag =
      client.client_secret_file !== undefined ? '--client-secret-file' : '--private-key-file'
    guide += `  ${client.client_id.padEnd(24)} ${client.token_endpoint_auth_method.padEnd(20)}${credential === undefined ? '' : ` ${flag} ${credential}`}\n`
  }
  guide += heading('APIs and organizations', c)
  for (const audience of info.audiences)
    guide += `  audience ${audience.identifier} (scopes: ${audience.scopes.join(' ')})\n`
  for (const organization of info.organizations)
    guide += `  organization ${organization.id} (${organization.name})\n`
  if (info.ca_file !== null) {
    guide += heading('HTTPS', c)
    guide += `  throw-away CA: ${info.ca_file}\n  export NODE_EXTRA_CA_CERTS=${info.ca_file}\n`
  }
  guide += heading('Try', c)
  guide += `  pkce login --issuer ${info.issuer} --client-id ${publicClient?.client_id ?? '<client>'}${info.ca_file === null ? '' : ` --ca-file ${info.ca_file}`}\n`
  guide += `  (any username and password; Ctrl-C stops the sandbox)\n\n`
  io.err(guide)
}
