import type { Command } from 'commander'
import type { Ctx } from '../context.js'
import { addDecodeOptions, toDecodeOptions, toDecodeOutput } from './options/decode.js'
import type { RawDecodeOptions } from './options/decode.js'
import type { ActionFactory } from './action.js'

const DECODE_EXAMPLES = `
Examples:
  # Decode a token (the signature is not checked)
  $ pkce decode eyJhbGciOiJSUzI1NiIs...

  # Paste anything: a header line, "Bearer ...", quotes; several tokens, one a line
  $ pbpaste | pkce decode

  # Verify against the issuer's keys (discovered from iss, or pinned with --issuer)
  $ pkce decode --verify --issuer https://acme.eu.auth0.com/ --audience https://api.acme.test/ "$TOKEN"

  # Verify with a local key, and assert in CI (exit 4 on any failure)
  $ pkce decode --key-file public.pem --require-scope read:orders \\
      --expect-claim org_id=org_123 --expect-valid-for 5m "$TOKEN"

  # Just the claims, for jq
  $ pkce decode --claims "$TOKEN" | jq .sub
`

/** `pkce decode [token...]`'s flags, help and action. */
export function defineDecode(decode: Command, ctx: Ctx, action: ActionFactory): void {
  addDecodeOptions(decode)
  decode.addHelpText('after', DECODE_EXAMPLES).action(
    action<RawDecodeOptions>('decode', async (raw, [tokens]) => {
      const inputs = (tokens as string[] | undefined) ?? []
      const readsStdin = inputs.length === 0 || inputs.includes('-')
      if (readsStdin && ctx.io.stdinIsTTY && raw.json !== true) ctx.io.err(decode.helpInformation())
      const options = await toDecodeOptions(raw, inputs)
      const { runDecode } = await import('../commands/decode.js')
      const { printDecode } = await import('../commands/decode-render.js')
      printDecode(await runDecode(options, ctx), toDecodeOutput(raw), ctx.io, {
        showTokens: raw.showTokens === true,
      })
    }),
  )
}
