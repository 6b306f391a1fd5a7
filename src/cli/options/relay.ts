import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { RelayOptions } from '../../commands/relay.js'
import { addBrowserOptions, toBrowserOptions, toRedirectUri } from './listener.js'
import type { RawBrowserOptions } from './listener.js'

// `pkce relay <url>`: the browser half of a two-machine login.

export interface RawRelayOptions extends RawBrowserOptions {
  redirectUri?: string
}

export function addRelayOptions(command: Command): Command {
  return addBrowserOptions(
    command.option(
      '--redirect-uri <uri>',
      'the redirect URI, when the URL has none (a pushed request: pkce authorize prints it)',
    ),
  )
}

/**
 * The URL must be one a browser may be given (https, or http on a loopback host; docs/security.md
 * AR-2), and its redirect URI a loopback http URI with a fixed port, where relay can listen.
 */
export async function toRelayOptions(
  raw: RawRelayOptions,
  url: string,
  ctx: Ctx,
): Promise<RelayOptions> {
  const { checkedServerUrl } = await import('../../oauth/endpoint.js')
  const authorizationUrl = checkedServerUrl(url, 'the authorization URL')
  const inUrl = authorizationUrl.searchParams.get('redirect_uri') ?? undefined
  if (inUrl !== undefined && raw.redirectUri !== undefined && raw.redirectUri !== inUrl) {
    throw new CliError(
      'usage_error',
      `--redirect-uri ${raw.redirectUri} differs from the URL's redirect_uri ${inUrl}`,
      { hint: 'drop --redirect-uri: the URL says where the browser will go' },
    )
  }
  const given = inUrl ?? raw.redirectUri
  if (given === undefined) {
    throw new CliError('usage_error', 'the authorization URL has no redirect_uri', {
      hint: 'a pushed request keeps it on the server: pass --redirect-uri as pkce authorize printed',
    })
  }
  const redirectUri = await toRedirectUri({ redirectUri: given }, {})
  if (redirectUri.port === '0') {
    throw new CliError('usage_error', `relay needs a fixed port in the redirect URI, not ${given}`)
  }
  return {
    authorizationUrl,
    redirectUri,
    listener: { ...(await toBrowserOptions(raw, ctx.env)), receipt: 'listener' },
  }
}
