import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'

export interface SandboxUserOptions {
  url: string
  username: string | undefined
  password: string | undefined
  consent: 'accept' | 'deny'
  /** PEM of the CA of an HTTPS sandbox (`--ca-file`); NODE_EXTRA_CA_CERTS works too. */
  ca: string | undefined
}

export interface SandboxUserResult {
  callback_url: string
  status: number
}

/**
 * `pkce sandbox-user <url>`: plays the user of a sandbox tenant without a browser — signs in,
 * accepts or denies consent, and calls the loopback callback. It is what `--browser` runs in CI.
 */
export async function runSandboxUser(
  opts: SandboxUserOptions,
  ctx: Ctx,
): Promise<SandboxUserResult> {
  const { driveAuthorization } = await import('../sandbox/scripted-agent.js')
  try {
    const result = await driveAuthorization(opts.url, {
      consent: opts.consent,
      signal: ctx.signal,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.username === undefined ? {} : { username: opts.username }),
      ...(opts.password === undefined ? {} : { password: opts.password }),
    })
    ctx.reporter.step(`sandbox user: the callback answered HTTP ${result.status}`)
    return { callback_url: result.callbackUrl, status: result.status }
  } catch (error) {
    throw new CliError(
      'network_error',
      `the sandbox user could not finish: ${error instanceof Error ? error.message : String(error)}`,
      {
        stage: 'authorize',
        hint: 'sandbox-user understands only the pages of `pkce sandbox`',
        cause: error,
      },
    )
  }
}
