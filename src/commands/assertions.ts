import { isDeepStrictEqual } from 'node:util'
import { CliError } from '../errors.js'
import { formatRelative } from '../io/render.js'
import type { Check } from '../jwt/verify.js'
import { isPlainObject } from '../oauth/response.js'
import { excerpt } from '../sanitize.js'

/** One `--expect-claim name=value`: a claim path and the value it must have (or contain). */
export interface ClaimExpectation {
  /** The name as typed, for the check's name. */
  name: string
  /** Path segments; `quoted` ones are one key even when they contain dots. */
  path: { key: string; quoted: boolean }[]
  /** The value as typed. */
  text: string
  /** The value compared: the parsed JSON when `text` is JSON, else `text` itself. */
  expected: unknown
}

/** The CI assertions `decode` and `login` share (`--expect-claim`, `--require-scope`, `--expect-valid-for`). */
export interface Assertions {
  claims: ClaimExpectation[]
  scopes: string[]
  /** `--expect-valid-for`, in seconds. */
  validForSeconds: number | undefined
}

export const NO_ASSERTIONS: Assertions = { claims: [], scopes: [], validForSeconds: undefined }

/** Whether any assertion flag was given. */
export function hasAssertions(assertions: Assertions): boolean {
  return (
    assertions.claims.length > 0 ||
    assertions.scopes.length > 0 ||
    assertions.validForSeconds !== undefined
  )
}

function usage(message: string, hint: string): CliError {
  return new CliError('usage_error', message, { hint })
}

const CLAIM_HINT =
  'e.g. --expect-claim azp=abc123, --expect-claim cnf.jkt=…, --expect-claim \'"https://example.com/roles"=admin\''

/**
 * Parses `name=value`. The name is a dotted path (`cnf.jkt`) whose segments may be quoted with
 * `"` or `'` to keep dots in one key (`"https://example.com/roles"`); the value is compared as
 * JSON when it parses as JSON (`3600`, `true`, `["a"]`), else as a string.
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4
 */
export function parseExpectClaim(text: string): ClaimExpectation {
  const path: ClaimExpectation['path'] = []
  let at = 0
  for (;;) {
    const quote = text[at]
    if (quote === '"' || quote === "'") {
      const end = text.indexOf(quote, at + 1)
      if (end < 0) throw usage(`--expect-claim ${text}: unbalanced ${quote}`, CLAIM_HINT)
      path.push({ key: text.slice(at + 1, end), quoted: true })
      at = end + 1
    } else {
      let end = at
      while (end < text.length && text[end] !== '.' && text[end] !== '=') end++
      if (end === at) throw usage(`--expect-claim ${text}: empty claim name`, CLAIM_HINT)
      path.push({ key: text.slice(at, end), quoted: false })
      at = end
    }
    if (text[at] === '=') break
    if (text[at] !== '.') {
      throw usage(`--expect-claim ${text}: expected name=value`, CLAIM_HINT)
    }
    at++
  }
  const value = text.slice(at + 1)
  return { name: text.slice(0, at), path, text: value, expected: parseJson(value) }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 }

/** `90s`, `5m`, `1h30m`, `2d` (a bare number is seconds) to seconds. */
export function parseDuration(text: string): number {
  if (/^\d+$/u.test(text)) return Number(text)
  const parts = /^(?:\d+[smhd])+$/u.test(text) ? text.match(/\d+[smhd]/gu) : null
  if (parts === null) {
    throw usage(
      `"${text}" is not a duration`,
      'use a number with a unit: 90s, 5m, 1h, 2d (or 1h30m)',
    )
  }
  return parts.reduce(
    (sum, part) => sum + Number(part.slice(0, -1)) * (DURATION_UNITS[part.slice(-1)] ?? 0),
    0,
  )
}

/**
 * Follows a claim path. Unquoted segments may join back into one key, so an unquoted
 * `https://example.com/roles` (shells eat the quotes) still names the namespaced claim.
 * Only own members are followed: `__proto__` is data (security.md JD-5).
 */
function resolvePath(
  value: unknown,
  path: ClaimExpectation['path'],
): { found: unknown } | undefined {
  const [first] = path
  if (first === undefined) return { found: value }
  if (!isPlainObject(value)) return undefined
  let run = 1
  if (!first.quoted) while (path[run] !== undefined && path[run]?.quoted !== true) run++
  for (let take = run; take >= 1; take--) {
    const key = path
      .slice(0, take)
      .map((segment) => segment.key)
      .join('.')
    if (Object.hasOwn(value, key)) {
      const rest = resolvePath(value[key], path.slice(take))
      if (rest !== undefined) return rest
    }
  }
  return undefined
}

function show(value: unknown): string {
  return excerpt(JSON.stringify(value) ?? String(value), 120)
}

