import { InvalidArgumentError, Option } from 'commander'
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
  header?: [string, string][]
}

// Headers whose meaning pkce owns: a second value would contradict the request it builds (client
// authentication, DPoP, the form body) or the connection undici manages.
const RESERVED_HEADERS = new Set([
  'authorization',
  'dpop',
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
])
// RFC 9110 §5.1 field-name token; §5.5 field value: no CR, LF or NUL.
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/u
const FIELD_VALUE = /^[^\r\n\0]*$/u

/** `--header "<name>: <value>"`, repeatable: one name-value pair more per use. */
export function headerValue(value: string, previous: [string, string][] = []): [string, string][] {
  const colon = value.indexOf(':')
  const name = colon === -1 ? '' : value.slice(0, colon).trim()
  const field = colon === -1 ? '' : value.slice(colon + 1).trim()
  if (!FIELD_NAME.test(name) || !FIELD_VALUE.test(field)) {
    throw new InvalidArgumentError('expected "<name>: <value>", a header name without spaces')
  }
  if (RESERVED_HEADERS.has(name.toLowerCase())) {
    throw new InvalidArgumentError(
      `pkce sets ${name.toLowerCase()} itself (client authentication, DPoP, the body); it cannot be added`,
    )
  }
  return [...previous, [name.toLowerCase(), field]]
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
      '--header <"name: value">',
      'send this header on every request (repeatable); secret-looking values are redacted in traces',
      headerValue,
    )
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
    ...(raw.header === undefined || raw.header.length === 0 ? {} : { headers: raw.header }),
  }
}
