import { Command } from 'commander'
import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import { writeJson } from '../io/json.js'
import { actionFactory } from './action.js'
import type { ActionFactory, RunOverride } from './action.js'
import {
  AUTHORIZE_EXAMPLES,
  EXCHANGE_EXAMPLES,
  EXIT_CODES_HELP,
  LOGIN_EXAMPLES,
  PAR_EXAMPLES,
  SANDBOX_HELP,
  TOKEN_EXAMPLES,
} from './help.js'
import type { RawAuthorizeOptions, RawLoginOptions } from './options/flow.js'
import type { RawExchangeOptions } from './options/exchange.js'
import type { RawHeadlessOptions } from './options/headless.js'
import type { RawRefreshOptions } from './options/refresh.js'
import type { RawRelayOptions } from './options/relay.js'
import type { RawLogoutOptions, RawTokenOptions } from './options/store.js'
import type { RawRevokeOptions } from './options/revoke.js'
import type { RawUserinfoOptions } from './options/userinfo.js'
import type { RawOutputOptions } from './options/output.js'
import type { RawSandboxOptions, RawSandboxUserOptions } from './options/sandbox.js'

export interface ProgramOptions {
  run?: RunOverride
  /** Under `--json` the failure document says it all: commander writes no error text. */
  json?: boolean
  /**
   * The one command this run needs (see `selectedCommand`): only it gets its flags. Every other
   * command is listed by name and description, so `--help` still shows them all.
   */
  only?: string | undefined
}

/**
 * The command an argv runs: its first word, or the topic of `help <command>`. Global flags take no
 * value, so the first word that is not a flag is the command.
 */
export function selectedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((arg) => !arg.startsWith('-'))
  return words[0] === 'help' ? (words[1] ?? 'help') : words[0]
}

interface CommandSpec {
  /** The name and its arguments, as commander takes them (`decode [token...]`). */
  usage: string
  description: string
  summary?: string
  /** Adds the flags, help and action; loads the option modules only when the command is used. */
  define: (command: Command, action: ActionFactory) => Promise<void>
}

