import { Command } from 'commander'
import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import { writeJson } from '../io/json.js'
import { EXIT_CODES_HELP, LOGIN_EXAMPLES, PAR_EXAMPLES, SANDBOX_HELP } from './help.js'
import { addDecodeCommand } from './decode-command.js'
import { addFlowOptions } from './options/flow.js'
import type { RawLoginOptions } from './options/flow.js'
import { timeoutOption } from './options/listener.js'
import { addParOption } from './options/request.js'
import { integer, withDefault } from './options/values.js'
import type { RawOutputOptions } from './options/output.js'
import { addSandboxOptions, addSandboxUserOptions } from './options/sandbox.js'
import type { RawSandboxOptions, RawSandboxUserOptions } from './options/sandbox.js'

/** Replaces a command's action, so CLI tests can capture parsed options (gh's runF). */
export type RunOverride = (command: string, options: unknown, args: unknown[]) => Promise<void>

export interface ProgramOptions {
  run?: RunOverride
  /** Under `--json` the failure document says it all: commander writes no error text. */
  json?: boolean
}

/**
 * All commands and flags. Actions import their command module lazily, so `--help`, `--version`
 * and `decode` never load undici, open or the loopback server.
 */
export function buildProgram(ctx: Ctx, programOptions: ProgramOptions = {}): Command {
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

  const action =
    <T>(name: string, run: (options: T, args: unknown[]) => Promise<void>) =>
    async (...params: unknown[]): Promise<void> => {
      const command = params.at(-1) as Command
      const options = { ...program.opts(), ...command.opts() } as T
      const args = params.slice(0, -2)
      if (programOptions.run !== undefined) return programOptions.run(name, options, args)
      return run(options, args)
    }

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

  addFlowOptions(
    addParOption(
      program
        .command('login')
        .description('run the whole Authorization Code + PKCE flow and validate the tokens')
        .summary('sign in through the browser and inspect the tokens'),
    ),
  )
    .addHelpText('after', LOGIN_EXAMPLES)
    .action(
      action<RawLoginOptions>('login', async (raw) => {
        const { toLoginOptions } = await import('./options/flow.js')
        const { toTokenOutput } = await import('./options/output.js')
        const { runLogin } = await import('../commands/login.js')
        const { renderLogin } = await import('../commands/login-render.js')
        const { printTokens } = await import('../commands/token-output.js')
        const result = await runLogin(await toLoginOptions(raw, ctx), ctx)
        printTokens(result, toTokenOutput(raw), ctx, (r, options) =>
          renderLogin(r, ctx.io, options),
        )
      }),
    )

  addFlowOptions(
    program
      .command('par')
      .description(
        'push an authorization request (RFC 9126) and print its request_uri; --open finishes the flow',
      )
      .summary('push an authorization request on its own'),
  )
    .option('--response-type <type>', withDefault('response_type to push', 'code'))
    .option('--open', 'go on: open the authorization URL and finish the flow as login --par does')
    .addHelpText('after', PAR_EXAMPLES)
    .action(
      action<RawLoginOptions & { responseType?: string; open?: boolean }>('par', async (raw) => {
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
      }),
    )

  addSandboxOptions(
    program
      .command('sandbox')
      .description(
        'run a local, Auth0-shaped OpenID Connect tenant until Ctrl-C (no account needed)',
      ),
  )
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

  program
    .command('demo')
    .description('start the sandbox in-process and run a whole verified login against it')
    .option(
      '--headless',
      'drive the login and consent pages without a browser (default in CI or without a display)',
    )
    .addOption(timeoutOption(3600))
    .action(
      action<{ headless?: boolean; timeout?: number; json?: boolean }>('demo', async (raw) => {
        const { toTimeoutMs } = await import('./options/listener.js')
        const { runDemo, isHeadless } = await import('../commands/demo.js')
        const { renderLogin } = await import('../commands/login-render.js')
        const result = await runDemo(
          { headless: isHeadless(raw.headless === true, ctx), timeoutMs: toTimeoutMs(raw.timeout) },
          ctx,
        )
        if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
        else renderLogin(result.login, ctx.io, { showTokens: false, now: ctx.now() })
      }),
    )

  addSandboxUserOptions(
    program
      .command('sandbox-user <url>')
      .description(
        'play the sandbox user headlessly: sign in, consent, call the callback (use as --browser)',
      ),
  ).action(
    action<RawSandboxUserOptions & RawOutputOptions>('sandbox-user', async (raw, [url]) => {
      const { toSandboxUserOptions } = await import('./options/sandbox.js')
      const { runSandboxUser } = await import('../commands/sandbox-user.js')
      const result = await runSandboxUser(await toSandboxUserOptions(raw, url as string, ctx), ctx)
      if (raw.json === true) writeJson(ctx.io, { ok: true, ...result })
    }),
  )

  program
    .command('verifier')
    .description('generate a code_verifier and its S256 code_challenge (RFC 7636 §4.1)')
    .option('--length <n>', withDefault('verifier length, 43 to 128', 43), integer(43, 128))
    .action(
      action<{ length?: number; json?: boolean }>('verifier', async (raw) => {
        const { runVerifier, renderPkcePair } = await import('../commands/pkce.js')
        const pair = runVerifier({ length: raw.length ?? 43 }, ctx)
        if (raw.json === true) writeJson(ctx.io, { ok: true, ...pair })
        else renderPkcePair(pair, ctx.io)
      }),
    )

  program
    .command('challenge [verifier]')
    .description('compute the S256 code_challenge of a code_verifier (- or stdin)')
    .action(
      action<{ json?: boolean }>('challenge', async (raw, [verifier]) => {
        const { runChallenge, renderPkcePair } = await import('../commands/pkce.js')
        const pair = await runChallenge({ verifier: verifier as string | undefined }, ctx)
        if (raw.json === true) writeJson(ctx.io, { ok: true, ...pair })
        else renderPkcePair(pair, ctx.io)
      }),
    )
  addDecodeCommand(program, ctx, action)

  return program
}
