import type { IO } from '../io/io.js'
import { claimLines, formatClaimLines, formatRelative, heading } from '../io/render.js'
import { abbreviateToken, sanitize } from '../sanitize.js'
import { claimGloss } from './decode-explain.js'
import type { LoginResult } from './login.js'

/** What the report shows: the tokens and their checks, from `login` or `exchange` alike. */
export type TokenReport = Pick<
  LoginResult,
  | 'tokens'
  | 'id_token'
  | 'access_token'
  | 'checks'
  | 'warnings'
  | 'timings_ms'
  | 'authorization_response'
>

/** The human report of a login on stdout: tokens, decoded JWTs, checks, timings. */
export function renderLogin(
  result: TokenReport,
  io: IO,
  options: { showTokens: boolean; now: Date; verdict?: string },
): void {
  const c = io.color.out
  const token = (value: string): string => (options.showTokens ? value : abbreviateToken(value))
  const { tokens } = result
  let out = heading('Tokens', c)
  const rows: [string, string][] = [
    ['token_type', sanitize(tokens.token_type)],
    ['access_token', token(tokens.access_token)],
  ]
  if (tokens.id_token !== null) rows.push(['id_token', token(tokens.id_token)])
  rows.push([
    'refresh_token',
    tokens.refresh_token === null
      ? c.dim('none (ask for offline_access)')
      : // security.md SO-2: a refresh token never appears in human output, not even in part.
        `present (${tokens.refresh_token.length} chars; --print refresh_token or --json shows it)`,
  ])
  if (tokens.expires_in !== null) {
    rows.push(['expires_in', `${tokens.expires_in}s (${formatRelative(tokens.expires_in)})`])
  }
  rows.push(['scope', tokens.scope === null ? c.dim('not returned') : sanitize(tokens.scope)])
  out += formatClaimLines(
    rows.map(([key, value]) => ({ key, value, note: undefined })),
    c,
  )

  const jarm = result.authorization_response?.jarm
  if (jarm !== undefined && jarm !== null) {
    // Issue 16: the JARM response as verified (callback.jarm.* in the checks below).
    out += heading(
      `Authorization response (JARM, response_mode=${result.authorization_response?.response_mode ?? ''}, verified)`,
      c,
    )
    out += `  ${c.dim('header')}\n${formatClaimLines(claimLines(jarm.header, options.now), c, '    ')}`
    out += `  ${c.dim('payload')}\n${formatClaimLines(claimLines(jarm.claims, options.now, claimGloss), c, '    ')}`
  }
  if (result.id_token !== null) {
    out += heading('ID token', c)
    out += `  ${c.dim('header')}\n${formatClaimLines(claimLines(result.id_token.header, options.now), c, '    ')}`
    out += `  ${c.dim('payload')}\n${formatClaimLines(claimLines(result.id_token.payload, options.now, claimGloss), c, '    ')}`
  }
  const at = result.access_token
  out += heading(
    `Access token (${at.kind}${at.kind === 'jws' ? (at.verified ? ', verified' : ', NOT verified') : ''})`,
    c,
  )
  if (at.header !== null)
    out += `  ${c.dim('header')}\n${formatClaimLines(claimLines(at.header, options.now), c, '    ')}`
  if (at.payload !== null)
    out += `  ${c.dim('payload')}\n${formatClaimLines(claimLines(at.payload, options.now, claimGloss), c, '    ')}`
  if (at.note !== undefined) out += `  ${at.note}\n`

  out += heading('Checks', c)
  for (const check of result.checks) {
    out += `  ${check.ok ? c.green('✓') : c.red('✗')} ${check.name.padEnd(22)} ${sanitize(check.detail)}\n`
  }
  if (result.warnings.length > 0) {
    out += heading('Warnings', c)
    for (const warning of result.warnings)
      out += `  ${c.yellow('!')} ${sanitize(warning.message)} ${c.dim(`(${warning.code})`)}\n`
  }
  out += heading('Timings', c)
  out += `  ${Object.entries(result.timings_ms)
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(' · ')}\n`
  out += `\n${c.green.bold(`✓ ${options.verdict ?? 'login succeeded'}`)}: every check passed\n`
  io.out(out)
}