function commandSpecs(ctx: Ctx): CommandSpec[] {
  return [
    {
      usage: 'login',
      description: 'run the whole Authorization Code + PKCE flow and validate the tokens',
      summary: 'sign in through the browser and inspect the tokens',
      async define(command, action) {
        const { addFlowOptions } = await import('./options/flow.js')
        const { addParOption } = await import('./options/request.js')
        const { addHeadlessOptions } = await import('./options/headless.js')
        addHeadlessOptions(addFlowOptions(addParOption(command)))
          .addHelpText('after', LOGIN_EXAMPLES)
          .action(
            action<RawLoginOptions & RawHeadlessOptions>('login', async (raw) => {
              const { toLoginOptions } = await import('./options/flow.js')
              const { toHeadlessOptions } = await import('./options/headless.js')
              const { toTokenOutput } = await import('./options/output.js')
              const { renderLogin } = await import('../commands/login-render.js')
              const { printTokens } = await import('../commands/token-output.js')
              const headless = await toHeadlessOptions(raw, ctx)
              const options = await toLoginOptions(raw, ctx)
              const result =
                headless === undefined
                  ? await (await import('../commands/login.js')).runLogin(options, ctx)
                  : await (
                      await import('../commands/headless.js')
                    ).runHeadlessLogin(options, headless, ctx)
              printTokens(result, toTokenOutput(raw), ctx, (r, options) =>
                renderLogin(r, ctx.io, options),
              )
            }),
          )
      },
    },
    {
      usage: 'par',
      description:
        'push an authorization request (RFC 9126) and print its request_uri; --open finishes the flow',
      summary: 'push an authorization request on its own',
      async define(command, action) {
        const { addFlowOptions } = await import('./options/flow.js')
        const { withDefault } = await import('./options/values.js')
        addFlowOptions(command)
          .option('--response-type <type>', withDefault('response_type to push', 'code'))
          .option(
            '--open',
            'go on: open the authorization URL and finish the flow as login --par does',
          )
          .addHelpText('after', PAR_EXAMPLES)
          .action(
            action<RawLoginOptions & { responseType?: string; open?: boolean }>(
              'par',
              async (raw) => {
                const { toLoginOptions } = await import('./options/flow.js')
                const { toTokenOutput } = await import('./options/output.js')
                const { runParCommand, renderPar } = await import('../commands/par.js')
                const outcome = await runParCommand(
                  {
                    ...(await toLoginOptions(raw, ctx)),
                    responseType: raw.responseType ?? 'code',
                    open: raw.open === true,
                  },
                  ctx,
                )
                if (outcome.kind === 'login') {
                  const { renderLogin } = await import('../commands/login-render.js')
                  const { printTokens } = await import('../commands/token-output.js')
                  printTokens(outcome.result, toTokenOutput(raw), ctx, (r, options) =>
                    renderLogin(r, ctx.io, options),
                  )
                } else if (raw.json === true) writeJson(ctx.io, { ok: true, ...outcome.result })
                else renderPar(outcome.result, ctx.io, ctx.now())
              },
            ),
          )
      },
    },
    {
      usage: 'authorize',
      description:
        'the first leg: prepare the request, print the URL and save the flow state for exchange',
      summary: 'start a login to finish elsewhere (exchange, relay)',
      async define(command, action) {
        const { addAuthorizeCommandOptions } = await import('./options/flow.js')
        addAuthorizeCommandOptions(command)
          .addHelpText('after', AUTHORIZE_EXAMPLES)
          .action(
            action<RawAuthorizeOptions & { stateFile?: string }>('authorize', async (raw) => {
              const { toAuthorizeCommandOptions } = await import('./options/flow.js')
              const { runAuthorize, renderAuthorize } = await import('../commands/authorize.js')
              const result = await runAuthorize(await toAuthorizeCommandOptions(raw, ctx), ctx)
              if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
              else renderAuthorize(result, ctx.io)
            }),
          )
      },
    },
    {
      usage: 'exchange',
      description:
        'the second leg: check the callback, exchange the code and validate the tokens as login does',
      summary: 'finish a login started by authorize',
      async define(command, action) {
        const { addExchangeOptions } = await import('./options/exchange.js')
        addExchangeOptions(command)
          .addHelpText('after', EXCHANGE_EXAMPLES)
          .action(
            action<RawExchangeOptions>('exchange', async (raw) => {
              const { toExchangeOptions } = await import('./options/exchange.js')
              const { toTokenOutput } = await import('./options/output.js')
              const { runExchange } = await import('../commands/exchange.js')
              const { renderLogin } = await import('../commands/login-render.js')
              const { printTokens } = await import('../commands/token-output.js')
              const result = await runExchange(await toExchangeOptions(raw, ctx), ctx)
              printTokens(result, toTokenOutput(raw), ctx, (r, options) =>
                renderLogin(r, ctx.io, options),
              )
            }),
          )
      },
    },
    {
      usage: 'relay <url>',
      description:
        'on a machine with a browser: receive the callback of a login started elsewhere and print it',
      summary: 'the browser half of a two-machine login',
      async define(command, action) {
        const { addRelayOptions } = await import('./options/relay.js')
        addRelayOptions(command).action(
          action<RawRelayOptions & RawOutputOptions>('relay', async (raw, [url]) => {
            const { toRelayOptions } = await import('./options/relay.js')
            const { runRelay } = await import('../commands/relay.js')
            const result = await runRelay(await toRelayOptions(raw, url as string, ctx), ctx)
            if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
            else ctx.io.out(`${result.callback_url}\n`)
          }),
        )
      },
    },
    {
      usage: 'refresh',
      description:
        'use a refresh token (RFC 6749 §6): the new tokens, validated as login does, and what changed',
      summary: 'refresh tokens and show what changed',
      async define(command, action) {
        const { addRefreshOptions } = await import('./options/refresh.js')
        addRefreshOptions(command).action(
          action<RawRefreshOptions>('refresh', async (raw) => {
            const { toRefreshOptions } = await import('./options/refresh.js')
            const { toTokenOutput } = await import('./options/output.js')
            const { runRefresh } = await import('../commands/refresh.js')
            const { renderLogin } = await import('../commands/login-render.js')
            const { printTokens } = await import('../commands/token-output.js')
            const result = await runRefresh(await toRefreshOptions(raw, ctx), ctx)
            printTokens(result, toTokenOutput(raw), ctx, (r, options) =>
              renderLogin(r, ctx.io, { ...options, verdict: 'refresh succeeded' }),
            )
          }),
        )
      },
    },
    {
      usage: 'token',
      description:
        'print a valid access token: from the token store, else refreshed (never a browser)',
      summary: 'a valid access token for curl, from the store',
      async define(command, action) {
        const { addTokenOptions } = await import('./options/store.js')
        addTokenOptions(command)
          .addHelpText('after', TOKEN_EXAMPLES)
          .action(
            action<RawTokenOptions & RawOutputOptions>('token', async (raw) => {
              const { runToken, runTokenList, renderTokenList } =
                await import('../commands/token.js')
              if (raw.list === true) {
                const entries = await runTokenList(ctx)
                if (raw.json === true) writeJson(ctx.io, { ok: true, entries })
                else renderTokenList(entries, ctx.io, ctx.now())
                return
              }
              const { toTokenOptions } = await import('./options/store.js')
              const result = await runToken(await toTokenOptions(raw, ctx), ctx)
              const { maskForGitHubActions } = await import('../commands/token-output.js')
              maskForGitHubActions([result.access_token], ctx)
              if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
              else ctx.io.out(`${result.access_token}\n`)
            }),
          )
      },
    },
    {
      usage: 'userinfo',
      description:
        'call the UserInfo endpoint with an access token (Bearer, or DPoP with ath) and show the claims',
      summary: 'the claims the UserInfo endpoint returns',
      async define(command, action) {
        const { addUserinfoOptions } = await import('./options/userinfo.js')
        addUserinfoOptions(command).action(
          action<RawUserinfoOptions & RawOutputOptions>('userinfo', async (raw) => {
            const { toUserinfoOptions } = await import('./options/userinfo.js')
            const { runUserinfo, renderUserinfo } = await import('../commands/userinfo.js')
            const result = await runUserinfo(await toUserinfoOptions(raw, ctx), ctx)
            if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
            else renderUserinfo(result, ctx.io, ctx.now())
          }),
        )
      },
    },
    {
      usage: 'revoke',
      description: 'revoke a refresh or access token at the revocation endpoint (RFC 7009)',
      async define(command, action) {
        const { addRevokeOptions } = await import('./options/revoke.js')
        addRevokeOptions(command).action(
          action<RawRevokeOptions & RawOutputOptions>('revoke', async (raw) => {
            const { toRevokeOptions } = await import('./options/revoke.js')
            const { runRevoke, renderRevoke } = await import('../commands/revoke.js')
            const result = await runRevoke(await toRevokeOptions(raw, ctx), ctx)
            if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
            else renderRevoke(result, ctx.io)
          }),
        )
      },
    },
    {
      usage: 'logout',
      description:
        'remove stored tokens (the flags you logged in with, or --all), revoking their refresh tokens',
      async define(command, action) {
        const { addLogoutOptions } = await import('./options/store.js')
        addLogoutOptions(command).action(
          action<RawLogoutOptions & RawOutputOptions>('logout', async (raw) => {
            const { toLogoutOptions } = await import('./options/store.js')
            const { runLogout } = await import('../commands/token.js')
            const result = await runLogout(await toLogoutOptions(raw, ctx), ctx)
            if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
          }),
        )
      },
    },
    {
      usage: 'sandbox',
      description:
        'run a local, Auth0-shaped OpenID Connect tenant until Ctrl-C (no account needed)',
      async define(command, action) {
        const { addSandboxOptions } = await import('./options/sandbox.js')
        addSandboxOptions(command)
          .addHelpText('after', SANDBOX_HELP)
          .action(
            action<RawSandboxOptions & RawOutputOptions>('sandbox', async (raw) => {
              const { toSandboxOptions } = await import('./options/sandbox.js')
              const { runSandbox, renderSandboxReady } = await import('../commands/sandbox.js')
              await runSandbox(await toSandboxOptions(raw), ctx, (info) => {
                if (raw.json === true) writeJson(ctx.io, { ok: true, ...info })
                else renderSandboxReady(info, ctx.io)
              })
            }),
          )
      },
    },
    {
      usage: 'demo',
      description: 'start the sandbox in-process and run a whole verified login against it',
      async define(command, action) {
        const { timeoutOption, toTimeoutMs } = await import('./options/listener.js')
        command
          .option(
            '--headless',
            'drive the login and consent pages without a browser (default in CI or without a display)',
          )
          .addOption(timeoutOption(3600))
          .action(
            action<{ headless?: boolean; timeout?: number } & RawOutputOptions>(
              'demo',
              async (raw) => {
                const { runDemo, isHeadless } = await import('../commands/demo.js')
                const { renderLogin } = await import('../commands/login-render.js')
                const result = await runDemo(
                  {
                    headless: isHeadless(raw.headless === true, ctx),
                    timeoutMs: toTimeoutMs(raw.timeout),
                  },
                  ctx,
                )
                if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
                else renderLogin(result.login, ctx.io, { showTokens: false, now: ctx.now() })
              },
            ),
          )
      },
    },
    {
      usage: 'sandbox-user <url>',
      description:
        'play the sandbox user headlessly: sign in, consent, call the callback (use as --browser)',
      async define(command, action) {
        const { addSandboxUserOptions } = await import('./options/sandbox.js')
        addSandboxUserOptions(command).action(
          action<RawSandboxUserOptions & RawOutputOptions>('sandbox-user', async (raw, [url]) => {
            const { toSandboxUserOptions } = await import('./options/sandbox.js')
            const { runSandboxUser } = await import('../commands/sandbox-user.js')
            const result = await runSandboxUser(
              await toSandboxUserOptions(raw, url as string, ctx),
              ctx,
            )
            if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
          }),
        )
      },
    },
    {
      usage: 'verifier',
      description: 'generate a code_verifier and its S256 code_challenge (RFC 7636 §4.1)',
      async define(command, action) {
        const { integer, withDefault } = await import('./options/values.js')
        command
          .option('--length <n>', withDefault('verifier length, 43 to 128', 43), integer(43, 128))
          .action(
            action<{ length?: number } & RawOutputOptions>('verifier', async (raw) => {
              const { runVerifier, renderPkcePair } = await import('../commands/pkce.js')
              const pair = runVerifier({ length: raw.length ?? 43 }, ctx)
              if (raw.json === true) writeJson(ctx.io, { ok: true, ...pair })
              else renderPkcePair(pair, ctx.io)
            }),
          )
      },
    },
    {
      usage: 'challenge [verifier]',
      description: 'compute the S256 code_challenge of a code_verifier (- or stdin)',
      define(command, action) {
        command.action(
          action<RawOutputOptions>('challenge', async (raw, [verifier]) => {
            const { runChallenge, renderPkcePair } = await import('../commands/pkce.js')
            const pair = await runChallenge({ verifier: verifier as string | undefined }, ctx)
            if (raw.json === true) writeJson(ctx.io, { ok: true, ...pair })
            else renderPkcePair(pair, ctx.io)
          }),
        )
        return Promise.resolve()
      },
    },
    {
      usage: 'decode [token...]',
      description: 'decode a JWT (JWS, JWE or unsecured) or explain an opaque token; - or stdin',
      summary: 'decode, explain and optionally verify tokens',
      async define(command, action) {
        const { defineDecode } = await import('./decode-command.js')
        defineDecode(command, ctx, action)
      },
    },
  ]
}

