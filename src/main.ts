import { CommanderError } from 'commander'
import type { Ctx } from './context.js'
import { CliError, EXIT, isCliError } from './errors.js'
import type { ExitCode } from './errors.js'
import { plain } from './io/color.js'
import { writeJson } from './io/json.js'
import { createRedactor } from './io/redact.js'
import type { Redactor } from './io/redact.js'
import { createReporter } from './io/reporter.js'
import { buildProgram, selectedCommand } from './cli/program.js'
import type { ProgramOptions } from './cli/program.js'
import { sanitize } from './sanitize.js'

export { systemContext } from './io/system.js'

/** Adapts the context to flags that shape all output, read before parsing so usage errors obey them. */
function contextFor(argv: string[], base: Ctx): Ctx {
  const noColor = argv.includes('--no-color')
  const showSecrets = argv.includes('--show-secrets')
  if (!noColor && !showSecrets) return base
  const io = noColor ? { ...base.io, color: { out: plain, err: plain } } : base.io
  const secrets = showSecrets ? createRedactor(false) : base.secrets
  return { ...base, io, secrets, reporter: createReporter(io, secrets) }
}

function failureDocument(error: CliError): Record<string, unknown> {
  const detail: Record<string, unknown> = { code: error.code, message: error.message }
  if (error.hint !== undefined) detail.hint = error.hint
  if (error.stage !== undefined) detail.stage = error.stage
  if (error.oauth !== undefined) detail.oauth = error.oauth
  if (error.status !== undefined) detail.http = { status: error.status }
  return { ok: false, error: detail, ...error.details }
}

/**
 * Every string of a failure document with the run's secrets replaced: a server may echo the
 * client secret in its error_description (security.md SO-2).
 */
function redactDocument(value: unknown, secrets: Redactor): unknown {
  if (typeof value === 'string') return secrets.redact(value)
  if (Array.isArray(value)) return value.map((item) => redactDocument(item, secrets))
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, redactDocument(item, secrets)]),
  )
}

/** One stderr line: secrets redacted, and remote text that slipped into it made inert (SO-4). */
function errLine(text: string, secrets: Redactor): string {
  return sanitize(secrets.redact(text))
}

/**
 * `--debug`'s stack, redacted and made inert: its first part repeats the message, which may hold
 * remote text, so it is one escaped line (newlines included) and cannot start a line of its own
 * (a forged `::error::`); the frames below it are ours, one a line (docs/security.md SO-4).
 */
function debugStack(error: unknown, secrets: Redactor): string {
  const stack = String((error as Error | undefined)?.stack ?? error)
  const frames = stack.search(/\n\s+at /u)
  const head = frames < 0 ? stack : stack.slice(0, frames)
  const lines = frames < 0 ? [] : stack.slice(frames + 1).split('\n')
  return [head, ...lines].map((line) => `${errLine(line, secrets)}\n`).join('')
}

function usageError(error: CommanderError): CliError {
  const message = error.message.replace(/^error: /u, '')
  return new CliError('usage_error', message)
}

/**
 * Runs one command line and maps its outcome to an exit code: the only place that does (house
 * style). Expected failures print `error:` and `hint:` on stderr (or one JSON document on stdout
 * under `--json`); anything else is a bug, exit 1.
 */
export async function main(
  argv: string[],
  baseCtx: Ctx,
  options: ProgramOptions = {},
): Promise<ExitCode> {
  const ctx = contextFor(argv, baseCtx)
  const json = argv.includes('--json')
  const debug = argv.includes('--debug') || ctx.env.PKCE_DEBUG === '1'
  try {
    const program = await buildProgram(ctx, {
      only: selectedCommand(argv) ?? '',
      ...options,
      json,
    })
    await program.parseAsync(argv, { from: 'user' })
    return EXIT.ok
  } catch (caught) {
    let error = caught
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok
      error = usageError(error)
    }
    if (ctx.signal.aborted && !(isCliError(error) && error.code === 'interrupted')) {
      error = new CliError('interrupted', 'interrupted', { cause: error })
    }
    if (!isCliError(error)) {
      if (json)
        writeJson(ctx.io, {
          ok: false,
          error: { code: 'internal_error', message: 'internal error' },
        })
      const c = ctx.io.color.err
      ctx.io.err(
        `${c.red('error:')} internal error: ${errLine(String((error as Error | undefined)?.message ?? error), ctx.secrets)}\n`,
      )
      if (debug) ctx.io.err(debugStack(error, ctx.secrets))
      else
        ctx.io.err(`${c.dim('hint:')} this is a bug in pkce; re-run with --debug and report it\n`)
      return EXIT.internal
    }
    if (json) {
      writeJson(ctx.io, redactDocument(failureDocument(error), ctx.secrets))
    } else if (error.code !== 'usage_error' || !(caught instanceof CommanderError)) {
      const c = ctx.io.color.err
      ctx.io.err(`${c.red('error:')} ${errLine(error.message, ctx.secrets)}\n`)
      if (error.hint !== undefined)
        ctx.io.err(`${c.dim('hint:')} ${errLine(error.hint, ctx.secrets)}\n`)
    }
    if (debug && error.cause instanceof Error) ctx.io.err(debugStack(error.cause, ctx.secrets))
    return error.exitCode
  }
}
