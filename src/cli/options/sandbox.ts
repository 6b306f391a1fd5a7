import { Option } from 'commander'
import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import type { SandboxUserOptions } from '../../commands/sandbox-user.js'
import type { SandboxOptions } from '../../sandbox/options.js'
import { caFileOption } from './http.js'
import { integer, withDefault } from './values.js'

// The embedded tenant: `pkce sandbox`'s flags, and `pkce sandbox-user`, the scripted user of its
// login and consent pages.

/** `pkce sandbox` listens where the README says; the demo and the tests pick a free port. */
const DEFAULT_SANDBOX_PORT = 4000

export interface RawSandboxOptions {
  port?: number
  https?: boolean
  requirePar?: boolean
  requireDpop?: boolean
  dpopNonce?: boolean
  skipConsent?: boolean
  loginPage?: 'classic' | 'identifier-first'
  accessTokenTtl?: number
  idTokenTtl?: number
  refreshTokenTtl?: number
  config?: string
}

export function addSandboxOptions(command: Command): Command {
  return command
    .option(
      '--port <n>',
      withDefault('port on 127.0.0.1 (0 picks a free one)', DEFAULT_SANDBOX_PORT),
      integer(0, 65535),
    )
    .option('--https', 'serve HTTPS with a throw-away CA (prints the CA path)')
    .option('--require-par', 'require pushed authorization requests')
    .option('--require-dpop', 'require DPoP-bound tokens')
    .option('--dpop-nonce', 'demand server DPoP nonces (use_dpop_nonce)')
    .option('--skip-consent', 'grant consent without showing the consent page')
    .addOption(
      new Option(
        '--login-page <kind>',
        'the login page: classic (one page) or identifier-first (username, then password, as Auth0)',
      )
        .choices(['classic', 'identifier-first'])
        .default(undefined, 'classic'),
    )
    .option('--access-token-ttl <seconds>', 'access token lifetime', integer(1, 10 ** 8))
    .option('--id-token-ttl <seconds>', 'ID token lifetime', integer(1, 10 ** 8))
    .option('--refresh-token-ttl <seconds>', 'refresh token lifetime', integer(1, 10 ** 8))
    .option('--config <file>', 'users, clients, audiences and organizations as JSON')
}

/** `pkce sandbox`'s flags as the sandbox's options; a flag not given takes the sandbox default. */
export async function toSandboxOptions(raw: RawSandboxOptions): Promise<SandboxOptions> {
  const { sandboxOptions } = await import('../../sandbox/options.js')
  return sandboxOptions({
    port: raw.port ?? DEFAULT_SANDBOX_PORT,
    https: raw.https,
    requirePar: raw.requirePar,
    requireDpop: raw.requireDpop,
    dpopNonce: raw.dpopNonce,
    skipConsent: raw.skipConsent,
    loginPage: raw.loginPage,
    lifetimes: {
      accessToken: raw.accessTokenTtl,
      idToken: raw.idTokenTtl,
      refreshToken: raw.refreshTokenTtl,
    },
    configFile: raw.config,
  })
}

export interface RawSandboxUserOptions {
  username?: string
  passwordFile?: string
  deny?: boolean
  caFile?: string
}

export function addSandboxUserOptions(command: Command): Command {
  return command
    .option('--username <name>', 'login name (any; default user@sandbox.test)')
    .option('--password-file <path>', 'a file holding the password (any non-empty one is accepted)')
    .option('--deny', 'press Deny on the consent page')
    .addOption(caFileOption())
}

/** The password and the CA are read (and checked) before the first request. */
export async function toSandboxUserOptions(
  raw: RawSandboxUserOptions,
  url: string,
  ctx: Ctx,
): Promise<SandboxUserOptions> {
  const { readCaFile, readSecret } = await import('../../commands/inputs.js')
  return {
    url,
    username: raw.username,
    password:
      raw.passwordFile === undefined
        ? undefined
        : await readSecret(raw.passwordFile, 'the password', ctx),
    consent: raw.deny === true ? 'deny' : 'accept',
    ca: raw.caFile === undefined ? undefined : await readCaFile(raw.caFile),
  }
}
