import { InvalidArgumentError, Option } from 'commander'
import type { Command } from 'commander'
import type { HttpSettings } from '../commands/http-settings.js'
import { PROTECTED_PARAMETERS } from '../oauth/parameters.js'

// The flag definitions every command needs at start-up; what they turn into is in options.ts,
// loaded only when a command runs (house-style.md, "Performance habits").

export const DEFAULT_REDIRECT_URI = 'http://127.0.0.1:8484/callback'
export const DEFAULT_SCOPE = 'openid profile email'

export function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/u.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`)
    }
    return Number(value)
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function keyValue(value: string, previous: [string, string][] = []): [string, string][] {
  const at = value.indexOf('=')
  if (at <= 0) throw new InvalidArgumentError('expected key=value')
  const name = value.slice(0, at)
  if ((PROTECTED_PARAMETERS as readonly string[]).includes(name)) {
    throw new InvalidArgumentError(
      `"${name}" is set by pkce itself and cannot be passed with --param`,
    )
  }
  return [...previous, [name, value.slice(at + 1)]]
}

/** The target and client flags, shared by `login` and `par` so they read the same everywhere. */
export function addClientOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--domain <host[:port]>',
        'Auth0 tenant domain; the issuer is https://<domain>/',
      ).conflicts('issuer'),
    )
    .option(
      '--issuer <url>',
      'issuer URL of any OpenID Connect provider (exact, trailing slash included)',
    )
    .option('--client-id <id>', 'the application (client) id (required)')
    .option('--client-secret-file <path|->', 'read the client secret from a file, or stdin with -')
    .addOption(
      new Option('--client-auth <method>', 'how to send the secret')
        .choices(['client_secret_post', 'client_secret_basic'])
        .default('client_secret_post'),
    )
    .addOption(
      new Option(
        '--private-key-file <pem|jwk>',
        'private key for private_key_jwt client authentication',
      ).conflicts('clientSecretFile'),
    )
    .addOption(new Option('--client-secret <secret>').hideHelp())
}

/** Every optional `/authorize` parameter Auth0 documents, plus `--param` for the rest. */
export function addAuthorizationOptions(command: Command): Command {
  return command
    .option('--audience <api>', 'API identifier (Auth0 audience); gives a JWT access token')
    .option('--resource <uri>', 'RFC 8707 resource indicator (repeatable)', collect)
    .option(
      '--scope <scope>',
      'space-separated scopes; add offline_access for a refresh token',
      DEFAULT_SCOPE,
    )
    .option('--organization <id|name>', 'Auth0 organization')
    .option('--invitation <ticket>', 'Auth0 organization invitation ticket id')
    .option('--connection <name>', 'Auth0 connection to use, skipping the login choice')
    .option('--prompt <prompt>', 'none, login, consent or select_account')
    .option(
      '--max-age <seconds>',
      'maximum authentication age; auth_time is then checked',
      integer(0, 10 ** 9),
    )
    .option('--login-hint <hint>', 'prefill the username')
    .option(
      '--response-mode <mode>',
      'response_mode (query is the only one a loopback listener can read)',
    )
    .option(
      '--authorization-details <json|@file>',
      'RFC 9396 authorization_details: a JSON array of objects with a string "type"',
    )
    .option('--param <key=value>', 'any other authorization parameter (repeatable)', keyValue)
    .option(
      '--code-verifier <verifier>',
      'fix the code_verifier (reproducible debugging; visible in ps)',
    )
    .option('--state <state>', 'fix the state value')
    .option('--nonce <nonce>', 'fix the nonce value')
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

/** DPoP (RFC 9449) for `login` and `par`. */
export function addDpopOptions(command: Command): Command {
  return command
    .option('--dpop', 'bind the tokens to a DPoP key (a fresh ES256 key unless --dpop-key)')
    .option(
      '--dpop-alg <alg>',
      'DPoP proof algorithm, one the server lists in dpop_signing_alg_values_supported',
    )
    .option('--dpop-key <jwk|pem>', 'use this private key for DPoP instead of a fresh one')
    .option(
      '--allow-dpop-downgrade',
      'accept a Bearer token when DPoP was asked for (a warning instead of exit 4)',
    )
}

/** The HTTP and output flags of every command that talks to a server. */
export function addHttpOptions(command: Command): Command {
  return command
    .option('--http-timeout <seconds>', 'timeout for each HTTP request', integer(1, 600), 30)
    .option('--ca-file <pem>', 'trust this CA as well (also NODE_EXTRA_CA_CERTS)')
    .option('--verbose', 'trace every HTTP exchange on stderr, secrets redacted')
    .option('--show-secrets', 'do not redact secrets in traces and errors')
    .option('--show-tokens', 'print raw tokens whole in human output')
    .option(
      '--allow-tls-verification-disabled',
      'in CI, run even though NODE_TLS_REJECT_UNAUTHORIZED=0',
    )
}

export interface RawHttpOptions {
  httpTimeout: number
  caFile?: string
  verbose?: boolean
  showSecrets?: boolean
  showTokens?: boolean
  allowTlsVerificationDisabled?: boolean
}

/** The HTTP settings, with `--ca-file` read and checked now, before any request. */
export async function toHttpSettings(raw: RawHttpOptions): Promise<HttpSettings> {
  const { readCaFile } = await import('../commands/inputs.js')
  return {
    timeoutMs: raw.httpTimeout * 1000,
    ca: raw.caFile === undefined ? undefined : await readCaFile(raw.caFile),
    verbose: raw.verbose === true,
    showSecrets: raw.showSecrets === true,
    showTokens: raw.showTokens === true,
    allowTlsVerificationDisabled: raw.allowTlsVerificationDisabled === true,
  }
}
