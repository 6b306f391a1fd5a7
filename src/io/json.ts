import type { IO } from './io.js'

// JSON.stringify leaves C1 controls and bidi characters raw; a terminal or CI log showing the
// document would act on them (security.md SO-5).
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu

export function toJson(document: unknown): string {
  return JSON.stringify(document, null, 2).replace(
    RAW_IN_JSON,
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  )
}

/** The one writer of `--json` documents: exactly one document on stdout. */
export function writeJson(io: IO, document: unknown): void {
  io.out(`${toJson(document)}\n`)
}
