import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import type { IO } from '../io/io.js'
import { challengeS256, checkCodeVerifier, generateCodeVerifier } from '../oauth/pkce.js'

export interface PkcePair {
  code_verifier: string
  code_challenge: string
  code_challenge_method: 'S256'
}

/** `pkce verifier`: a fresh code_verifier and its S256 challenge (RFC 7636 §4.1, §4.2). */
export function runVerifier(opts: { length: number }, ctx: Ctx): PkcePair {
  const code_verifier = generateCodeVerifier(ctx.random, opts.length)
  return {
    code_verifier,
    code_challenge: challengeS256(code_verifier),
    code_challenge_method: 'S256',
  }
}

/** `pkce challenge <verifier|->`: the S256 challenge of a given verifier, which is checked first. */
export async function runChallenge(
  opts: { verifier: string | undefined },
  ctx: Ctx,
): Promise<PkcePair> {
  let verifier = opts.verifier
  if (verifier === undefined || verifier === '-') {
    if (ctx.io.stdinIsTTY) {
      throw new CliError('usage_error', 'no code_verifier given', {
        hint: 'pkce challenge <verifier>, or pipe it: echo "$V" | pkce challenge -',
      })
    }
    verifier = (await ctx.io.readStdin()).trim()
  }
  const code_verifier = checkCodeVerifier(verifier)
  return {
    code_verifier,
    code_challenge: challengeS256(code_verifier),
    code_challenge_method: 'S256',
  }
}

export function renderPkcePair(pair: PkcePair, io: IO): void {
  const c = io.color.out
  io.out(
    `${c.cyan('code_verifier        ')}  ${pair.code_verifier}\n` +
      `${c.cyan('code_challenge       ')}  ${pair.code_challenge}\n` +
      `${c.cyan('code_challenge_method')}  ${pair.code_challenge_method}\n`,
  )
}
