import type { Ctx } from '../context.js'
import type { BrowserMode } from './authorize-step.js'
import type { LoginResult } from './login.js'
import type { SandboxInfo } from './sandbox.js'

export interface DemoOptions {
  headless: boolean
  timeoutMs: number
}

export interface DemoResult {
  sandbox: SandboxInfo
  headless: boolean
  login: LoginResult
}

/**
 * Whether the demo drives the login pages itself: asked for, in CI, with no display, or when
 * nobody is at a terminal to see a browser.
 */
export function isHeadless(requested: boolean, ctx: Ctx): boolean {
  const noDisplay =
    ctx.platform === 'linux' &&
    (ctx.env.DISPLAY ?? '') === '' &&
    (ctx.env.WAYLAND_DISPLAY ?? '') === ''
  return requested || (ctx.env.CI ?? '') !== '' || noDisplay || !ctx.io.stderrIsTTY
}

/**
 * `pkce demo`: the whole product in one command. Starts the sandbox in-process on a free port and
 * runs `login` against it with an API audience and offline_access; headless, the built-in
 * scripted user signs in and consents.
 */
export async function runDemo(opts: DemoOptions, ctx: Ctx): Promise<DemoResult> {
  const { startSandboxTenant } = await import('./sandbox.js')
  const { runLogin } = await import('./login.js')
  const { authorizationRequestWith } = await import('./authorize-step.js')
  const { NO_ASSERTIONS } = await import('./assertions.js')
  const { DEFAULT_HTTP_SETTINGS } = await import('./http-settings.js')
  // The default tenant: plain HTTP on a free port, with the default users and clients.
  const { sandbox, info } = await startSandboxTenant()
  try {
    ctx.reporter.step(`Sandbox tenant started at ${info.issuer} (no account needed)`)
    let browser: BrowserMode = { kind: 'system' }
    if (opts.headless) {
      const { driveAuthorization } = await import('../sandbox/scripted-agent.js')
      ctx.reporter.step('Headless: the built-in sandbox user will sign in and consent')
      browser = {
        kind: 'agent',
        // Not awaited: the callback's page is answered only once the flow has finished.
        open: (url) => {
          driveAuthorization(url.href, { signal: ctx.signal }).catch((error: unknown) =>
            ctx.reporter.warn(
              'sandbox_user_failed',
              `the sandbox user could not finish: ${error instanceof Error ? error.message : String(error)}`,
            ),
          )
        },
      }
    } else {
      ctx.reporter.step('Sign in with any username and password in the browser window')
    }
    const audience = info.audiences[0]
    const login = await runLogin(
      {
        target: {
          issuer: info.issuer,
          client: {
            client_id:
              info.clients.find((client) => client.token_endpoint_auth_method === 'none')
                ?.client_id ?? '',
            auth: { method: 'none' },
          },
        },
        request: authorizationRequestWith({
          scope: [
            'openid profile email offline_access',
            ...(audience?.scopes.slice(0, 1) ?? []),
          ].join(' '),
          audience: audience?.identifier,
        }),
        redirectUri: new URL('http://127.0.0.1:0/callback'),
        dpop: undefined,
        http: DEFAULT_HTTP_SETTINGS,
        listener: { browser, timeoutMs: opts.timeoutMs, receipt: 'listener' },
        clockToleranceSeconds: 60,
        assertions: NO_ASSERTIONS,
        save: false,
      },
      ctx,
    )
    return { sandbox: info, headless: opts.headless, login }
  } finally {
    await sandbox.close()
  }
}
