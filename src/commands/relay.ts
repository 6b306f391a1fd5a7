import type { Ctx } from '../context.js'
import { presentAuthorizationUrl, startListener } from './authorize-step.js'
import type { ListenerOptions } from './authorize-step.js'

export interface RelayOptions {
  /** The authorization URL `pkce authorize` printed, checked: https, or http on a loopback host. */
  authorizationUrl: URL
  /** Its `redirect_uri`: a loopback `http` URI with a fixed port. */
  redirectUri: URL
  listener: ListenerOptions
}

export interface RelayResult {
  callback_url: string
}

/**
 * `pkce relay <url>`: the browser half of a two-machine login. Listens on the redirect URI the URL
 * names, opens the browser, and hands back the callback URL untouched for `pkce exchange` on the
 * machine that holds the code_verifier. It checks nothing in the callback: it has no state to check
 * against, and the code alone is useless without the verifier (RFC 7636 §1).
 */
export async function runRelay(opts: RelayOptions, ctx: Ctx): Promise<RelayResult> {
  const loopback = await startListener(opts.redirectUri, ctx)
  try {
    await presentAuthorizationUrl(opts.authorizationUrl, opts.listener.browser, ctx)
    const stopWaiting = ctx.reporter.wait(
      `Waiting for the callback on ${loopback.redirectUri.href} (up to ${Math.round(opts.listener.timeoutMs / 1000)}s, Ctrl-C to stop)`,
    )
    let callback: URL
    try {
      callback = await loopback.waitForCallback(opts.listener.timeoutMs, ctx.signal)
    } finally {
      stopWaiting()
    }
    ctx.reporter.step(
      'Callback received: paste the URL below into pkce exchange on the other machine',
    )
    await loopback.finish({
      ok: true,
      title: 'Handing the login back',
      message:
        'pkce relay printed the callback URL in its terminal: paste it into pkce exchange on the machine that started the login.',
    })
    return { callback_url: callback.href }
  } finally {
    await loopback.close()
  }
}
