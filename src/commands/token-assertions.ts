import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import { hasAssertions, runAssertions } from './assertions.js'
import type { Assertions } from './assertions.js'
import type { ValidatedTokens } from './exchange-step.js'
import type { Flow } from './flow.js'

/**
 * Runs the CI assertions (`--expect-claim`, `--require-scope`, `--expect-valid-for`) on the
 * access token's claims, or the ID token's when the access token is not a JWT. Each is a named
 * check; the first failure is `assertion_failed` (exit 4).
 */
export function assertOnTokens(
  assertions: Assertions,
  validated: ValidatedTokens,
  flow: Flow,
  ctx: Ctx,
): void {
  if (!hasAssertions(assertions)) return
  const accessToken = validated.access_token
  const target = accessToken.payload ?? validated.id_token?.payload
  if (target === undefined) {
    throw new CliError(
      'assertion_failed',
      'there are no claims to assert on: the access token is not a JWT and no ID token came',
      {
        stage: 'validate',
        hint: 'send --audience to get a JWT access token',
      },
    )
  }
  const results = runAssertions(
    target,
    assertions,
    ctx.now(),
    accessToken.payload === null ? 'id_token' : 'access_token',
  )
  flow.checks.push(...results)
  const failed = results.find((check) => !check.ok)
  if (failed !== undefined) {
    throw new CliError('assertion_failed', `${failed.name}: ${failed.detail}`, {
      stage: 'validate',
    })
  }
}
