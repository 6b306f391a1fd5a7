import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import type { Ctx } from '../context.js'
import { CliError, isCliError } from '../errors.js'
import type { IO } from '../io/io.js'
import {
  claimLines,
  formatClaimLines,
  formatNumericDate,
  formatRelative,
  heading,
  TIME_CLAIMS,
} from '../io/render.js'
import type { ClaimLine } from '../io/render.js'
import { decodeToken } from '../jwt/decode.js'
import type { DecodedToken } from '../jwt/decode.js'
import type { Check } from '../jwt/verify.js'
import { abbreviateToken, excerpt, sanitize } from '../sanitize.js'
import { assertionFailure, hasAssertions, runAssertions } from './assertions.js'
import type { Assertions } from './assertions.js'
import {
  claimGloss,
  encryptedWarning,
  explainJwe,
  explainOpaque,
  headerGloss,
  opaqueWarning,
} from './decode-explain.js'
import type { Verifier } from './decode-verify.js'
import type { HttpSettings } from './http-settings.js'

/** Where `--verify` takes keys from; never from the token's own `jku`, `x5u`, `jwk` or `x5c`. */
export type KeySource =
  | { kind: 'jwks_uri'; url: URL }
  | { kind: 'jwks_file'; path: string }
  | { kind: 'key_file'; path: string }
  /** The issuer's `jwks_uri` through discovery: `--issuer`, else the token's `iss`. */
  | { kind: 'discovery' }

export interface VerifySettings {
  keys: KeySource
  /** `--issuer`: compared exactly with `iss`, and the issuer discovered when no key flag is given. */
  issuer: string | undefined
  audience: string | undefined
  clockToleranceSeconds: number
  http: HttpSettings
}

export interface DecodeOptions {
  /** Tokens as given on the command line; none, or `-`, reads stdin (one token a line). */
  inputs: string[]
  verify: VerifySettings | undefined
  assertions: Assertions
}

export interface DecodeWarning {
  code: string
  message: string
}

/** One token's `--json` document. */
export interface TokenReport {
  ok: boolean
  /** `null` when the token could not be decoded at all. */
  kind: DecodedToken['kind'] | null
  header: ProtectedHeaderParameters | null
  payload: JWTPayload | null
  signature: { alg: string; bytes: number } | null
  checks: Check[]
  warnings: DecodeWarning[]
  error?: { code: string; message: string; hint?: string }
}

export interface DecodedEntry {
  token: string
  report: TokenReport
  /** "expires in 23h 59m", "expired 5m ago", "not yet valid (…)"; JWTs only. */
  status: string | undefined
  verification: 'skipped' | 'passed' | 'failed'
}

export interface DecodeResult {
  entries: DecodedEntry[]
  now: Date
  /** What makes the run exit non-zero, already carrying the report for `--json`. */
  failure: CliError | undefined
}

// security.md JD-2: long values are cut in human output, whole in --json and --claims.
const MAX_VALUE_CHARS = 500

const WRAPPERS: [RegExp, string][] = [
  [/^authorization\s*:\s*/iu, 'an "Authorization:" header name'],
  [/^dpop\s*:\s*/iu, 'a "DPoP:" header name'],
  [/^"?(?:access_token|id_token|refresh_token|token)"?\s*:\s*/iu, 'a JSON member name'],
  [/^bearer\s+/iu, 'a "Bearer " prefix'],
  [/^dpop\s+/iu, 'a "DPoP " prefix'],
]

interface Input {
  token: string
  stripped: string[]
}

/**
 * Undoes what copying a token usually adds: a header name, a `Bearer `/`DPoP ` scheme, quotes,
 * a JSON member name; says what it took off.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 */
export function cleanToken(text: string): Input {
  const stripped: string[] = []
  let token = text.trim()
  for (let changed = true; changed;) {
    changed = false
    for (const [pattern, label] of WRAPPERS) {
      const next = token.replace(pattern, '').trim()
      if (next !== token) {
        stripped.push(label)
        token = next
        changed = true
      }
    }
    const quoted = /^(["'`])([^]*)\1,?$/u.exec(token)
    if (quoted !== null) {
      stripped.push('quotes')
      token = (quoted[2] ?? '').trim()
      changed = true
    }
  }
  return { token, stripped }
}

/** Each non-empty line is a token; several tokens on one line are split at whitespace. */
export function splitTokens(text: string): Input[] {
  return text
    .split(/\r?\n/u)
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      const cleaned = cleanToken(line)
      const parts = cleaned.token.split(/\s+/u).filter(Boolean)
      if (parts.length <= 1) return [cleaned]
      return parts.map((part) => {
        const again = cleanToken(part)
        return { token: again.token, stripped: [...cleaned.stripped, ...again.stripped] }
      })
    })
    .filter((input) => input.token !== '')
}

