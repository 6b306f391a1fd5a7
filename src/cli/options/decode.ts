import { Option } from 'commander'
import type { Command } from 'commander'
import type { DecodeOptions } from '../../commands/decode.js'
import type { DecodeOutput } from '../../commands/decode-render.js'
import type { KeySource } from '../../commands/decode-verify.js'
import { CliError } from '../../errors.js'
import { addAssertionOptions, toAssertions } from './assertions.js'
import type { RawAssertionOptions } from './assertions.js'
import { addHttpOptions, toHttpSettings } from './http.js'
import type { RawHttpOptions } from './http.js'
import { addShowTokensOption } from './output.js'
import type { RawOutputOptions } from './output.js'
import { audienceOption } from './request.js'
import { issuerOption, toExpectedIssuer } from './target.js'
import { addValidationOptions, toClockToleranceSeconds } from './validation.js'
import type { RawValidationOptions } from './validation.js'

// `pkce decode`: where verification keys come from, and how the claims are shown. `--issuer`,
// `--audience` and `--clock-tolerance` are the same flags as `login`'s.

export interface RawDecodeOptions
  extends RawHttpOptions, RawAssertionOptions, RawValidationOptions, RawOutputOptions {
  verify?: boolean
  jwksUri?: string
  jwksFile?: string
  keyFile?: string
  issuer?: string
  audience?: string
  claims?: boolean
}

export function addDecodeOptions(command: Command): Command {
  command
    .option(
      '--verify',
      'verify signature, exp and nbf (keys: the flags below, else discovery from iss)',
    )
    .addOption(
      new Option('--jwks-uri <url>', 'verify with the JWKS at this URL').conflicts([
        'jwksFile',
        'keyFile',
      ]),
    )
    .addOption(
      new Option('--jwks-file <path>', 'verify with a local JWKS file').conflicts('keyFile'),
    )
    .option('--key-file <pem|jwk>', 'verify with this key: PEM public key, certificate or JWK')
    .addOption(issuerOption())
    .addOption(audienceOption())
    .option('--claims', 'print only the payload JSON, one document a token (for jq)')
  return addShowTokensOption(addHttpOptions(addValidationOptions(addAssertionOptions(command))))
}

async function toKeySource(raw: RawDecodeOptions): Promise<KeySource> {
  if (raw.jwksUri !== undefined) {
    // The endpoint rules are loaded only for a URL flag: a plain decode needs none of them.
    const { checkedServerUrl } = await import('../../oauth/endpoint.js')
    return { kind: 'jwks_uri', url: checkedServerUrl(raw.jwksUri, '--jwks-uri') }
  }
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
  return {
    inputs,
    verify: verify
      ? {
          keys,
          issuer: raw.issuer === undefined ? undefined : await toExpectedIssuer(raw.issuer),
          audience: raw.audience,
          clockToleranceSeconds: toClockToleranceSeconds(raw),
          http: await toHttpSettings(raw, raw.showTokens === true),
        }
      : undefined,
    assertions: toAssertions(raw),
  }
}

/** `--claims` is the narrowest output, then `--json`, else the human report. */
export function toDecodeOutput(raw: RawDecodeOptions): DecodeOutput {
  if (raw.claims === true) return 'claims'
  return raw.json === true ? 'json' : 'human'
}
