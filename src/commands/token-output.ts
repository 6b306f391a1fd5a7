import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import { writeJson } from '../io/json.js'
import type { TokenSet } from './exchange-step.js'

/** The tokens a `--print` can pick. */
export type PrintableToken = 'access_token' | 'id_token' | 'refresh_token'

/**
 * How a command that obtained tokens shows them: one raw token for `$(…)`, the `--json`
 * document, or the human report (raw tokens abbreviated unless `--show-tokens`).
 */
export type TokenOutput =
  | { kind: 'print'; token: PrintableToken }
  | { kind: 'json' }
  | { kind: 'human'; showTokens: boolean }

/**
 * Under GitHub Actions, `::add-mask::` each raw token before `pkce` prints it, so the runner blanks
 * the value wherever it turns up later in the job's log (docs/security.md SO-7). The runner reads
 * workflow commands from stderr as well as stdout (actions/runner ScriptHandler), so the masks go
 * to stderr and stdout stays exactly what `$(…)` captures. Token values are `1*VSCHAR` (checked in
 * processTokenResponse), so each command is one line.
 * @see https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#masking-a-value-in-a-log
 */
export function maskForGitHubActions(values: readonly (string | null)[], ctx: Ctx): void {
  if (ctx.env.GITHUB_ACTIONS !== 'true') return
  for (const value of values) if (value !== null) ctx.io.err(`::add-mask::${value}\n`)
}

/**
 * Prints a result that carries tokens (`login`, and every later command that obtains them) in
 * the chosen output; `render` draws the human report.
 */
export function printTokens<T extends { tokens: TokenSet }>(
  result: T,
  output: TokenOutput,
  ctx: Ctx,
  render: (result: T, options: { showTokens: boolean; now: Date }) => void,
): void {
  const { access_token, id_token, refresh_token } = result.tokens
  if (output.kind !== 'human' || output.showTokens) {
    maskForGitHubActions([access_token, id_token, refresh_token], ctx)
  }
  if (output.kind === 'print') {
    const value = result.tokens[output.token]
    if (value === null) {
      throw new CliError('assertion_failed', `no ${output.token} was returned`, {
        hint:
          output.token === 'refresh_token'
            ? 'add offline_access to --scope'
            : 'add openid to --scope',
      })
    }
    ctx.io.out(`${value}\n`)
  } else if (output.kind === 'json') {
    writeJson(ctx.io, { ok: true, ...result })
  } else {
    render(result, { showTokens: output.showTokens, now: ctx.now() })
  }
}
