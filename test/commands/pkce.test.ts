import { describe, expect, it } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { renderPkcePair, runChallenge, runVerifier } from '../../src/commands/pkce.js'
import { testCtx } from '../helpers/test-ctx.js'

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

async function failure(promise: Promise<unknown>): Promise<CliError> {
  return promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (error: unknown) => error as CliError,
  )
}

describe('runChallenge()', () => {
  it('https://www.rfc-editor.org/rfc/rfc7636#appendix-B', async () => {
    await expect(runChallenge({ verifier: VERIFIER }, testCtx())).resolves.toEqual({
      code_verifier: VERIFIER,
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
    })
  })

  it.each([undefined, '-'])(
    'reads the verifier from stdin (%s), dropping the newline around it',
    async (verifier) => {
      const ctx = testCtx({ stdin: `  ${VERIFIER}\r\n`, stdinIsTTY: false })
      await expect(runChallenge({ verifier }, ctx)).resolves.toEqual({
        code_verifier: VERIFIER,
        code_challenge: CHALLENGE,
        code_challenge_method: 'S256',
      })
      expect(ctx.stdout()).toBe('')
      expect(ctx.stderr()).toBe('')
    },
  )

  it.each([undefined, '-'])(
    'with a terminal on stdin and no verifier (%s), fails at once instead of waiting',
    async (verifier) => {
      const ctx = testCtx({ stdin: VERIFIER, stdinIsTTY: true })
      const error = await failure(runChallenge({ verifier }, ctx))
      expect(error.code).toBe('usage_error')
      expect(error.exitCode).toBe(2)
      expect(error.message).toBe('no code_verifier given')
      expect(error.hint).toBe('pkce challenge <verifier>, or pipe it: echo "$V" | pkce challenge -')
    },
  )

  it('a verifier on the command line does not read stdin', async () => {
    const ctx = testCtx({ stdinIsTTY: true })
    await expect(runChallenge({ verifier: VERIFIER }, ctx)).resolves.toMatchObject({
      code_challenge: CHALLENGE,
    })
  })

  it.each([
    ['a'.repeat(42), 'a code_verifier is 43 to 128 characters long, not 42', 'RFC 7636 §4.1'],
    ['a'.repeat(129), 'a code_verifier is 43 to 128 characters long, not 129', 'RFC 7636 §4.1'],
    [
      `${'a'.repeat(42)}+`,
      'a code_verifier may contain only A-Z, a-z, 0-9 and "-._~"',
      'RFC 7636 §4.1: unreserved characters only',
    ],
    [
      `${'a'.repeat(42)}=`,
      'a code_verifier may contain only A-Z, a-z, 0-9 and "-._~"',
      'RFC 7636 §4.1: unreserved characters only',
    ],
    [
      `${'a'.repeat(21)} ${'a'.repeat(21)}`,
      'a code_verifier may contain only A-Z, a-z, 0-9 and "-._~"',
      'RFC 7636 §4.1: unreserved characters only',
    ],
  ])('PK-2: refuses %j', async (verifier, message, hint) => {
    const error = await failure(runChallenge({ verifier }, testCtx()))
    expect(error.code).toBe('code_verifier_invalid')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(message)
    expect(error.hint).toBe(hint)
  })

  it('PK-2: checks a verifier from stdin too', async () => {
    const ctx = testCtx({ stdin: `${VERIFIER}\n${VERIFIER}\n`, stdinIsTTY: false })
    const error = await failure(runChallenge({ verifier: '-' }, ctx))
    expect(error.code).toBe('code_verifier_invalid')
    // Two lines are 87 characters: long enough, but a newline is not unreserved.
    expect(error.message).toBe('a code_verifier may contain only A-Z, a-z, 0-9 and "-._~"')
  })

  it('PK-2: empty stdin is an invalid verifier, exit 2', async () => {
    const ctx = testCtx({ stdin: '\n', stdinIsTTY: false })
    const error = await failure(runChallenge({ verifier: '-' }, ctx))
    expect(error.code).toBe('code_verifier_invalid')
    expect(error.message).toBe('a code_verifier is 43 to 128 characters long, not 0')
  })

  it('accepts the unreserved punctuation and 128 characters', async () => {
    const verifier = `-._~${'Az9'.repeat(41)}a`
    expect(verifier).toHaveLength(128)
    await expect(runChallenge({ verifier }, testCtx())).resolves.toEqual({
      code_verifier: verifier,
      code_challenge: 'mRD_35W2ebxRpQvCvNOT1HkNzokePr1Xz6KXZVpUTeQ',
      code_challenge_method: 'S256',
    })
  })
})

describe('runVerifier()', () => {
  it('PK-1: a 43-character verifier from ctx.random and its S256 challenge', () => {
    // testCtx's random bytes count up from 0.
    expect(runVerifier({ length: 43 }, testCtx())).toEqual({
      code_verifier: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
      code_challenge: '6oZqdX5MOLq_qBJ8vppAnT4fk6AP8UiP9zX8-Rev_9A',
      code_challenge_method: 'S256',
    })
  })

  it('honours --length, and the challenge is the S256 of the verifier', async () => {
    const pair = runVerifier({ length: 128 }, testCtx())
    expect(pair.code_verifier).toHaveLength(128)
    expect(pair.code_verifier).toMatch(/^[A-Za-z0-9_-]{128}$/u)
    await expect(runChallenge({ verifier: pair.code_verifier }, testCtx())).resolves.toEqual(pair)
  })

  it.each([42, 129])('refuses length %s', (length) => {
    expect(() => runVerifier({ length }, testCtx())).toThrow(
      expect.objectContaining({
        code: 'code_verifier_invalid',
        message: `a code_verifier is 43 to 128 characters long, not ${length}`,
      }),
    )
  })
})

describe('renderPkcePair()', () => {
  const pair = {
    code_verifier: VERIFIER,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
  } as const

  it('prints three aligned lines on stdout and nothing on stderr', () => {
    const ctx = testCtx()
    renderPkcePair(pair, ctx.io)
    expect(ctx.stdout()).toBe(
      `code_verifier          ${VERIFIER}\n` +
        `code_challenge         ${CHALLENGE}\n` +
        'code_challenge_method  S256\n',
    )
    expect(ctx.stderr()).toBe('')
  })

  it('colours the labels on a terminal', () => {
    const ctx = testCtx({ tty: true })
    renderPkcePair(pair, ctx.io)
    expect(ctx.stdout()).toBe(
      `\u001b[36mcode_verifier        \u001b[39m  ${VERIFIER}\n` +
        `\u001b[36mcode_challenge       \u001b[39m  ${CHALLENGE}\n` +
        '\u001b[36mcode_challenge_method\u001b[39m  S256\n',
    )
  })
})
