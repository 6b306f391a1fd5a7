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

/** Truncates to `max` characters, saying how long the original was. */
export function excerpt(text: string, max = 200): string {
  const safe = sanitize(text)
  return safe.length <= max ? safe : `${safe.slice(0, max)}… (truncated, ${text.length} chars)`
}
