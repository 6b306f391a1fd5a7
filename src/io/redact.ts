import { redacted } from '../sanitize.js'

/**
 * Knows the secret values of this run (client secret, client assertions, refresh tokens, private
 * keys) and replaces them in any text bound for stderr with `[redacted N chars]` (security.md SO-2,
 * SO-3). `--show-secrets` turns it off.
 */
export interface Redactor {
  add(secret: string | undefined): void
  redact(text: string): string
  readonly enabled: boolean
}

// Secrets shorter than this would redact ordinary words; nothing we treat as secret is this short.
const MIN_SECRET_LENGTH = 8

export function createRedactor(enabled = true): Redactor {
  const secrets = new Set<string>()
  return {
    enabled,
    add(secret) {
      if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) secrets.add(secret)
    },
    redact(text) {
      if (!enabled) return text
      let result = text
      // Longest first, so a secret containing another is replaced whole.
      for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
        result = result.split(secret).join(redacted(secret))
      }
      return result
    },
  }
}
