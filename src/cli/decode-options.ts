import type { DecodeOptions } from '../commands/decode.js'
import type { KeySource } from '../commands/decode-verify.js'
import { CliError } from '../errors.js'
import { toAssertions } from './options/assertions.js'
import type { RawAssertionOptions } from './options/assertions.js'
import { toHttpSettings } from './flags.js'
import type { RawHttpOptions } from './flags.js'

export interface RawDecodeOptions extends RawHttpOptions, RawAssertionOptions {
  verify?: boolean
  jwksUri?: string
  jwksFile?: string
  keyFile?: string
  issuer?: string
  audience?: string
  clockTolerance: number
  claims?: boolean
  json?: boolean
}

async function checkedUrl(value: string, flag: string): Promise<URL> {
  // The endpoint rules are loaded only for a URL flag: a plain decode needs none of them.
  const { checkedServerUrl } = await import('../oauth/endpoint.js')
  return checkedServerUrl(value, flag)
}

async function toKeySource(raw: RawDecodeOptions): Promise<KeySource> {
  if (raw.jwksUri !== undefined)
    return { kind: 'jwks_uri', url: await checkedUrl(raw.jwksUri, '--jwks-uri') }
  if (raw.jwksFile !== undefined) return { kind: 'jwks_file', path: raw.jwksFile }
  if (raw.keyFile !== undefined) return { kind: 'key_file', path: raw.keyFile }
  return { kind: 'discovery' }
}

/** A key flag implies `--verify`; `--issuer` and `--audience` mean nothing without it. */
export async function toDecodeOptions(
  raw: RawDecodeOptions,
  inputs: string[],
): Promise<DecodeOptions> {
  const keys = await toKeySource(raw)
  const verify = raw.verify === true || keys.kind !== 'discovery'
  if (!verify && (raw.issuer !== undefined || raw.audience !== undefined)) {
    throw new CliError('usage_error', '--issuer and --audience are checked only when verifying', {
      hint: 'add --verify',
    })
  }
  if (raw.issuer !== undefined) await checkedUrl(raw.issuer, '--issuer')
  return {
    inputs,
    verify: verify
      ? {
          keys,
          // Issuers are compared exactly (RFC 8414 §3.3): keep what the user typed.
          issuer: raw.issuer,
          audience: raw.audience,
          clockToleranceSeconds: raw.clockTolerance,
          http: await toHttpSettings(raw),
        }
      : undefined,
    assertions: toAssertions(raw),
  }
}
