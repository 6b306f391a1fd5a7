import { Option } from 'commander'
import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { Client } from '../../oauth/client-auth.js'
import type { RawClientAuthOptions } from './client-auth.js'

// The target: which server (`--domain` or `--issuer`) and which client (`--client-id`).

export interface RawTargetOptions extends RawClientAuthOptions {
  domain?: string
  issuer?: string
  clientId?: string
}

/** `--issuer`: one meaning everywhere, the provider's exact issuer identifier. */
export function issuerOption(): Option {
  return new Option(
    '--issuer <url>',
    'issuer URL of any OpenID Connect provider (exact, trailing slash included); tokens must carry it as iss',
  )
}

/** The target and client flags, shared by every command that talks to a server's flow. */
export function addTargetOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--domain <host[:port]>',
        'Auth0 tenant domain; the issuer is https://<domain>/',
      ).conflicts('issuer'),
    )
    .addOption(issuerOption())
    .option('--client-id <id>', 'the application (client) id (required)')
}

/**
 * `--issuer` as given, checked: https, or http on a loopback host (docs/security.md TL-3), no
 * query or fragment. Issuers are compared exactly (RFC 8414 §3.3), so the text is kept as typed:
 * URL would add a "/" to a bare origin, and Google's issuer has none while Auth0's ends with one.
 */
export async function toExpectedIssuer(issuer: string): Promise<string> {
  // The endpoint rules (node:net) load only for a URL flag: a plain decode needs none of them.
  const { checkedServerUrl } = await import('../../oauth/endpoint.js')
  const url = checkedServerUrl(issuer, '--issuer')
  if (url.search !== '' || url.hash !== '')
    throw new CliError('usage_error', 'an issuer has no query or fragment')
  return issuer
}

/** `--domain` or `--issuer` to the exact issuer URL. */
export async function toIssuer(raw: RawTargetOptions): Promise<string> {
  if (raw.domain !== undefined) {
    // A host and an optional port, nothing else: a path, query, fragment or credentials would
    // end up inside the issuer URL.
    if (/[/?#@\\]/u.test(raw.domain)) {
      throw new CliError('usage_error', `--domain takes a host name, not a URL: ${raw.domain}`, {
        hint: 'use --issuer <url> for a full URL',
      })
    }
    try {
      return new URL(`https://${raw.domain}/`).href
    } catch {
      throw new CliError('usage_error', `--domain ${raw.domain} is not a host name`)
    }
  }
  if (raw.issuer === undefined) {
    throw new CliError(
      'usage_error',
      'say which server: --domain <tenant>.auth0.com or --issuer <url>',
    )
  }
  return toExpectedIssuer(raw.issuer)
}

/** The client and its authentication; secrets only from files or stdin (SO-1). */
export async function toClient(raw: RawTargetOptions, ctx: Ctx): Promise<Client> {
  // Checked here, not with commander's requiredOption, so an unknown flag is reported first.
  const clientId = raw.clientId
  if (clientId === undefined || clientId === '') {
    throw new CliError('usage_error', '--client-id <id> is required', {
      hint: "the application's Client ID",
    })
  }
  // Loaded here, not at start-up: `decode` shares `--issuer` but has no client.
  const { toClientAuth } = await import('./client-auth.js')
  return { client_id: clientId, auth: await toClientAuth(raw, ctx) }
}
