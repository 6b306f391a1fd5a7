import { stripVTControlCharacters } from 'node:util'

// C0 and C1 controls, DEL, and the bidi and invisible format characters that can reorder or hide
// text in a terminal (security.md SO-4; CWE-150). Tab and newline are escaped too: remote text
// must never start an output line of its own.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu

function escapeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0
  if (char === '\n') return '\\n'
  if (char === '\r') return '\\r'
  if (char === '\t') return '\\t'
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}

/**
 * Makes a remote string (server error text, claim values, HTML excerpts) safe to print: terminal
 * escape sequences removed, every other control or bidi character shown escaped, so it can neither
 * drive the terminal nor forge an output line or a CI workflow command (`::`).
 */
export function sanitize(text: string): string {
  const cleaned = stripVTControlCharacters(text).replace(UNSAFE, escapeChar)
  return cleaned.startsWith('::') ? `\\${cleaned}` : cleaned
}

/**
 * Truncates to `max` characters, saying how long the original was (`size`, when `text` is already
 * a masked copy of it).
 */
export function excerpt(text: string, max = 200, size = text.length): string {
  const safe = sanitize(text)
  return safe.length <= max ? safe : `${safe.slice(0, max)}… (truncated, ${size} chars)`
}

/** What stands in for a secret on stderr and in traces: `[redacted 64 chars]` (security.md SO-2). */
export function redacted(secret: string): string {
  return `[redacted ${secret.length} chars]`
}

/** A token shown by its start and length, as traces show it without `--show-tokens` (SO-3). */
export function abbreviateToken(token: string): string {
  // At most a third of it, so even a short token is never shown whole.
  return `${token.slice(0, Math.min(12, Math.floor(token.length / 3)))}… (${token.length} chars)`
}

const TOKEN_MEMBERS = new Set(['access_token', 'id_token'])
// A member whose string value may be cut off, as in truncated or mislabelled JSON.
const SENSITIVE_MEMBER =
  /"(access_token|id_token|refresh_token|client_secret|client_assertion)"(\s*:\s*)"((?:[^"\\]|\\.)*)/gu

/**
 * Hides secret members (`refresh_token`, `client_secret`, `client_assertion`) and abbreviates
 * tokens in JSON-looking text that may not parse, so an excerpt of a truncated or mislabelled
 * body never leaks them (security.md SO-3, D-3). `showSecrets` lifts both, `showTokens` the
 * abbreviation.
 */
export function maskJsonMembers(
  text: string,
  show: { secrets: boolean; tokens: boolean } = { secrets: false, tokens: false },
): string {
  if (show.secrets) return text
  return text.replace(SENSITIVE_MEMBER, (match, name: string, colon: string, value: string) => {
    if (!TOKEN_MEMBERS.has(name)) return `"${name}"${colon}"${redacted(value)}`
    return show.tokens ? match : `"${name}"${colon}"${abbreviateToken(value)}`
  })
}