/**
 * All commands, and the flags of the one this run needs. Actions import their command module
 * lazily, so `--help`, `--version` and `decode` never load undici, open or the loopback server.
 */
export async function buildProgram(
  ctx: Ctx,
  programOptions: ProgramOptions = {},
): Promise<Command> {
  const program = new Command('pkce')
  program
    .description(
      'Debug the OAuth 2.0 Authorization Code flow with PKCE (Auth0 first, any OpenID Connect provider second)',
    )
    .version(ctx.version, '-V, --version')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .option('--debug', 'show stack traces (redacted) for internal errors')
    .helpCommand(false)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.out(text),
      writeErr: (text) => {
        if (programOptions.json !== true) ctx.io.err(text)
      },
    })

  const action = actionFactory(program, programOptions.run)

  program
    .command('help [topic]')
    .description('show help for a command, or a topic: exit-codes')
    .action((topic: string | undefined) => {
      if (topic === 'exit-codes') return ctx.io.out(EXIT_CODES_HELP)
      const command =
        topic === undefined ? undefined : program.commands.find((c) => c.name() === topic)
      if (topic !== undefined && command === undefined)
        throw new CliError('usage_error', `no help topic "${topic}"`, {
          hint: 'topics: exit-codes, or a command name',
        })
      ;(command ?? program).outputHelp()
    })

  for (const spec of commandSpecs(ctx)) {
    const command = program.command(spec.usage).description(spec.description)
    if (spec.summary !== undefined) command.summary(spec.summary)
    const wanted = programOptions.only === undefined || programOptions.only === command.name()
    if (wanted) await spec.define(command, action)
  }
  return program
}
