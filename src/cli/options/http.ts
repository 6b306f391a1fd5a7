import { Option } from 'commander'
import type { Command } from 'commander'
import type { HttpSettings } from '../../commands/http-settings.js'
import { integer, withDefault } from './values.js'

// HTTP and TLS: per-request timeout, extra trust, tracing and its redaction.

const DEFAULT_HTTP_TIMEOUT_SECONDS = 30

export interface RawHttpOptions {
  httpTimeout?: number
  caFile?: string
  verbose?: boolean
  showSecrets?: boolean
  allowTlsVerificationDisabled?: boolean
}

/** `--ca-file`: one meaning everywhere, a CA to trust besides the system's. */
export function caFileOption(): Option {
  return new Option('--ca-file <pem>', 'trust this CA as well (also NODE_EXTRA_CA_CERTS)')
}

export function addHttpOptions(command: Command): Command {
  return command
    .option(
      '--http-timeout <seconds>',
      withDefault('timeout for each HTTP request', DEFAULT_HTTP_TIMEOUT_SECONDS),
      integer(1, 600),
    )
    .addOption(caFileOption())
    .option('--verbose', 'trace every HTTP exchange on stderr, secrets redacted')
    .option('--show-secrets', 'do not redact secrets in traces and errors')
    .option(
      '--allow-tls-verification-disabled',
      'in CI, run even though NODE_TLS_REJECT_UNAUTHORIZED=0',
    )
}

/**
 * The HTTP settings, with the `--ca-file` read and checked now, before any request (a file with
 * no certificate is a usage error, not a TLS failure later). `showTokens` comes from the output
 * flags: traces abbreviate tokens unless they are shown whole.
 */
export async function toHttpSettings(
  raw: RawHttpOptions,
  showTokens: boolean,
): Promise<HttpSettings> {
  const { readCaFile } = await import('../../commands/inputs.js')
  return {
    timeoutMs: (raw.httpTimeout ?? DEFAULT_HTTP_TIMEOUT_SECONDS) * 1000,
    ca: raw.caFile === undefined ? undefined : await readCaFile(raw.caFile),
    verbose: raw.verbose === true,
    showSecrets: raw.showSecrets === true,
    showTokens,
    allowTlsVerificationDisabled: raw.allowTlsVerificationDisabled === true,
  }
}