function claimCheck(
  payload: Record<string, unknown>,
  claim: ClaimExpectation,
  label: string,
): Check {
  const name = `${label}.expect_claim:${excerpt(claim.name, 80)}`
  const resolved = resolvePath(payload, claim.path)
  if (resolved === undefined) return { name, ok: false, detail: 'the claim is missing' }
  const actual = resolved.found
  const { expected } = claim
  if (isDeepStrictEqual(actual, expected))
    return { name, ok: true, detail: `equals ${show(expected)}` }
  if (Array.isArray(actual) && actual.some((element) => isDeepStrictEqual(element, expected))) {
    return { name, ok: true, detail: `contains ${show(expected)}` }
  }
  const asString =
    typeof expected !== 'string' &&
    (actual === claim.text ||
      (Array.isArray(actual) && actual.some((element) => element === claim.text)))
  const advice = asString ? `; to compare as a string write '"${excerpt(claim.text, 60)}"'` : ''
  return { name, ok: false, detail: `is ${show(actual)}, expected ${show(expected)}${advice}` }
}

/** Where granted scopes live: OAuth `scope`, Auth0 RBAC `permissions`, and `scp` (Okta, Entra). */
function grantedScopes(payload: Record<string, unknown>): Map<string, string[]> {
  const sources = new Map<string, string[]>()
  for (const claim of ['scope', 'scp', 'permissions']) {
    const value = payload[claim]
    if (typeof value === 'string') sources.set(claim, value.split(/\s+/u).filter(Boolean))
    else if (Array.isArray(value)) {
      sources.set(
        claim,
        value.filter((item): item is string => typeof item === 'string'),
      )
    }
  }
  return sources
}

function scopeCheck(payload: Record<string, unknown>, scope: string, label: string): Check {
  const name = `${label}.require_scope:${excerpt(scope, 80)}`
  const sources = grantedScopes(payload)
  for (const [claim, scopes] of sources) {
    if (scopes.includes(scope)) return { name, ok: true, detail: `granted in ${claim}` }
  }
  if (sources.size === 0)
    return { name, ok: false, detail: 'the token has no scope, scp or permissions claim' }
  const granted = [...sources].map(([claim, scopes]) => `${claim} ${show(scopes.join(' '))}`)
  return { name, ok: false, detail: `not granted (${granted.join(', ')})` }
}

function validForCheck(
  payload: Record<string, unknown>,
  seconds: number,
  now: Date,
  label: string,
): Check {
  const name = `${label}.expect_valid_for`
  const wanted = formatRelative(seconds).replace(/^in /u, '')
  const { exp } = payload
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    return { name, ok: false, detail: `no usable exp claim, so not valid for at least ${wanted}` }
  }
  const left = exp - now.getTime() / 1000
  const expires = left > 0 ? `expires ${formatRelative(left)}` : `expired ${formatRelative(left)}`
  return left >= seconds
    ? { name, ok: true, detail: `${expires}, at least ${wanted}` }
    : { name, ok: false, detail: `${expires}, less than the ${wanted} required` }
}

/**
 * Runs the CI assertions against a claims set, one named check each; `payload` is `null` when the
 * token has no readable claims (opaque or encrypted), which fails every assertion.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2.3
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4
 */
export function runAssertions(
  payload: Record<string, unknown> | null,
  assertions: Assertions,
  now: Date,
  label = 'token',
): Check[] {
  const checks: Check[] = []
  const unreadable = (name: string): Check => ({
    name,
    ok: false,
    detail: 'the token has no readable claims',
  })
  for (const claim of assertions.claims) {
    checks.push(
      payload === null
        ? unreadable(`${label}.expect_claim:${excerpt(claim.name, 80)}`)
        : claimCheck(payload, claim, label),
    )
  }
  for (const scope of assertions.scopes) {
    checks.push(
      payload === null
        ? unreadable(`${label}.require_scope:${excerpt(scope, 80)}`)
        : scopeCheck(payload, scope, label),
    )
  }
  if (assertions.validForSeconds !== undefined) {
    checks.push(
      payload === null
        ? unreadable(`${label}.expect_valid_for`)
        : validForCheck(payload, assertions.validForSeconds, now, label),
    )
  }
  return checks
}

/** The `assertion_failed` error (exit 4) for the failed checks among `checks`, if any. */
export function assertionFailure(checks: Check[]): CliError | undefined {
  const failed = checks.filter((check) => !check.ok)
  const [first] = failed
  if (first === undefined) return undefined
  const message =
    failed.length === 1
      ? `assertion failed: ${first.name}: ${first.detail}`
      : `${failed.length} assertions failed: ${failed.map((check) => check.name).join(', ')}`
  return new CliError('assertion_failed', message, { stage: 'validate' })
}
