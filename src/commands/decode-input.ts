import { CliError } from '../errors.js'
import type { IO } from '../io/io.js'

const WRAPPERS: [RegExp, string][] = [
  [/^authorization\s*:\s*/iu, 'an "Authorization:" header name'],
  [/^dpop\s*:\s*/iu, 'a "DPoP:" header name'],
  [/^"?(?:access_token|id_token|refresh_token|token)"?\s*:\s*/iu, 'a JSON member name'],
  [/^bearer\s+/iu, 'a "Bearer " prefix'],
  [/^dpop\s+/iu, 'a "DPoP " prefix'],
]

/** One token as the user gave it, with what cleaning took off around it. */
export interface TokenInput {
  token: string
  stripped: string[]
}

/**
 * Undoes what copying a token usually adds: a header name, a `Bearer `/`DPoP ` scheme, quotes,
 * a JSON member name; says what it took off.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 */
export function cleanToken(text: string): TokenInput {
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
export function splitTokens(text: string): TokenInput[] {
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

const NO_TOKEN_HINT = 'pkce decode <token>, or pipe it: pbpaste | pkce decode'

/**
 * The tokens of a run: each argument, and stdin for none or `-` (read once). A terminal on stdin
 * is a usage error rather than a wait for input that never comes.
 */
export async function readTokenInputs(args: string[], io: IO): Promise<TokenInput[]> {
  const inputs: TokenInput[] = []
  let stdinRead = false
  for (const arg of args.length === 0 ? ['-'] : args) {
    if (arg !== '-') {
      inputs.push(...splitTokens(arg))
    } else if (!stdinRead) {
      stdinRead = true
      if (io.stdinIsTTY) {
        throw new CliError('usage_error', 'no token given, and stdin is a terminal', {
          hint: NO_TOKEN_HINT,
        })
      }
      inputs.push(...splitTokens(await io.readStdin()))
    }
  }
  if (inputs.length === 0)
    throw new CliError('usage_error', 'no token given', { hint: NO_TOKEN_HINT })
  return inputs
}
