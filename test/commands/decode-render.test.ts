import { beforeAll, describe, expect, it } from 'vitest'
import { printDecode, renderDecode } from '../../src/commands/decode-render.js'
import type { DecodedEntry, DecodeResult, Validity } from '../../src/commands/decode-result.js'
import { CliError } from '../../src/errors.js'
import {
  CLAIMS,
  generateTestKeys,
  RS256_HUMAN,
  runCli,
  runCliJson,
  unsecured,
} from '../helpers/jwt-fixtures.js'
import { testCtx } from '../helpers/test-ctx.js'

let rs256 = ''

beforeAll(async () => {
  ;({ rs256 } = await generateTestKeys())
})

describe('pkce decode: the human report', () => {
  it('SO-4: claims cannot drive the terminal or forge lines', async () => {
    const token = unsecured({
      sub: 'x\u001b[31my',
      bel: 'a\u0007b',
      note: 'a\nwarning: fake',
      x: '::set-output',
      bidi: 'txt\u202eexe.pdf',
    })
    const { stdout } = await runCli(['decode', token])
    expect(stdout).toContain(
      '\nPayload\n' +
        '  sub   xy  # subject: the user (or client) it is about\n' +
        '  bel   a\\x07b\n' +
        '  note  a\\nwarning: fake\n' +
        '  x     \\::set-output\n' +
        '  bidi  txt\\u202eexe.pdf\n',
    )
    for (const raw of ['\u001b', '\u0007', '\u202e']) expect(stdout).not.toContain(raw)
  })

  it('JD-2: long values are cut in human output, whole in --json', async () => {
    const token = unsecured({ blob: 'x'.repeat(2000) })
    const { stdout } = await runCli(['decode', token])
    expect(stdout).toContain(
      `  blob  ${'x'.repeat(500)}… (truncated, 2000 chars; --json shows it whole)\n`,
    )
    const { doc } = await runCliJson(['decode', token])
    expect((doc.payload as { blob: string }).blob).toHaveLength(2000)
  })

  it('colour only on a TTY, and never with --no-color', async () => {
    expect((await runCli(['decode', rs256], { tty: true })).stdout).toContain('\u001b[')
    expect((await runCli(['--no-color', 'decode', rs256], { tty: true })).stdout).toBe(RS256_HUMAN)
  })
})

describe('pkce decode --claims', () => {
  it('prints just the payload JSON, one document a token', async () => {
    const { code, stdout } = await runCli(['decode', '--claims', rs256])
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual(CLAIMS)
    const two = await runCli(['decode', '--claims', rs256, unsecured({ sub: 'b' })])
    expect(two.stdout).toBe(`${JSON.stringify(CLAIMS, null, 2)}\n{\n  "sub": "b"\n}\n`)
  })

  it('an opaque or encrypted token has no claims: exit 4, nothing on stdout', async () => {
    const { code, stdout, stderr } = await runCli(['decode', '--claims', 'KBSxkmG-OcpA6-cg'])
    expect(code).toBe(4)
    expect(stdout).toBe('')
    expect(stderr).toContain('error: the token has no readable claims: it is opaque\n')
  })
})

const NOW = new Date('2026-11-24T12:00:00Z')

function unsecuredEntry(payload: Record<string, unknown>, validity?: Validity): DecodedEntry {
  return {
    token: unsecured(payload),
    report: {
      ok: true,
      kind: 'unsecured',
      header: { alg: 'none' },
      payload,
      signature: { alg: 'none', bytes: 0 },
      checks: [],
      warnings: [],
    },
    validity,
    verification: 'skipped',
  }
}

function opaqueEntry(token: string): DecodedEntry {
  return {
    token,
    report: {
      ok: true,
      kind: 'opaque',
      header: null,
      payload: null,
      signature: null,
      checks: [],
      warnings: [],
    },
    validity: undefined,
    verification: 'skipped',
  }
}

function result(entries: DecodedEntry[], failure?: CliError): DecodeResult {
  return { entries, now: NOW, failure }
}

