import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { EXIT_CODES_HELP } from '../../src/cli/help.js'
import { jsonOf, runCli } from '../helpers/spawn-cli.js'

describe('the built bin', () => {
  it('--version prints the package version and nothing on stderr', async () => {
    const run = await runCli(['--version'])
    expect(run).toMatchObject({ code: 0, stdout: '0.1.0\n', stderr: '' })
  })

  it('--help lists every command', async () => {
    const run = await runCli(['--help'])
    expect(run.code).toBe(0)
    for (const command of [
      'login',
      'par',
      'decode',
      'sandbox',
      'demo',
      'sandbox-user',
      'verifier',
      'challenge',
      'help',
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'mu'))
    }
  })

  it('a reader that has closed the pipe (| head) ends the run quietly, exit 0: no EPIPE crash', async () => {
    const child = spawn(process.execPath, ['bin/pkce.js', 'help', 'login'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    // Close the read end before pkce writes, as `head` does once it has its lines.
    child.stdout.destroy()
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
  })

  it('help exit-codes prints the exit-code table', async () => {
    const run = await runCli(['help', 'exit-codes'])
    expect(run).toMatchObject({ code: 0, stdout: EXIT_CODES_HELP, stderr: '' })
  })

  it('an unknown flag is exit 2, with one JSON document under --json', async () => {
    const run = await runCli(['verifier', '--nope', '--json'])
    expect(run.code).toBe(2)
    expect(jsonOf(run)).toEqual({
      ok: false,
      error: { code: 'usage_error', message: "unknown option '--nope'" },
    })
    expect(run.stderr).toBe('')
  })

  it('verifier --json: a 43-character verifier and its challenge, nothing on stderr', async () => {
    const run = await runCli(['verifier', '--json'])
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    const doc = jsonOf(run) as { code_verifier: string; code_challenge: string }
    expect(doc.code_verifier).toMatch(/^[\w-]{43}$/)
    expect(Object.keys(doc)).toEqual([
      'ok',
      'code_verifier',
      'code_challenge',
      'code_challenge_method',
    ])
  })

  it('challenge reads the verifier from stdin and prints the RFC 7636 Appendix B challenge', async () => {
    const run = await runCli(['challenge', '-'], {
      stdin: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\n',
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      'code_verifier          dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\n' +
        'code_challenge         E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\n' +
        'code_challenge_method  S256\n',
    )
  })

  it.each([
    [
      ['verifier', '--length', '42'],
      "error: option '--length <n>' argument '42' is invalid. expected a whole number from 43 to 128",
    ],
    [['challenge', 'short'], 'error: a code_verifier is 43 to 128 characters long, not 5'],
    [
      ['challenge', `${'a'.repeat(43)}!`],
      'error: a code_verifier may contain only A-Z, a-z, 0-9 and "-._~"',
    ],
  ])('%j is exit 2', async (args, message) => {
    const run = await runCli(args)
    expect(run.code).toBe(2)
    expect(run.stderr.split('\n')[0]).toBe(message)
  })

  it('a client secret as a flag value is refused before anything runs (security.md SO-1)', async () => {
    const run = await runCli([
      'login',
      '--domain',
      'tenant.example.com',
      '--client-id',
      'abc',
      '--client-secret',
      's3cr3t-value',
      '--json',
    ])
    expect(run.code).toBe(2)
    expect((jsonOf(run).error as { code: string }).code).toBe('secret_on_argv')
    expect(run.stdout + run.stderr).not.toContain('s3cr3t-value')
  })

  it('an http issuer that is not loopback is refused (security.md TL-3)', async () => {
    const run = await runCli([
      'login',
      '--issuer',
      'http://tenant.example.com/',
      '--client-id',
      'abc',
      '--json',
    ])
    expect(run.code).toBe(2)
    expect((jsonOf(run).error as { code: string }).code).toBe('insecure_not_loopback')
  })
})
