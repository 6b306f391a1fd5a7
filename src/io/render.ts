import type { ChalkInstance } from 'chalk'
import { sanitize } from '../sanitize.js'

export const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at'])

// new Date(x).toISOString() throws beyond ±8.64e15 ms (security.md JD-3).
const MAX_DATE_SECONDS = 8.64e12

/** "in 23h 59m", "5m ago", "now": the gap between two instants, two units at most. */
export function formatRelative(seconds: number): string {
  const abs = Math.abs(Math.round(seconds))
  if (abs < 1) return 'now'
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ]
  const parts: string[] = []
  let rest = abs
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    } else if (parts.length > 0) {
      break
    }
  }
  const text = parts.join(' ')
  return seconds > 0 ? `in ${text}` : `${text} ago`
}

/** A NumericDate as ISO time plus relative time, or `undefined` when it is not a usable date. */
export function formatNumericDate(value: unknown, now: Date): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_DATE_SECONDS) {
    return undefined
  }
  const iso = new Date(value * 1000).toISOString().replace(/\.000Z$/u, 'Z')
  return `${iso} (${formatRelative(value - now.getTime() / 1000)})`
}

function displayValue(value: unknown): string {
  return sanitize(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)))
}

export interface ClaimLine {
  key: string
  value: string
  note: string | undefined
}

/**
 * The members of a JOSE header or claims set as aligned lines, remote text sanitised, NumericDates
 * with ISO and relative time, and an optional gloss per claim.
 */
export function claimLines(
  object: Record<string, unknown>,
  now: Date,
  gloss: (key: string, value: unknown) => string | undefined = () => undefined,
): ClaimLine[] {
  return Object.entries(object).map(([key, value]) => {
    const time = TIME_CLAIMS.has(key) ? formatNumericDate(value, now) : undefined
    const invalidTime = TIME_CLAIMS.has(key) && time === undefined && typeof value !== 'string'
    return {
      key: sanitize(key),
      value: time ?? displayValue(value),
      note: invalidTime ? 'not a valid NumericDate' : gloss(key, value),
    }
  })
}

// Keys and values longer than these do not push every other line's columns out.
const KEY_COLUMN = 32
const VALUE_COLUMN = 40

/** Aligned `key  value  # gloss` lines; glosses line up unless a value is very long. */
export function formatClaimLines(lines: ClaimLine[], c: ChalkInstance, indent = '  '): string {
  const keyWidth = Math.min(KEY_COLUMN, Math.max(0, ...lines.map((line) => line.key.length)))
  const glossed = lines.filter(
    (line) => line.note !== undefined && line.value.length <= VALUE_COLUMN,
  )
  const valueWidth = Math.max(0, ...glossed.map((line) => line.value.length))
  return lines
    .map((line) => {
      const value = line.note === undefined ? line.value : line.value.padEnd(valueWidth)
      const note = line.note === undefined ? '' : `  ${c.dim(`# ${line.note}`)}`
      return `${indent}${c.cyan(line.key.padEnd(keyWidth))}  ${value}${note}\n`
    })
    .join('')
}

export function heading(text: string, c: ChalkInstance): string {
  return `\n${c.bold.underline(text)}\n`
}
