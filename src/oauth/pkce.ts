import { createHash } from 'node:crypto'
import { CliError } from '../errors.js'

export const CODE_VERIFIER_MIN = 43
export const CODE_VERIFIER_MAX = 128
const UNRESERVED = /^[A-Za-z0-9\-._~]*$/u

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url')
}

/**
 * A fresh `code_verifier`: CSPRNG bytes, base64url without padding (43 characters from 32 bytes).
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 */
export function generateCodeVerifier(
  random: (bytes: number) => Uint8Array,
  length = CODE_VERIFIER_MIN,
): string {
  assertVerifierLength(length)
  // The fewest bytes whose base64url form has `length` characters: 32 for 43 (docs/security.md PK-1).
  return base64url(random(Math.floor((3 * (length - 1)) / 4) + 1)).slice(0, length)
}

function assertVerifierLength(length: number): void {
  if (!Number.isInteger(length) || length < CODE_VERIFIER_MIN || length > CODE_VERIFIER_MAX) {
    throw new CliError(
      'code_verifier_invalid',
      `a code_verifier is ${CODE_VERIFIER_MIN} to ${CODE_VERIFIER_MAX} characters long, not ${length}`,
      { hint: 'RFC 7636 §4.1' },
    )
  }
}

/**
 * Rejects a user-supplied verifier outside 43–128 unreserved characters (security.md PK-2).
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 */
export function checkCodeVerifier(verifier: string): string {
  assertVerifierLength(verifier.length)
  if (!UNRESERVED.test(verifier)) {
    throw new CliError(
      'code_verifier_invalid',
      'a code_verifier may contain only A-Z, a-z, 0-9 and "-._~"',
      { hint: 'RFC 7636 §4.1: unreserved characters only' },
    )
  }
  return verifier
}

/**
 * The S256 `code_challenge`: BASE64URL(SHA-256(ASCII(code_verifier))). `plain` is never used.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export function challengeS256(verifier: string): string {
  return base64url(createHash('sha256').update(verifier, 'ascii').digest())
}

/** 32 CSPRNG bytes, base64url: `state`, `nonce` (security.md SN-1, SN-4). */
export function generateRandomValue(random: (bytes: number) => Uint8Array): string {
  return base64url(random(32))
}
