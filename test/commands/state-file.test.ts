import {
  access,
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { exportJWK, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import { deleteStateFile, readStateFile, writeStateFile } from '../../src/commands/state-file.js'
import type { FlowState } from '../../src/commands/state-file.js'
import { rejection } from '../helpers/cli-error.js'
import { REDIRECT, SEEDED } from '../helpers/flow-options.js'
import { ISSUER, ORIGIN } from '../helpers/mock-tenant.js'
import { withTempFiles } from '../helpers/temp-files.js'
import { testCtx } from '../helpers/test-ctx.js'

// docs/security.md FS-1 (fresh, exclusive, 0600, atomic, private directory) and FS-2 (what the
// authorize state file holds, and when it goes).

const files = withTempFiles('pkce-state-file-')

const NOT_OURS_HINT = 'run pkce authorize again; it prints the path of the file it writes'
const WRITE_HINT = 'pass --state-file <a new path>, or leave it out for a fresh private file'

function flowState(extra: Partial<FlowState> = {}): FlowState {
  return {
    version: 1,
    issuer: ISSUER,
    client_id: 'abc',
    client_auth: { method: 'none' },
    redirect_uri: REDIRECT,
    code_verifier: SEEDED.codeVerifier,
    code_challenge: SEEDED.codeChallenge,
    state: SEEDED.state,
    nonce: SEEDED.nonce,
    scope: 'openid profile',
    audience: null,
    max_age: null,
    parameters: [
      ['response_type', 'code'],
      ['client_id', 'abc'],
      ['redirect_uri', REDIRECT],
      ['scope', 'openid profile'],
      ['state', SEEDED.state],
      ['nonce', SEEDED.nonce],
      ['code_challenge', SEEDED.codeChallenge],
      ['code_challenge_method', 'S256'],
    ],
    authorization_url: `${ORIGIN}/authorize?response_type=code&client_id=abc`,
    par: null,
    dpop: null,
    store_key: { issuer: 'https://tenant.test/', clientId: 'abc', scope: 'openid', dpop: false },
    created_at: '2026-11-24T12:00:00.000Z',
    ...extra,
  }
}

/** A new, empty folder of this test, so its listing shows exactly what a call left behind. */
async function folder(name: string): Promise<string> {
  const path = files.path(name)
  await mkdir(path, { mode: 0o700 })
  return path
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

describe('writeStateFile() (docs/security.md FS-1)', () => {
  it('writes the state as two-space JSON in a new 0600 file and leaves no temporary file', async () => {
    const dir = await folder('written')
    const path = join(dir, 'flow.json')
    const state = flowState()
    expect(await writeStateFile(path, state, testCtx())).toBe(path)
    expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(state, null, 2)}\n`)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['flow.json'])
  })

  it('without a path: state.json in a fresh private pkce-flow-* directory under the temp dir', async () => {
    const ctx = testCtx()
    const first = await writeStateFile(undefined, flowState(), ctx)
    const second = await writeStateFile(undefined, flowState(), ctx)
    try {
      for (const path of [first, second]) {
        expect(basename(path)).toBe('state.json')
        expect(dirname(dirname(path))).toBe(tmpdir())
        expect(basename(dirname(path))).toMatch(/^pkce-flow-[A-Za-z0-9]{6}$/u)
        expect((await stat(dirname(path))).mode & 0o777).toBe(0o700)
        expect((await stat(path)).mode & 0o777).toBe(0o600)
        expect(await readdir(dirname(path))).toEqual(['state.json'])
      }
      expect(dirname(first)).not.toBe(dirname(second))
    } finally {
      await rm(dirname(first), { recursive: true, force: true })
      await rm(dirname(second), { recursive: true, force: true })
    }
  })

  it('refuses an existing file, leaves it untouched and leaves no temporary file', async () => {
    const dir = await folder('existing-file')
    const path = join(dir, 'state.json')
    await writeFile(path, 'the user’s own file\n', { mode: 0o644 })
    const error = await rejection(writeStateFile(path, flowState(), testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(`the state file ${path} already exists; pkce never overwrites one`)
    expect(error.hint).toBe(WRITE_HINT)
    expect(await readFile(path, 'utf8')).toBe('the user’s own file\n')
    expect((await stat(path)).mode & 0o777).toBe(0o644)
    expect(await readdir(dir)).toEqual(['state.json'])
  })

  it('refuses an existing symlink and never follows it: the target keeps its content (CWE-59)', async () => {
    const dir = await folder('existing-symlink')
    const target = join(dir, 'target.txt')
    const path = join(dir, 'state.json')
    await writeFile(target, 'precious\n', { mode: 0o600 })
    await symlink(target, path)
    const error = await rejection(writeStateFile(path, flowState(), testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(`the state file ${path} already exists; pkce never overwrites one`)
    expect(await readFile(target, 'utf8')).toBe('precious\n')
    expect((await lstat(path)).isSymbolicLink()).toBe(true)
    expect(await readlink(path)).toBe(target)
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'target.txt'])
  })

  it('refuses a dangling symlink and does not create its target', async () => {
    const dir = await folder('dangling-symlink')
    const target = join(dir, 'created-through-the-link.json')
    const path = join(dir, 'state.json')
    await symlink(target, path)
    const error = await rejection(writeStateFile(path, flowState(), testCtx()))
    expect(error.message).toBe(`the state file ${path} already exists; pkce never overwrites one`)
    expect(await exists(target)).toBe(false)
    expect(await readdir(dir)).toEqual(['state.json'])
  })

  it('names the file and the system error when it cannot write, leaving nothing behind', async () => {
    const dir = await folder('no-such-dir')
    const path = join(dir, 'missing', 'state.json')
    const error = await rejection(writeStateFile(path, flowState(), testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(`cannot write the state file ${path} (ENOENT)`)
    expect(error.hint).toBe(WRITE_HINT)
    expect(await readdir(dir)).toEqual([])
  })
})

describe('readStateFile()', () => {
  it('reads back exactly what writeStateFile wrote, without a warning', async () => {
    const dir = await folder('round-trip')
    const state = flowState({
      client_auth: { method: 'client_secret_basic', file: '/home/me/.secrets/client' },
      audience: 'https://api.test/',
      max_age: 300,
      par: {
        request_uri: 'urn:ietf:params:oauth:request_uri:6esc',
        expires_in: 60,
        expires_at: '2026-11-24T12:01:00.000Z',
      },
    })
    const ctx = testCtx()
    const path = await writeStateFile(join(dir, 'state.json'), state, ctx)
    expect(await readStateFile(path, ctx)).toEqual(state)
    expect(ctx.stderr()).toBe('')
    expect(ctx.events).toEqual([])
  })

  it('warns state_file_readable when others can read the file (it holds the code_verifier)', async () => {
    const path = await files.file('readable.json', JSON.stringify(flowState()))
    await chmod(path, 0o644)
    const ctx = testCtx()
    expect(await readStateFile(path, ctx)).toEqual(flowState())
    expect(ctx.events).toEqual(['warn state_file_readable'])
    expect(ctx.stderr()).toBe(
      `warning: ${path} can be read by other users (chmod 600 ${path}): it holds the code_verifier (state_file_readable)\n`,
    )
  })

  it('warns for a group-readable file too', async () => {
    const path = await files.file('group-readable.json', JSON.stringify(flowState()))
    await chmod(path, 0o640)
    const ctx = testCtx()
    await readStateFile(path, ctx)
    expect(ctx.events).toEqual(['warn state_file_readable'])
  })

  it('registers the DPoP private key d with ctx.secrets, so stderr never shows it (docs/security.md DP-1)', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256' }
    const d = jwk.d ?? ''
    expect(d).toHaveLength(43)
    const path = await files.file(
      'dpop.json',
      JSON.stringify(flowState({ dpop: { alg: 'ES256', jwk } })),
    )
    const ctx = testCtx()
    expect(ctx.secrets.redact(`d=${d}`)).toBe(`d=${d}`)
    const state = await readStateFile(path, ctx)
    expect(state.dpop).toEqual({ alg: 'ES256', jwk })
    expect(ctx.secrets.redact(`d=${d}`)).toBe('d=[redacted 43 chars]')
  })

  it('refuses a missing file, naming it and the system error', async () => {
    const path = files.path('never-written.json')
    const error = await rejection(readStateFile(path, testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(`cannot read the state file ${path} (ENOENT)`)
    expect(error.hint).toBeUndefined()
  })

  it('refuses a file that is not JSON', async () => {
    const path = await files.file('not-json.json', '{"version": 1,')
    const error = await rejection(readStateFile(path, testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(`the state file ${path} is not one pkce wrote: it is not JSON`)
    expect(error.hint).toBe(NOT_OURS_HINT)
  })

  it.each([
    ['version 2', JSON.stringify({ ...flowState(), version: 2 })],
    ['version "1"', JSON.stringify({ ...flowState(), version: '1' })],
    ['no version', JSON.stringify({ ...flowState(), version: undefined })],
    ['an array', '[]'],
    ['null', 'null'],
  ])('refuses %s as no version 1', async (name, content) => {
    const path = await files.file(`version-${name.replace(/\W/gu, '-')}.json`, content)
    const error = await rejection(readStateFile(path, testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(`the state file ${path} is not one pkce wrote: no version 1`)
    expect(error.hint).toBe(NOT_OURS_HINT)
  })

  it.each([
    'issuer',
    'client_id',
    'redirect_uri',
    'code_verifier',
    'code_challenge',
    'state',
    'scope',
    'authorization_url',
    'created_at',
  ] as const)('refuses a file without the string "%s", or with another type', async (field) => {
    for (const [variant, value] of [
      ['missing', undefined],
      ['number', 42],
      ['null', null],
    ] as const) {
      const path = await files.file(
        `field-${field}-${variant}.json`,
        JSON.stringify({ ...flowState(), [field]: value }),
      )
      const error = await rejection(readStateFile(path, testCtx()))
      expect(error.code).toBe('usage_error')
      expect(error.message).toBe(
        `the state file ${path} is not one pkce wrote: "${field}" is missing`,
      )
      expect(error.hint).toBe(NOT_OURS_HINT)
    }
  })

  it.each([
    ['client_auth', { client_auth: undefined }],
    ['client_auth', { client_auth: 'none' }],
    ['client_auth', { client_auth: {} }],
    ['client_auth', { client_auth: { method: 1 } }],
    ['parameters', { parameters: undefined }],
    ['parameters', { parameters: { response_type: 'code' } }],
  ])('refuses a file without a usable "%s" (%j)', async (field, change) => {
    const path = files.path(`structure-${JSON.stringify(change).replace(/\W/gu, '')}.json`)
    await writeFile(path, JSON.stringify({ ...flowState(), ...change }), { mode: 0o600, flag: 'w' })
    const error = await rejection(readStateFile(path, testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(
      `the state file ${path} is not one pkce wrote: "${field}" is missing`,
    )
    expect(error.hint).toBe(NOT_OURS_HINT)
  })
})

describe('deleteStateFile() (docs/security.md FS-2)', () => {
  it('removes the file and the private pkce-flow-* directory writeStateFile made for it', async () => {
    const path = await writeStateFile(undefined, flowState(), testCtx())
    try {
      await deleteStateFile(path)
      expect(await exists(path)).toBe(false)
      expect(await exists(dirname(path))).toBe(false)
    } finally {
      await rm(dirname(path), { recursive: true, force: true })
    }
  })

  it("removes the file but never the user's own directory, even when it is left empty", async () => {
    const dir = await folder('users-own')
    const path = await writeStateFile(join(dir, 'state.json'), flowState(), testCtx())
    await deleteStateFile(path)
    expect(await exists(path)).toBe(false)
    expect((await stat(dir)).isDirectory()).toBe(true)
    expect(await readdir(dir)).toEqual([])
  })

  it('keeps a pkce-flow-* directory that holds anything else', async () => {
    const path = await writeStateFile(undefined, flowState(), testCtx())
    const other = join(dirname(path), 'notes.txt')
    try {
      await writeFile(other, 'mine\n')
      await deleteStateFile(path)
      expect(await exists(path)).toBe(false)
      expect(await readdir(dirname(path))).toEqual(['notes.txt'])
      expect(await readFile(other, 'utf8')).toBe('mine\n')
    } finally {
      await rm(dirname(path), { recursive: true, force: true })
    }
  })

  it('does not fail when the file is already gone', async () => {
    const dir = await folder('already-gone')
    await expect(deleteStateFile(join(dir, 'state.json'))).resolves.toBeUndefined()
    expect((await stat(dir)).isDirectory()).toBe(true)
  })
})