async function readInputs(args: string[], ctx: Ctx): Promise<Input[]> {
  const inputs: Input[] = []
  let stdinRead = false
  for (const arg of args.length === 0 ? ['-'] : args) {
    if (arg !== '-') {
      inputs.push(...splitTokens(arg))
    } else if (!stdinRead) {
      stdinRead = true
      if (ctx.io.stdinIsTTY) {
        throw new CliError('usage_error', 'no token given, and stdin is a terminal', {
          hint: 'pkce decode <token>, or pipe it: pbpaste | pkce decode',
        })
      }
      inputs.push(...splitTokens(await ctx.io.readStdin()))
    }
  }
  if (inputs.length === 0) {
    throw new CliError('usage_error', 'no token given', {
      hint: 'pkce decode <token>, or pipe it: pbpaste | pkce decode',
    })
  }
  return inputs
}

function isUtf8(segment: string): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(segment, 'base64url'))
    return true
  } catch {
    return false
  }
}

function malformedHint(message: string): string | undefined {
  // JD-3: no real token nests this deep; copying it again will not help.
  if (message.includes('nests deeper')) return undefined
  if (message.includes('segments')) {
    return 'a JWS is header.payload.signature and a JWE has 5 parts; check the token was copied whole'
  }
  if (message.includes('not base64url')) {
    return 'a JWT holds only A-Z a-z 0-9 - _ and dots; check for spaces, padding (=) or cut lines'
  }
  return 'check the token was copied whole'
}

function decodeChecked(token: string): DecodedToken {
  let decoded: DecodedToken
  try {
    decoded = decodeToken(token)
  } catch (error) {
    if (!isCliError(error) || error.code !== 'token_malformed') throw error
    // security.md JD-7: jose refuses invalid UTF-8 as "not JSON"; name the real reason.
    const notJson = /^the (header|payload) segment is not a base64url-encoded JSON object$/u.exec(
      error.message,
    )?.[1]
    const segment = token.split('.')[notJson === 'header' ? 0 : 1] ?? ''
    const message =
      notJson !== undefined && !isUtf8(segment)
        ? `the ${notJson} segment is not valid UTF-8`
        : error.message
    throw new CliError(error.code, message, { stage: 'decode', hint: malformedHint(message) })
  }
  return decoded
}

/**
 * The validity of a claims set at `now`, in words: "expires in 23h 59m", "expired 5m ago".
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4
 */
export function validityStatus(payload: JWTPayload, now: Date): string {
  const nowSeconds = now.getTime() / 1000
  const { exp, nbf } = payload
  const usable = (value: unknown): value is number => formatNumericDate(value, now) !== undefined
  const expiry = !usable(exp)
    ? exp === undefined
      ? 'no exp: never expires'
      : 'exp is not a valid date'
    : exp <= nowSeconds
      ? `expired ${exp === nowSeconds ? 'just now' : formatRelative(exp - nowSeconds)}`
      : `expires ${formatRelative(exp - nowSeconds)}`
  if (usable(nbf) && nbf > nowSeconds) {
    return `not yet valid (valid ${formatRelative(nbf - nowSeconds)}; ${expiry})`
  }
  return expiry
}

