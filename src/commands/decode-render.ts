import { CliError } from '../errors.js'
import type { IO } from '../io/io.js'
import { writeJson } from '../io/json.js'
import { claimLines, formatClaimLines, heading } from '../io/render.js'
import type { ClaimLine } from '../io/render.js'
import type { DecodedToken } from '../jwt/decode.js'
import { abbreviateToken, sanitize } from '../sanitize.js'
import { claimGloss, explainJwe, explainOpaque, headerGloss } from './decode-explain.js'
import type { DecodedEntry, DecodeResult, Validity } from './decode-result.js'
import { describeValidity } from './decode-validity.js'

// security.md JD-2: long values are cut in human output, whole in --json and --claims.
const MAX_VALUE_CHARS = 500

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

/** A token that cannot be used now, whatever its signature, is shown as a problem. */
function isUnusable(validity: Validity): boolean {
  return validity.state === 'expired' || validity.state === 'not_yet_valid'
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
  if (entry.validity !== undefined) {
    const status = describeValidity(entry.validity)
    rows.push(['status', isUnusable(entry.validity) ? c.red(status) : status])
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

/** `--claims` (each payload, for jq), `--json` (the reports) or the human report. */
export type DecodeOutput = 'claims' | 'json' | 'human'

/** The `--claims` documents, or why a token has none (an opaque or encrypted token). */
function printClaims(result: DecodeResult, io: IO): void {
  const reports = result.entries.map((entry) => entry.report)
  const unreadable = reports.findIndex((report) => report.payload === null)
  if (unreadable >= 0) {
    const which = reports.length > 1 ? `token ${unreadable + 1}` : 'the token'
    throw new CliError(
      'token_invalid',
      `${which} has no readable claims: it is ${reports[unreadable]?.kind}`,
      {
        stage: 'decode',
        hint: 'an opaque or encrypted token cannot be decoded; send --audience for a JWT access token',
      },
    )
  }
  for (const report of reports) writeJson(io, report.payload)
}

/**
 * Writes a run's output and throws what makes it fail. Under `--claims` and `--json` a failure
 * writes nothing here: the one document on stdout is the failure's, carrying the reports.
 */
export function printDecode(
  result: DecodeResult,
  output: DecodeOutput,
  io: IO,
  options: { showTokens?: boolean } = {},
): void {
  if (output !== 'human' && result.failure !== undefined) throw result.failure
  if (output === 'claims') printClaims(result, io)
  else if (output === 'json') {
    const reports = result.entries.map((entry) => entry.report)
    writeJson(io, reports.length === 1 ? reports[0] : reports)
  } else renderDecode(result, io, options)
  if (result.failure !== undefined) throw result.failure
}
