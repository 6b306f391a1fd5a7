import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { DpopOptions } from '../../commands/flow.js'
import { SIGNING_ALGORITHMS } from '../../jwt/algorithms.js'

// DPoP (RFC 9449): bind the tokens to a key.

export interface RawDpopOptions {
  dpop?: boolean
  dpopAlg?: string
  dpopKey?: string
  allowDpopDowngrade?: boolean
}

export function addDpopOptions(command: Command): Command {
  return command
    .option('--dpop', 'bind the tokens to a DPoP key (a fresh ES256 key unless --dpop-key)')
    .option(
      '--dpop-alg <alg>',
      'DPoP proof algorithm, one the server lists in dpop_signing_alg_values_supported',
    )
    .option('--dpop-key <jwk|pem>', 'use this private key for DPoP instead of a fresh one')
    .option(
      '--allow-dpop-downgrade',
      'accept a Bearer token when DPoP was asked for (a warning instead of exit 4)',
    )
}

export async function toDpopOptions(
  raw: RawDpopOptions,
  ctx: Ctx,
): Promise<DpopOptions | undefined> {
  if (raw.dpop !== true) {
    if (raw.dpopAlg !== undefined || raw.dpopKey !== undefined || raw.allowDpopDowngrade === true) {
      throw new CliError(
        'usage_error',
        '--dpop-alg, --dpop-key and --allow-dpop-downgrade need --dpop',
      )
    }
    return undefined
  }
  // Checked now: jose would refuse it only when the first proof is made, after discovery.
  if (raw.dpopAlg !== undefined && !SIGNING_ALGORITHMS.includes(raw.dpopAlg)) {
    throw new CliError(
      'usage_error',
      `--dpop-alg ${raw.dpopAlg} is not an algorithm pkce signs with`,
      {
        hint: `use one of ${SIGNING_ALGORITHMS.join(', ')} (RFC 9449 §4.2: asymmetric, never none or a MAC)`,
      },
    )
  }
  const { readPrivateKey } = await import('../../commands/inputs.js')
  const key =
    raw.dpopKey === undefined
      ? undefined
      : await readPrivateKey(raw.dpopKey, 'the DPoP key', ctx, raw.dpopAlg)
  return {
    alg: raw.dpopAlg ?? key?.alg,
    key: key?.key,
    allowDowngrade: raw.allowDpopDowngrade === true,
  }
}
