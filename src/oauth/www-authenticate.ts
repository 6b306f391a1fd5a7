/** One challenge of a `WWW-Authenticate` header: its scheme and its auth-params, names lowercased. */
export interface Challenge {
  scheme: string
  params: Record<string, string>
}

// RFC 9110 §5.6.2: the characters of a `token`.
const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/uy
const SPACE = /[ \t]*/uy

/**
 * Reads the challenges of a `WWW-Authenticate` header, `Bearer realm="api", error="invalid_token"`
 * or several at once (`DPoP algs="ES256", Bearer`). A `token68` credential is skipped; whatever
 * does not parse ends the list, so a malformed header yields the challenges read before it.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = []
  let at = 0
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at
    const found = pattern.exec(header)
    if (found === null) return undefined
    at = pattern.lastIndex
    return found[0]
  }
  const skipSeparators = (): void => {
    while (at < header.length && /[ \t,]/u.test(header[at] ?? '')) at++
  }
  for (;;) {
    skipSeparators()
    if (at >= header.length) return challenges
    const name = match(TOKEN)
    if (name === undefined) return challenges
    match(SPACE)
    const current = challenges.at(-1)
    if (header[at] !== '=' || current === undefined) {
      challenges.push({ scheme: name, params: {} })
      continue
    }
    at++
    match(SPACE)
    if (header[at] === '=' || at >= header.length || header[at] === ',') {
      // A token68 (`Basic dXNlcg==`): not an auth-param.
      while (header[at] === '=') at++
      continue
    }
    let value: string | undefined
    if (header[at] === '"') {
      value = ''
      for (at++; at < header.length && header[at] !== '"'; at++) {
        if (header[at] === '\\') at++
        value += header[at] ?? ''
      }
      if (at >= header.length) return challenges
      at++
    } else {
      value = match(TOKEN)
      if (value === undefined) return challenges
    }
    current.params[name.toLowerCase()] = value
  }
}

/**
 * The challenge that carries an `error` (the first one), else the first challenge.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export function primaryChallenge(header: string): Challenge | undefined {
  const challenges = parseWwwAuthenticate(header)
  return challenges.find((c) => c.params.error !== undefined) ?? challenges[0]
}

/**
 * Whether a resource server demands a DPoP nonce: a 401 with
 * `WWW-Authenticate: DPoP error="use_dpop_nonce"`. The authorization server's form, a 400 JSON
 * body, is `isUseDpopNonce` in `dpop.ts`.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 */
export function isResourceUseDpopNonce(response: Response): boolean {
  const header = response.headers.get('www-authenticate')
  if (response.status !== 401 || header === null) return false
  return parseWwwAuthenticate(header).some(
    (c) => c.scheme.toLowerCase() === 'dpop' && c.params.error === 'use_dpop_nonce',
  )
}
