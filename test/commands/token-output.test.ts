import { describe, expect, it } from 'vitest'
import type { TokenSet } from '../../src/commands/exchange-step.js'
import { maskForGitHubActions, printTokens } from '../../src/commands/token-output.js'
import type { TokenOutput } from '../../src/commands/token-output.js'
import { caught } from '../helpers/cli-error.js'
import { testCtx } from '../helpers/test-ctx.js'
import type { TestCtx } from '../helpers/test-ctx.js'

const TOKENS: TokenSet = {
  token_type: 'Bearer',
  access_token: 'the-access-token',
  id_token: 'eyJ.the-id-token.sig',
  refresh_token: 'the-refresh-token',
  expires_in: 3600,
  scope: 'openid offline_access',
}
const RESULT = { issuer: 'https://tenant.test/', tokens: TOKENS }
const MASKS =
  '::add-mask::the-access-token\n::add-mask::eyJ.the-id-token.sig\n::add-mask::the-refresh-token\n'

type Render = Parameters<typeof printTokens<typeof RESULT>>[3]

function noRender(): Render {
  return () => {
    throw new Error('render must not run')
  }
}

/** A context whose stdout and stderr writes land in one log, in order. */
function interleaved(env: Record<string, string>): { ctx: TestCtx; log: string[] } {
  const log: string[] = []
  const ctx = testCtx({ env })
  const io = {
    ...ctx.io,
    out: (text: string) => void log.push(`out ${text}`),
    err: (text: string) => void log.push(`err ${text}`),
  }
  return { ctx: { ...ctx, io }, log }
}

describe('printTokens()', () => {
  it.each([
    ['access_token', 'the-access-token\n'],
    ['id_token', 'eyJ.the-id-token.sig\n'],
    ['refresh_token', 'the-refresh-token\n'],
  ] as const)('print %s: the raw token alone on stdout', (token, stdout) => {
    const ctx = testCtx()
    printTokens(RESULT, { kind: 'print', token }, ctx, noRender())
    expect(ctx.stdout()).toBe(stdout)
    expect(ctx.stderr()).toBe('')
  })

  it.each([
    ['id_token', 'add openid to --scope'],
    ['refresh_token', 'add offline_access to --scope'],
  ] as const)('print %s when none came: assertion_failed with a hint', (token, hint) => {
    const ctx = testCtx()
    const tokens = { ...TOKENS, id_token: null, refresh_token: null }
    const error = caught(() =>
      printTokens({ ...RESULT, tokens }, { kind: 'print', token }, ctx, noRender()),
    )
    expect(error.code).toBe('assertion_failed')
    expect(error.message).toBe(`no ${token} was returned`)
    expect(error.hint).toBe(hint)
    expect(ctx.stdout()).toBe('')
  })

  it('json: one document with ok: true and the result', () => {
    const ctx = testCtx()
    printTokens(RESULT, { kind: 'json' }, ctx, noRender())
    expect(ctx.stdout()).toBe(`${JSON.stringify({ ok: true, ...RESULT }, null, 2)}\n`)
    expect(JSON.parse(ctx.stdout())).toEqual({
      ok: true,
      issuer: 'https://tenant.test/',
      tokens: TOKENS,
    })
    expect(ctx.stderr()).toBe('')
  })

  it.each([true, false])('human: the renderer gets showTokens %s and ctx.now()', (showTokens) => {
    const ctx = testCtx({ now: new Date('2027-01-02T03:04:05Z') })
    const calls: unknown[][] = []
    printTokens(RESULT, { kind: 'human', showTokens }, ctx, (result, options) => {
      calls.push([result, options])
      ctx.io.out('rendered\n')
    })
    expect(calls).toEqual([[RESULT, { showTokens, now: new Date('2027-01-02T03:04:05Z') }]])
    expect(ctx.stdout()).toBe('rendered\n')
  })
})

describe('maskForGitHubActions() (docs/security.md SO-7)', () => {
  it('masks each token on stderr only when GITHUB_ACTIONS=true, skipping absent ones', () => {
    const ctx = testCtx({ env: { GITHUB_ACTIONS: 'true' } })
    maskForGitHubActions(['a-token', null, 'another-token'], ctx)
    expect(ctx.stderr()).toBe('::add-mask::a-token\n::add-mask::another-token\n')
    expect(ctx.stdout()).toBe('')
  })

  it.each([{}, { GITHUB_ACTIONS: 'false' }, { GITHUB_ACTIONS: '1' }, { CI: 'true' }])(
    'writes nothing under %j',
    (env) => {
      const ctx = testCtx({ env })
      maskForGitHubActions(['a-token'], ctx)
      expect(ctx.stderr()).toBe('')
    },
  )

  it.each<[string, TokenOutput]>([
    ['print', { kind: 'print', token: 'access_token' }],
    ['json', { kind: 'json' }],
    ['human --show-tokens', { kind: 'human', showTokens: true }],
  ])('%s under GitHub Actions: every token masked on stderr before stdout', (_name, output) => {
    const { ctx, log } = interleaved({ GITHUB_ACTIONS: 'true' })
    printTokens(RESULT, output, ctx, () => ctx.io.out('rendered\n'))
    const masks = MASKS.split(/(?<=\n)/u).map((line) => `err ${line}`)
    expect(log.slice(0, 3)).toEqual(masks)
    expect(log.length).toBe(4)
    expect(log[3]).toMatch(/^out /u)
  })

  it('human without --show-tokens under GitHub Actions: no masks (raw tokens are not printed)', () => {
    const { ctx, log } = interleaved({ GITHUB_ACTIONS: 'true' })
    printTokens(RESULT, { kind: 'human', showTokens: false }, ctx, () => ctx.io.out('rendered\n'))
    expect(log).toEqual(['out rendered\n'])
  })

  it('masks nothing outside GitHub Actions', () => {
    const { ctx, log } = interleaved({})
    printTokens(RESULT, { kind: 'print', token: 'access_token' }, ctx, noRender())
    expect(log).toEqual(['out the-access-token\n'])
  })
})
