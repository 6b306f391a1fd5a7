import type { Ctx } from '../context.js'

/**
 * Under GitHub Actions, `::add-mask::` each raw token before `pkce` prints it, so the runner blanks
 * the value wherever it turns up later in the job's log (security.md SO-7). The runner reads
 * workflow commands from stderr as well as stdout (actions/runner ScriptHandler), so the masks go
 * to stderr and stdout stays exactly what `$(…)` captures. Token values are `1*VSCHAR` (checked in
 * processTokenResponse), so each command is one line.
 * @see https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#masking-a-value-in-a-log
 */
export function maskForGitHubActions(values: readonly (string | null)[], ctx: Ctx): void {
  if (ctx.env.GITHUB_ACTIONS !== 'true') return
  for (const value of values) if (value !== null) ctx.io.err(`::add-mask::${value}\n`)
}
