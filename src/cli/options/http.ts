import { InvalidArgumentError, Option } from 'commander'
import type { Command } from 'commander'
import type { ClientCertificate } from '../../commands/client-certificate.js'
import type { HttpSettings } from '../../commands/http-settings.js'
import { CliError } from '../../errors.js'
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
  clientCert?: string
  clientKey?: string
  clientKeyPassphraseFile?: string
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
    .option('--client-cert <pem>', 'present this client certificate over TLS (mTLS, RFC 8705)')
    .option('--client-key <pem>', 'the private key of --client-cert (a file)')
    .option(
      '--client-key-passphrase-file <path>',
      'read the passphrase of an encrypted --client-key from a file',
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
  const clientCertificate = await toClientCertificate(raw)
  return {
    timeoutMs: (raw.httpTimeout ?? DEFAULT_HTTP_TIMEOUT_SECONDS) * 1000,
    ca: raw.caFile === undefined ? undefined : await readCaFile(raw.caFile),
    verbose: raw.verbose === true,
    showSecrets: raw.showSecrets === true,
    showTokens,
    allowTlsVerificationDisabled: raw.allowTlsVerificationDisabled === true,
    ...(raw.header === undefined || raw.header.length === 0 ? {} : { headers: raw.header }),
    ...(clientCertificate === undefined ? {} : { clientCertificate }),
  }
}

/** `--client-cert` with `--client-key`: both or neither, read and matched before any request. */
async function toClientCertificate(raw: RawHttpOptions): Promise<ClientCertificate | undefined> {
  const { clientCert, clientKey, clientKeyPassphraseFile } = raw
  if (clientCert === undefined && clientKey === undefined) {
    if (clientKeyPassphraseFile !== undefined) {
      throw new CliError('usage_error', '--client-key-passphrase-file needs --client-key')
    }
    return undefined
  }
  if (clientCert === undefined || clientKey === undefined) {
    throw new CliError(
      'usage_error',
      clientCert === undefined
        ? '--client-key needs --client-cert'
        : '--client-cert needs --client-key',
      { hint: 'a client certificate is presented with its private key: pass both' },
    )
  }
  const { readClientCertificate } = await import('../../commands/client-certificate.js')
  return readClientCertificate({
    cert: clientCert,
    key: clientKey,
    passphraseFile: clientKeyPassphraseFile,
  })
}