function printed(
  run: DecodeResult,
  output: 'claims' | 'json' | 'human',
): { stdout: string; error: unknown } {
  const ctx = testCtx()
  let error: unknown
  try {
    printDecode(run, output, ctx.io)
  } catch (caught) {
    error = caught
  }
  return { stdout: ctx.stdout(), error }
}

describe('printDecode()', () => {
  const failure = new CliError('assertion_failed', 'assertion failed: x', { stage: 'validate' })

  it('--json: one report as an object, several as an array', () => {
    const one = printed(result([unsecuredEntry({ sub: 'a' })]), 'json')
    expect(one.error).toBeUndefined()
    expect(JSON.parse(one.stdout)).toMatchObject({ kind: 'unsecured', payload: { sub: 'a' } })
    const two = printed(result([unsecuredEntry({ sub: 'a' }), opaqueEntry('abc')]), 'json')
    expect((JSON.parse(two.stdout) as { kind: string }[]).map((doc) => doc.kind)).toEqual([
      'unsecured',
      'opaque',
    ])
  })

  it('--json and --claims on a failed run: nothing written, the failure thrown (main writes its document)', () => {
    for (const output of ['json', 'claims'] as const) {
      const { stdout, error } = printed(result([unsecuredEntry({ sub: 'a' })], failure), output)
      expect([stdout, error]).toEqual(['', failure])
    }
  })

  it('--claims: each payload, one document a token', () => {
    const { stdout, error } = printed(
      result([unsecuredEntry({ sub: 'a' }), unsecuredEntry({ sub: 'b' })]),
      'claims',
    )
    expect(error).toBeUndefined()
    expect(stdout).toBe('{\n  "sub": "a"\n}\n{\n  "sub": "b"\n}\n')
  })

  it('--claims with a token that has no claims: token_invalid naming it, nothing written', () => {
    const { stdout, error } = printed(
      result([unsecuredEntry({ sub: 'a' }), opaqueEntry('abc')]),
      'claims',
    )
    expect(stdout).toBe('')
    const invalid = error as CliError
    expect([invalid.code, invalid.message, invalid.hint, invalid.stage]).toEqual([
      'token_invalid',
      'token 2 has no readable claims: it is opaque',
      'an opaque or encrypted token cannot be decoded; send --audience for a JWT access token',
      'decode',
    ])
  })

  it('human: the report is written, then the failure thrown', () => {
    const { stdout, error } = printed(result([opaqueEntry('abc')], failure), 'human')
    expect(stdout).toMatch(/^\nOpaque token \(not a JWT\)\n/u)
    expect(error).toBe(failure)
  })
})

describe('renderDecode()', () => {
  const statusLine = (validity: Validity): string => {
    const ctx = testCtx({ tty: true })
    renderDecode(result([unsecuredEntry({}, validity)]), ctx.io)
    return /\n.*status.*\n/u.exec(ctx.stdout())?.[0] ?? ''
  }

  it('an expired or not yet valid token has its status in red; others plain', () => {
    const red = (text: string): string => `\u001b[31m${text}\u001b[39m`
    expect(statusLine({ state: 'expired', seconds: 300 })).toContain(red('expired 5m ago'))
    expect(
      statusLine({ state: 'not_yet_valid', seconds: 300, expiry: { state: 'no_exp' } }),
    ).toContain(red('not yet valid (valid in 5m; no exp: never expires)'))
    for (const validity of [
      { state: 'valid', seconds: 60 },
      { state: 'no_exp' },
      { state: 'exp_invalid' },
    ] as const) {
      expect(statusLine(validity)).not.toContain('\u001b[31m')
    }
    expect(statusLine({ state: 'exp_invalid' })).toContain('exp is not a valid date')
  })

  it('--show-tokens prints the token whole', () => {
    const ctx = testCtx()
    renderDecode(result([opaqueEntry('KBSxkmG-OcpA6-cg')]), ctx.io, { showTokens: true })
    expect(ctx.stdout()).toContain('\n  token   KBSxkmG-OcpA6-cg\n')
  })
})
