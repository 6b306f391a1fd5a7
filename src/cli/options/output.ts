import { Option } from 'commander'
import type { Command } from 'commander'
import type { TokenOutput } from '../../commands/token-output.js'

// How results are shown. `--json` is global (main() reads it before parsing).

const PRINTABLE = ['access_token', 'id_token', 'refresh_token'] as const

export interface RawOutputOptions {
  json?: boolean
  showTokens?: boolean
}

export interface RawTokenOutputOptions extends RawOutputOptions {
  print?: (typeof PRINTABLE)[number]
}

export function addShowTokensOption(command: Command): Command {
  return command.option('--show-tokens', 'print raw tokens whole in human output')
}

/** The output flags of a command that obtains tokens. */
export function addTokenOutputOptions(command: Command): Command {
  return addShowTokensOption(command).addOption(
    new Option('--print <token>', 'print only this raw token on stdout').choices(PRINTABLE),
  )
}

/** `--print` wins over `--json`: it is the narrower request. */
export function toTokenOutput(raw: RawTokenOutputOptions): TokenOutput {
  if (raw.print !== undefined) return { kind: 'print', token: raw.print }
  if (raw.json === true) return { kind: 'json' }
  return { kind: 'human', showTokens: raw.showTokens === true }
}
