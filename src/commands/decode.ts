import type { Ctx } from '../context.js'
import { CliError, isCliError } from '../errors.js'
import { decodeToken } from '../jwt/decode.js'
import type { DecodedToken } from '../jwt/decode.js'
import { assertionFailure, hasAssertions, runAssertions } from './assertions.js'
import type { Assertions } from './assertions.js'
import { encryptedWarning, explainMalformed, opaqueWarning } from './decode-explain.js'
import { readTokenInputs } from './decode-input.js'
import type { TokenInput } from './decode-input.js'
import type { DecodedEntry, DecodeResult, TokenReport } from './decode-result.js'
import { timeWarnings, validityAt } from './decode-validity.js'
import type { Verifier, VerifySettings } from './decode-verify.js'

export interface DecodeOptions {
  /** Tokens as given on the command line; none, or `-`, reads stdin (one token a line). */
  inputs: string[]
  verify: VerifySettings | undefined
  assertions: Assertions
}

function listWords(items: string[]): string {
  return items.length <= 1
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`
}

function errorMember(error: CliError): NonNullable<TokenReport['error']> {
  return error.hint === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, hint: error.hint }
}

function decodeExplained(token: string): DecodedToken {
  try {
    return decodeToken(token)
  } catch (error) {
    if (!isCliError(error) || error.code !== 'token_malformed') throw error
    throw explainMalformed(error, token)
  }
}

async function decodeOne(
  input: TokenInput,
  position: { index: number; count: number },
  options: DecodeOptions,
  context: { ctx: Ctx; verifier: Verifier | undefined },
): Promise<{ entry: DecodedEntry; error: CliError | undefined }> {
  const { ctx } = context
  const now = ctx.now()
  const report: TokenReport = {
    ok: true,
    kind: null,
    header: null,
    payload: null,
    signature: null,
    checks: [],
    warnings: [],
  }
  const entry: DecodedEntry = {
    token: input.token,
    report,
    validity: undefined,
    verification: 'skipped',
  }
  const prefix = position.count > 1 ? `token ${position.index + 1}: ` : ''
  const warn = (code: string, message: string): void => {
    report.warnings.push({ code, message })
    ctx.reporter.warn(code, `${prefix}${message}`)
  }
  const failed = (error: CliError): { entry: DecodedEntry; error: CliError } => {
    report.ok = false
    report.error = errorMember(error)
    return { entry, error }
  }
  if (input.stripped.length > 0) {
    warn('input_stripped', `stripped ${listWords(input.stripped)} from the input`)
  }
  let decoded: DecodedToken
  try {
    decoded = decodeExplained(input.token)
  } catch (error) {
    if (!isCliError(error)) throw error
    return failed(error)
  }
  report.kind = decoded.kind
  report.header = decoded.header
  report.payload = decoded.payload
  report.signature = decoded.signature

  if (decoded.kind === 'opaque') warn('token_opaque', opaqueWarning(decoded.length))
  if (decoded.kind === 'jwe') warn('token_encrypted', encryptedWarning(decoded.header))
  if (decoded.kind === 'unsecured') {
    warn(
      'token_unsecured',
      'alg is "none": the token has no signature and proves nothing; anyone can write one',
    )
  }
  if (decoded.payload !== null) {
    entry.validity = validityAt(decoded.payload, now)
    for (const warning of timeWarnings(decoded.payload, entry.validity, now)) {
      warn(warning.code, warning.message)
    }
  }

  let error: CliError | undefined
  if (context.verifier !== undefined) {
    try {
      await context.verifier(input.token, decoded, { checks: report.checks, warn })
      entry.verification = 'passed'
    } catch (caught) {
      if (!isCliError(caught)) throw caught
      entry.verification = 'failed'
      error = caught
    }
  }
  if (decoded.kind === 'jws' && entry.verification !== 'passed') {
    warn(
      'signature_not_verified',
      options.verify === undefined
        ? 'signature not verified: the claims are what the token says, not proven (add --verify)'
        : 'signature not verified: the claims are what the token says, not proven',
    )
  }
  if (hasAssertions(options.assertions)) {
    const checks = runAssertions(decoded.payload, options.assertions, now)
    report.checks.push(...checks)
    error ??= assertionFailure(checks)
  }
  return error === undefined ? { entry, error } : failed(error)
}

function withoutOutcome(report: TokenReport): Record<string, unknown> {
  const { kind, header, payload, signature, checks, warnings } = report
  return { kind, header, payload, signature, checks, warnings }
}

/**
 * `pkce decode`: classifies and decodes each token (JWS, unsecured, JWE, opaque), explains it, and
 * with `--verify` checks signature and times against keys the user names, never keys the token
 * names. A malformed token, a failed check or a failed assertion makes `failure` (exit 4).
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-7.2
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3
 */
export async function runDecode(opts: DecodeOptions, ctx: Ctx): Promise<DecodeResult> {
  const inputs = await readTokenInputs(opts.inputs, ctx.io)
  const verifier =
    opts.verify === undefined
      ? undefined
      : (await import('./decode-verify.js')).createVerifier(opts.verify, ctx)
  const entries: DecodedEntry[] = []
  let failure: CliError | undefined
  for (const [index, input] of inputs.entries()) {
    const { entry, error } = await decodeOne(input, { index, count: inputs.length }, opts, {
      ctx,
      verifier,
    })
    entries.push(entry)
    if (error !== undefined && failure === undefined) {
      failure =
        inputs.length === 1
          ? error
          : new CliError(error.code, `token ${index + 1}: ${error.message}`, {
              hint: error.hint,
              stage: error.stage,
              status: error.status,
              oauth: error.oauth,
              cause: error,
            })
    }
  }
  if (failure !== undefined) {
    const [only] = entries
    Object.assign(
      failure.details,
      entries.length === 1 && only !== undefined
        ? withoutOutcome(only.report)
        : { tokens: entries.map((entry) => entry.report) },
    )
  }
  return { entries, now: ctx.now(), failure }
}
