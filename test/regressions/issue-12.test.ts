import { readdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { readStateFile, writeStateFile } from '../../src/commands/state-file.js'
import type { FlowState } from '../../src/commands/state-file.js'
import { main } from '../../src/main.js'
import { rejection } from '../helpers/cli-error.js'
import { withTempFiles } from '../helpers/temp-files.js'
import { testCtx } from '../helpers/test-ctx.js'

// Issue 12: what unit tests of the split flow found (each failed before its fix).

const files = withTempFiles('pkce-issue-12-')
const REDIRECT = 'http://127.0.0.1:8484/callback'

const STATE: FlowState = {
  version: 1,
  issuer: 'https://tenant.test/',
  client_id: 'abc',
  client_auth: { method: 'none' },
  redirect_uri: REDIRECT,
  code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  state: 'the-state',
  nonce: null,
  scope: 'openid',
  audience: null,
  max_age: null,
  parameters: [],
  authorization_url: 'https://tenant.test/authorize',
  par: null,
  dpop: null,
  store_key: { issuer: 'https://tenant.test/', clientId: 'abc', scope: 'openid', dpop: false },
  created_at: '2026-12-04T00:00:00.000Z',
}

async function exchangeWith(extra: string[]): Promise<{ code: number; stderr: string }> {
  const path = await writeStateFile(files.path(`state-${extra.join('')}.json`), STATE, testCtx())
  const ctx = testCtx()
  const code = await main(
    [
      'exchange',
      '--state-file',
      path,
      '--callback-url',
      `${REDIRECT}?code=c&state=the-state`,
      ...extra,
    ],
    ctx,
  )
  return { code, stderr: ctx.stderr().split('\n')[0] ?? '' }
}

describe('issue 12: the split flow', () => {
  it('--client-secret beside --state-file is secret_on_argv, exit 2 (it was silently ignored)', async () => {
    expect(await exchangeWith(['--client-secret', 's3cr3t-value'])).toEqual({
      code: 2,
      stderr:
        'error: secrets are not accepted as flag values: other users see them in ps and shell history',
    })
  })

  it.each([
    [['--client-auth', 'client_secret_basic'], '--client-auth'],
    [['--dpop'], '--dpop'],
  ])(
    '%j beside --state-file is refused, naming the flag (it was silently ignored)',
    async (extra, flag) => {
      expect(await exchangeWith(extra)).toEqual({
        code: 2,
        stderr: `error: --state-file holds the request already: drop ${flag}`,
      })
    },
  )

  it('a state file whose dpop has no key is a usage error, not an internal error (it was exit 1)', async () => {
    const path = files.path('dpop-without-key.json')
    await writeFile(path, JSON.stringify({ ...STATE, dpop: {} }), { mode: 0o600 })
    const error = await rejection(readStateFile(path, testCtx()))
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'usage_error',
      message: `the state file ${path} is not one pkce wrote: "dpop" is missing`,
    })
  })

  it('a failed write leaves no private pkce-flow-* directory behind (it left an empty one)', async () => {
    const before = readdirSync(tmpdir()).filter((name) => name.startsWith('pkce-flow-'))
    const unwritable = { ...STATE, authorization_url: 1n } as unknown as FlowState
    await expect(writeStateFile(undefined, unwritable, testCtx())).rejects.toThrow()
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('pkce-flow-'))).toEqual(before)
  })
})