function timeWarnings(payload: JWTPayload, now: Date): DecodeWarning[] {
  const warnings: DecodeWarning[] = []
  const nowSeconds = now.getTime() / 1000
  for (const name of TIME_CLAIMS) {
    const value = payload[name]
    if (value === undefined || (name === 'updated_at' && typeof value === 'string')) continue
    if (formatNumericDate(value, now) === undefined) {
      warnings.push({
        code: 'claim_time_invalid',
        message: `${name} is not a valid NumericDate: ${excerpt(JSON.stringify(value) ?? '', 60)}`,
      })
    }
  }
  const { exp, nbf } = payload
  if (typeof exp === 'number' && formatNumericDate(exp, now) !== undefined && exp <= nowSeconds) {
    warnings.push({
      code: 'token_expired',
      message: `the token expired ${exp === nowSeconds ? 'just now' : formatRelative(exp - nowSeconds)}`,
    })
  }
  if (typeof nbf === 'number' && formatNumericDate(nbf, now) !== undefined && nbf > nowSeconds) {
    warnings.push({
      code: 'token_not_yet_valid',
      message: `the token is not yet valid (nbf ${formatRelative(nbf - nowSeconds)})`,
    })
  }
  return warnings
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

async function decodeOne(
  input: Input,
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
    status: undefined,
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
    decoded = decodeChecked(input.token)
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
    entry.status = validityStatus(decoded.payload, now)
    for (const warning of timeWarnings(decoded.payload, now)) warn(warning.code, warning.message)
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
  const inputs = await readInputs(opts.inputs, ctx)
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

const TITLES: Record<DecodedToken['kind'], string> = {
  jws: 'JWS (signed JWT)',
  unsecured: 'Unsecured JWT (alg none)',
  jwe: 'JWE (encrypted)',
  opaque: 'Opaque token (not a JWT)',
}

function wrap(text: string, indent: string, width = 100): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  lines.push(line)
  return lines.map((text) => `${indent}${text}\n`).join('')
}

/** Cuts long values (security.md JD-2); formatClaimLines lines up the glosses. */
function tidy(lines: ClaimLine[]): ClaimLine[] {
  return lines.map((line) =>
    line.value.length <= MAX_VALUE_CHARS
      ? line
      : {
          ...line,
          value: `${line.value.slice(0, MAX_VALUE_CHARS)}… (truncated, ${line.value.length} chars; --json shows it whole)`,
        },
  )
}

function summary(entry: DecodedEntry, io: IO, showTokens: boolean): ClaimLine[] {
  const c = io.color.out
  const { report } = entry
  const rows: [string, string][] = [
    ['token', sanitize(showTokens ? entry.token : abbreviateToken(entry.token))],
  ]
  if (report.kind === null) {
    rows.push(['error', c.red(sanitize(report.error?.message ?? 'malformed'))])
  } else if (report.kind === 'jws' && report.signature !== null) {
    const verdict = {
      passed: c.green('verified'),
      failed: c.red('NOT verified'),
      skipped: c.yellow('not verified (add --verify)'),
    }[entry.verification]
    rows.push([
      'signature',
      `${sanitize(report.signature.alg)}, ${report.signature.bytes} bytes, ${verdict}`,
    ])
  } else if (report.kind === 'unsecured') {
    rows.push(['signature', c.red('none: this token proves nothing')])
  } else if (report.kind === 'jwe' && report.header !== null) {
    const { alg, enc, iss } = report.header
    rows.push(['encryption', sanitize(`${String(alg)} / ${String(enc)}`)])
    if (typeof iss === 'string')
      rows.push(['issuer', `${sanitize(iss)} ${c.dim('(from the header)')}`])
  } else if (report.kind === 'opaque') {
    rows.push(['length', `${entry.token.length} characters`])
  }
  if (entry.status !== undefined) {
    const bad = entry.status.startsWith('expired') || entry.status.startsWith('not yet')
    rows.push(['status', bad ? c.red(entry.status) : entry.status])
  }
  return rows.map(([key, value]) => ({ key, value, note: undefined }))
}

function renderEntry(
  entry: DecodedEntry,
  title: string,
  io: IO,
  now: Date,
  showTokens: boolean,
): string {
  const c = io.color.out
  const { report } = entry
  let out = heading(title, c)
  out += formatClaimLines(summary(entry, io, showTokens), c)
  if (report.kind === 'jwe' && report.header !== null)
    out += `\n${wrap(explainJwe(report.header), '  ')}`
  if (report.kind === 'opaque') out += `\n${wrap(explainOpaque(entry.token.length), '  ')}`
  if (report.header !== null) {
    out += heading('Header', c)
    out += formatClaimLines(
      tidy(claimLines(report.header, now, headerGloss(report.kind === 'jwe'))),
      c,
    )
  }
  if (report.payload !== null) {
    out += heading('Payload', c)
    out += formatClaimLines(tidy(claimLines(report.payload, now, claimGloss)), c)
  }
  if (report.checks.length > 0) {
    out += heading('Checks', c)
    const width = Math.max(...report.checks.map((check) => check.name.length))
    for (const check of report.checks) {
      out += `  ${check.ok ? c.green('✓') : c.red('✗')} ${sanitize(check.name).padEnd(width)}  ${sanitize(check.detail)}\n`
    }
  }
  return out
}

/** The human report on stdout: a section per token, keys aligned, remote text sanitised. */
export function renderDecode(
  result: DecodeResult,
  io: IO,
  options: { showTokens?: boolean } = {},
): void {
  const c = io.color.out
  const count = result.entries.length
  let out = ''
  for (const [index, entry] of result.entries.entries()) {
    const kind = entry.report.kind === null ? 'Malformed token' : TITLES[entry.report.kind]
    const title = count > 1 ? `Token ${index + 1} of ${count}: ${kind}` : kind
    out += renderEntry(entry, title, io, result.now, options.showTokens === true)
  }
  const checks = result.entries.flatMap((entry) => entry.report.checks)
  if (checks.length > 0) {
    const failed = checks.filter((check) => !check.ok).length
    out +=
      failed === 0
        ? `\n${c.green.bold('✓ every check passed')}\n`
        : `\n${c.red.bold(`✗ ${failed} of ${checks.length} checks failed`)}\n`
  }
  io.out(out)
}
