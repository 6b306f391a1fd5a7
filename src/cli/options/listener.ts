import { Option } from 'commander'
import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { BrowserMode, ListenerOptions } from '../../commands/authorize-step.js'
import { integer, withDefault } from './values.js'

// The loopback listener and the browser: where the code comes back, how long it is awaited, and
// how the user gets to the authorization URL.

/** RFC 8252 §7.3 with a fixed port: Auth0 matches callback URLs exactly (docs/security.md AR-5). */
export const DEFAULT_REDIRECT_URI = 'http://127.0.0.1:8484/callback'
const DEFAULT_TIMEOUT_SECONDS = 300

export interface RawRedirectOptions {
  redirectUri?: string
  port?: number
}

export interface RawBrowserOptions {
  /** `--no-browser` makes it false, `--browser <command>` a string. */
  browser?: string | boolean
  timeout?: number
}

export interface RawListenerOptions extends RawRedirectOptions, RawBrowserOptions {
  paste?: boolean
  remote?: boolean
}

/** `--redirect-uri` and `--port`: what the request carries, and the listener binds. */
export function addRedirectOptions(command: Command): Command {
  return command
    .option(
      '--redirect-uri <uri>',
      `loopback redirect URI (default ${DEFAULT_REDIRECT_URI}, or $PKCE_REDIRECT_URI)`,
    )
    .addOption(
      new Option('--port <n>', 'port of the default redirect URI (0 picks a free one)')
        .argParser(integer(0, 65535))
        .conflicts('redirectUri'),
    )
}

/** `--timeout`: how long a human has to sign in. */
export function timeoutOption(max = 86_400): Option {
  return new Option(
    '--timeout <seconds>',
    withDefault('how long to wait for the sign-in', DEFAULT_TIMEOUT_SECONDS),
  ).argParser(integer(1, max))
}

/** How the browser is reached and how long the sign-in may take. */
export function addBrowserOptions(command: Command): Command {
  return command
    .option('--no-browser', 'print the URL and wait; do not open a browser')
    .option(
      '--browser <command>',
      'open the URL with this command (URL appended; no shell); also $PKCE_BROWSER',
    )
    .addOption(timeoutOption())
}

export function addListenerOptions(command: Command): Command {
  return addBrowserOptions(addRedirectOptions(command))
    .addOption(
      new Option(
        '--paste',
        "no listener: paste the URL from the browser's address bar (for a browser that cannot reach this machine)",
      ).conflicts('remote'),
    )
    .option(
      '--remote',
      'no listener: print a pkce relay command for a machine with a browser, and read its output on stdin',
    )
}

/** The loopback redirect URI: `--redirect-uri`, `$PKCE_REDIRECT_URI`, or the default with `--port`. */
export async function toRedirectUri(raw: RawRedirectOptions, env: Ctx['env']): Promise<URL> {
  const given = raw.redirectUri ?? (raw.port === undefined ? env.PKCE_REDIRECT_URI : undefined)
  if (given === undefined || given === '') {
    const url = new URL(DEFAULT_REDIRECT_URI)
    if (raw.port !== undefined) url.port = String(raw.port)
    return url
  }
  let url: URL
  try {
    url = new URL(given)
  } catch {
    throw new CliError('usage_error', `the redirect URI ${given} is not a URL`)
  }
  const { isLoopbackHost } = await import('../../oauth/endpoint.js')
  if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) {
    throw new CliError(
      'usage_error',
      `the redirect URI must be http on localhost, 127.0.0.1 or [::1], not ${given}`,
      {
        hint: 'pkce receives the code on a loopback listener (RFC 8252 §7.3)',
      },
    )
  }
  if (url.hash !== '') throw new CliError('usage_error', 'a redirect URI has no fragment')
  if (url.username !== '' || url.password !== '')
    throw new CliError('usage_error', 'a redirect URI has no user name or password')
  return url
}

export function toTimeoutMs(timeout: number | undefined): number {
  return (timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000
}

/**
 * How the callback comes back. `--paste` needs someone at a terminal (docs/security.md CI-2); both
 * it and `--remote` need a fixed port, since no listener picks one.
 */
export async function toListenerOptions(
  raw: RawListenerOptions,
  redirectUri: URL,
  ctx: Ctx,
): Promise<ListenerOptions> {
  const receipt = raw.paste === true ? 'paste' : raw.remote === true ? 'remote' : 'listener'
  if (receipt === 'paste' && !ctx.io.stdinIsTTY) {
    throw new CliError(
      'usage_error',
      '--paste asks for the callback URL on a terminal, and stdin is not one',
      {
        hint: 'use pkce authorize, then pkce exchange --callback-url, or login --remote with the URL on stdin',
      },
    )
  }
  if (receipt !== 'listener' && redirectUri.port === '0') {
    throw new CliError(
      'usage_error',
      `--${receipt} needs a fixed port in the redirect URI, not 0`,
      {
        hint: 'pass --port <n> with a port registered with the application',
      },
    )
  }
  return { ...(await toBrowserOptions(raw, ctx.env)), receipt }
}

/** The browser and the wait, as `relay` and the listener share them. */
export async function toBrowserOptions(
  raw: RawBrowserOptions,
  env: Ctx['env'],
): Promise<Omit<ListenerOptions, 'receipt'>> {
  return { browser: await toBrowser(raw, env), timeoutMs: toTimeoutMs(raw.timeout) }
}

async function toBrowser(raw: RawBrowserOptions, env: Ctx['env']): Promise<BrowserMode> {
  if (raw.browser === false) return { kind: 'none' }
  const command = typeof raw.browser === 'string' ? raw.browser : env.PKCE_BROWSER
  if (command === undefined || command === '') return { kind: 'system' }
  const { splitCommand } = await import('../../net/browser.js')
  return { kind: 'command', argv: splitCommand(command) }
}
