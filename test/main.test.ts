import { describe, expect, it } from 'vitest'
import { EXIT_CODES_HELP } from '../src/cli/help.js'
import { CliError } from '../src/errors.js'
import type { ErrorCode } from '../src/errors.js'
import { main } from '../src/main.js'
import { testCtx } from './helpers/test-ctx.js'
import type { TestCtx, TestCtxOptions } from './helpers/test-ctx.js'

const LOGIN = ['login', '--domain', 'acme.eu.auth0.com', '--client-id', 'abc']
const SECRET = 'client-secret-value-0123'
const REDACTED = `[redacted ${SECRET.length} chars]`
const BUG_HINT = 'hint: this is a bug in pkce; re-run with --debug and report it\n'

interface Outcome {
  code: number
  stdout: string
  stderr: string
  calls: string[]
}

/**
 * Runs `main()` with the action replaced: `outcome` is what the command does (resolve, or throw
 * the value given). `prepare` sees the context first, to register secrets.
 */
async function runMain(
  argv: string[],
  outcome?: { throws: unknown },
  options: TestCtxOptions & { prepare?: (ctx: TestCtx) => void } = {},
): Promise<Outcome> {
  const ctx = testCtx(options)
  options.prepare?.(ctx)
  const calls: string[] = []
  const code = await main(argv, ctx, {
    run: (command) => {
      calls.push(command)
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- main() must cope with non-Error values too
      return outcome === undefined ? Promise.resolve() : Promise.reject(outcome.throws)
    },
  })
  return { code, stdout: ctx.stdout(), stderr: ctx.stderr(), calls }
}

const withSecret = { prepare: (ctx: TestCtx) => ctx.secrets.add(SECRET) }

describe('main(): success', () => {
  it('a command that completes exits 0 and main itself prints nothing', async () => {
    expect(await runMain(LOGIN)).toEqual({ code: 0, stdout: '', stderr: '', calls: ['login'] })
  })

  it('--help exits 0 with the usage on stdout', async () => {
    const { code, stdout, stderr, calls } = await runMain(['--help'])
    expect(code).toBe(0)
    expect(stdout.startsWith('Usage: pkce [options] [command]\n')).toBe(true)
    expect(stdout).toContain('\nCommands:\n')
    expect([stderr, calls]).toEqual(['', []])
  })

  it('a command --help exits 0 with that command’s usage', async () => {
    const { code, stdout, stderr } = await runMain(['login', '--help'])
    expect(code).toBe(0)
    expect(stdout.startsWith('Usage: pkce login [options]\n')).toBe(true)
    expect(stderr).toBe('')
  })

  it.each([['--version'], ['-V']])('%s exits 0 with the version alone on stdout', async (flag) => {
    expect(await runMain([flag])).toEqual({
      code: 0,
      stdout: '0.0.0-test\n',
      stderr: '',
      calls: [],
    })
  })

  it('help exit-codes prints the exit code table', async () => {
    expect(await runMain(['help', 'exit-codes'])).toEqual({
      code: 0,
      stdout: EXIT_CODES_HELP,
      stderr: '',
      calls: [],
    })
  })
})

describe('main(): expected failures (security.md D-6)', () => {
  it.each<[ErrorCode, number]>([
    ['usage_error', 2],
    ['secret_missing', 2],
    ['token_error', 3],
    ['state_mismatch', 4],
    ['metadata_issuer_mismatch', 4],
    ['network_error', 5],
    ['callback_timeout', 5],
    ['interrupted', 130],
  ])('a CliError %s exits %i with one error line', async (errorCode, exit) => {
    const result = await runMain(LOGIN, { throws: new CliError(errorCode, 'it failed') })
    expect(result).toEqual({
      code: exit,
      stdout: '',
      stderr: 'error: it failed\n',
      calls: ['login'],
    })
  })

  it('a hint follows on its own line', async () => {
    const error = new CliError('state_mismatch', 'the state differs', { hint: 'start again' })
    const { code, stderr } = await runMain(LOGIN, { throws: error })
    expect([code, stderr]).toEqual([4, 'error: the state differs\nhint: start again\n'])
  })

  it('the cause is not shown without --debug', async () => {
    const error = new CliError('network_error', 'connect failed', {
      cause: new Error('ECONNREFUSED 127.0.0.1:443'),
    })
    const { code, stderr } = await runMain(LOGIN, { throws: error })
    expect([code, stderr]).toEqual([5, 'error: connect failed\n'])
  })

  it('--debug adds the cause’s stack after the error lines', async () => {
    const cause = new Error('ECONNREFUSED 127.0.0.1:443')
    const error = new CliError('network_error', 'connect failed', { cause, hint: 'is it up?' })
    const { code, stderr } = await runMain(['--debug', ...LOGIN], { throws: error })
    expect(code).toBe(5)
    expect(stderr).toBe(`error: connect failed\nhint: is it up?\n${cause.stack}\n`)
  })

  it('--debug with a cause that is not an Error shows nothing more', async () => {
    const error = new CliError('network_error', 'connect failed', { cause: 'a string' })
    const { stderr } = await runMain(['--debug', ...LOGIN], { throws: error })
    expect(stderr).toBe('error: connect failed\n')
  })

  it('a usage error from commander exits 2 with commander’s message, said once', async () => {
    expect(await runMain(['login', '--bogus'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: unknown option '--bogus'\n(run with --help for usage)\n",
      calls: [],
    })
    expect(await runMain(['qqqqqqqq'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: unknown command 'qqqqqqqq'\n(run with --help for usage)\n",
      calls: [],
    })
    // Commander suggests the nearest command name when there is one.
    expect((await runMain(['logn'])).stderr).toBe(
      "error: unknown command 'logn'\n(Did you mean login?)\n(run with --help for usage)\n",
    )
  })
})

describe('main(): internal errors exit 1', () => {
  it('anything thrown that is not a CliError is a bug: one line and the --debug hint', async () => {
    expect(await runMain(LOGIN, { throws: new TypeError('x is not a function') })).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: internal error: x is not a function\n${BUG_HINT}`,
      calls: ['login'],
    })
  })

  it('a thrown value that is no Error is shown as text', async () => {
    const { code, stderr } = await runMain(LOGIN, { throws: 'plain text' })
    expect([code, stderr]).toEqual([1, `error: internal error: plain text\n${BUG_HINT}`])
  })

  it.each([
    ['--debug', ['--debug', ...LOGIN], {}],
    ['PKCE_DEBUG=1', LOGIN, { env: { PKCE_DEBUG: '1' } }],
  ])('%s shows the stack instead of the hint', async (_, argv, options) => {
    const error = new Error('boom')
    const { code, stderr } = await runMain(argv, { throws: error }, options)
    expect(code).toBe(1)
    expect(stderr).toBe(`error: internal error: boom\n${error.stack}\n`)
    expect(stderr).toContain('\n    at ')
  })

  it('PKCE_DEBUG other than 1 does not', async () => {
    const { stderr } = await runMain(
      LOGIN,
      { throws: new Error('boom') },
      { env: { PKCE_DEBUG: 'true' } },
    )
    expect(stderr).toBe(`error: internal error: boom\n${BUG_HINT}`)
  })

  it('SO-2: --debug shows the stack with the run’s secrets redacted', async () => {
    const error = new Error(`bad secret ${SECRET}`)
    const { stderr } = await runMain(['--debug', ...LOGIN], { throws: error }, withSecret)
    expect(stderr).toBe(
      `error: internal error: bad secret ${REDACTED}\n${(error.stack ?? '').split(SECRET).join(REDACTED)}\n`,
    )
    expect(stderr).not.toContain(SECRET)
  })

  it('--json: the document says internal_error and nothing more; stderr keeps the line', async () => {
    expect(
      await runMain(['--json', ...LOGIN], { throws: new Error(`boom ${SECRET}`) }, withSecret),
    ).toEqual({
      code: 1,
      stdout:
        '{\n  "ok": false,\n  "error": {\n    "code": "internal_error",\n    "message": "internal error"\n  }\n}\n',
      stderr: `error: internal error: boom ${REDACTED}\n${BUG_HINT}`,
      calls: ['login'],
    })
  })
})

describe('main(): --json failure documents (security.md CI-1)', () => {
  it('one document with code, message, hint, stage, oauth, http.status and details; stderr empty', async () => {
    const error = new CliError('token_error', 'the token request failed: invalid_grant', {
      hint: 'the code was used already',
      stage: 'token',
      oauth: { error: 'invalid_grant', error_description: 'used', error_uri: 'https://as/e' },
      status: 400,
    })
    error.details.checks = [{ name: 'state', ok: true, detail: 'matches' }]
    const { code, stdout, stderr } = await runMain(['--json', ...LOGIN], { throws: error })
    expect([code, stderr]).toEqual([3, ''])
    expect(stdout.endsWith('}\n')).toBe(true)
    expect(stdout.indexOf('\n{')).toBe(-1)
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: {
        code: 'token_error',
        message: 'the token request failed: invalid_grant',
        hint: 'the code was used already',
        stage: 'token',
        oauth: { error: 'invalid_grant', error_description: 'used', error_uri: 'https://as/e' },
        http: { status: 400 },
      },
      checks: [{ name: 'state', ok: true, detail: 'matches' }],
    })
  })

  it('members that are not set are left out', async () => {
    const { code, stdout } = await runMain(['--json', ...LOGIN], {
      throws: new CliError('callback_timeout', 'no callback in 300 s'),
    })
    expect(code).toBe(5)
    expect(stdout).toBe(
      '{\n  "ok": false,\n  "error": {\n    "code": "callback_timeout",\n    "message": "no callback in 300 s"\n  }\n}\n',
    )
  })

  it('--json after the command works the same', async () => {
    const { code, stdout } = await runMain([...LOGIN, '--json'], {
      throws: new CliError('state_missing', 'no state'),
    })
    expect(code).toBe(4)
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: { code: 'state_missing', message: 'no state' },
    })
  })

  it('a usage error from commander gives a document too, and commander writes nothing', async () => {
    expect(await runMain(['--json', 'login', '--bogus'])).toEqual({
      code: 2,
      stdout:
        '{\n  "ok": false,\n  "error": {\n    "code": "usage_error",\n    "message": "unknown option \'--bogus\'"\n  }\n}\n',
      stderr: '',
      calls: [],
    })
  })

  it('a usage error raised by a command gives a document with its hint', async () => {
    const { code, stdout, stderr } = await runMain(['--json', 'help', 'nope'])
    expect([code, stderr]).toEqual([2, ''])
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: {
        code: 'usage_error',
        message: 'no help topic "nope"',
        hint: 'topics: exit-codes, or a command name',
      },
    })
  })

  it('SO-5: C1 controls and bidi characters in the document are escaped', async () => {
    const { stdout } = await runMain(['--json', ...LOGIN], {
      throws: new CliError('authorization_error', 'denied', {
        oauth: { error: 'access_denied', error_description: 'a\u009bb\u202ec' },
      }),
    })
    expect(stdout).toContain('"error_description": "a\\u009bb\\u202ec"')
    expect(JSON.parse(stdout)).toMatchObject({
      error: { oauth: { error_description: 'a\u009bb\u202ec' } },
    })
  })
})

describe('main(): secrets (security.md SO-2)', () => {
  it('a registered secret is redacted in the error and hint lines', async () => {
    const error = new CliError('token_error', `the server echoed ${SECRET}`, {
      hint: `not ${SECRET}`,
    })
    const { code, stderr } = await runMain(LOGIN, { throws: error }, withSecret)
    expect([code, stderr]).toEqual([
      3,
      `error: the server echoed ${REDACTED}\nhint: not ${REDACTED}\n`,
    ])
  })

  it('a registered secret is redacted in every string of the --json document', async () => {
    const error = new CliError('token_error', `echoed ${SECRET}`, {
      hint: `hint ${SECRET}`,
      stage: 'token',
      oauth: { error: 'invalid_client', error_description: `secret ${SECRET} is wrong` },
      status: 401,
    })
    error.details.checks = [{ name: 'x', ok: false, detail: [`deep ${SECRET}`] }]
    const { stdout, stderr } = await runMain(['--json', ...LOGIN], { throws: error }, withSecret)
    expect(stderr).toBe('')
    expect(stdout).not.toContain(SECRET)
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: {
        code: 'token_error',
        message: `echoed ${REDACTED}`,
        hint: `hint ${REDACTED}`,
        stage: 'token',
        oauth: { error: 'invalid_client', error_description: `secret ${REDACTED} is wrong` },
        http: { status: 401 },
      },
      checks: [{ name: 'x', ok: false, detail: [`deep ${REDACTED}`] }],
    })
  })

  it('a secret holding a control character is redacted before the line is sanitised', async () => {
    const secret = 'pass\tword-0123'
    const { stderr } = await runMain(
      LOGIN,
      { throws: new CliError('token_error', `echoed ${secret}`) },
      { prepare: (ctx) => ctx.secrets.add(secret) },
    )
    expect(stderr).toBe(`error: echoed [redacted ${secret.length} chars]\n`)
  })

  it('--show-secrets turns redaction off, on stderr and in --json', async () => {
    const error = new CliError('token_error', `echoed ${SECRET}`)
    const { stderr } = await runMain([...LOGIN, '--show-secrets'], { throws: error }, withSecret)
    expect(stderr).toBe(`error: echoed ${SECRET}\n`)
    const { stdout } = await runMain(
      ['--json', ...LOGIN, '--show-secrets'],
      { throws: error },
      withSecret,
    )
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: { code: 'token_error', message: `echoed ${SECRET}` },
    })
  })
})

describe('main(): remote text in error lines (security.md SO-4)', () => {
  it('escape sequences are removed, a lone ESC and BEL escaped, and no line can be forged', async () => {
    const error = new CliError(
      'token_error',
      'got \u001b[31mred\u001b[0m \u001bX \u0007\n::error::forged',
      {
        hint: 'see \u202eevil\r',
      },
    )
    const { stderr } = await runMain(LOGIN, { throws: error })
    expect(stderr).toBe('error: got red \\x1bX \\x07\\n::error::forged\nhint: see \\u202eevil\\r\n')
    expect(stderr.split('\n')).toHaveLength(3)
  })

  it('an internal error’s message is sanitised too', async () => {
    const { stderr } = await runMain(LOGIN, { throws: new Error('bad \u001bX\n::warning::x') })
    expect(stderr).toBe(`error: internal error: bad \\x1bX\\n::warning::x\n${BUG_HINT}`)
  })
})

describe('main(): colour', () => {
  it('on a TTY the labels are coloured: red error, dim hint', async () => {
    const error = new CliError('state_mismatch', 'the state differs', { hint: 'start again' })
    const { stderr } = await runMain(LOGIN, { throws: error }, { tty: true })
    expect(stderr).toBe(
      '\u001b[31merror:\u001b[39m the state differs\n\u001b[2mhint:\u001b[22m start again\n',
    )
  })

  it('--no-color turns colour off, for expected and internal errors', async () => {
    const error = new CliError('state_mismatch', 'the state differs', { hint: 'start again' })
    expect((await runMain(['--no-color', ...LOGIN], { throws: error }, { tty: true })).stderr).toBe(
      'error: the state differs\nhint: start again\n',
    )
    expect(
      (await runMain([...LOGIN, '--no-color'], { throws: new Error('boom') }, { tty: true }))
        .stderr,
    ).toBe(`error: internal error: boom\n${BUG_HINT}`)
  })
})

describe('main(): interrupted (security.md CI-4)', () => {
  const aborted = (): AbortSignal => {
    const controller = new AbortController()
    controller.abort()
    return controller.signal
  }

  it.each([
    ['an Error', new Error('socket closed')],
    ['a CliError', new CliError('network_error', 'the request was aborted')],
    ['a non-Error value', 'aborted'],
  ])(
    'whatever is thrown once the signal is aborted (%s) exits 130 as interrupted',
    async (_, thrown) => {
      expect(await runMain(LOGIN, { throws: thrown }, { signal: aborted() })).toEqual({
        code: 130,
        stdout: '',
        stderr: 'error: interrupted\n',
        calls: ['login'],
      })
    },
  )

  it('an interrupted CliError is kept as it is', async () => {
    const error = new CliError('interrupted', 'interrupted by SIGTERM', {
      hint: 'the port is closed',
    })
    const { code, stderr } = await runMain(LOGIN, { throws: error }, { signal: aborted() })
    expect([code, stderr]).toEqual([
      130,
      'error: interrupted by SIGTERM\nhint: the port is closed\n',
    ])
  })

  it('--json gives the interrupted document', async () => {
    const { code, stdout, stderr } = await runMain(
      ['--json', ...LOGIN],
      { throws: new Error('socket closed') },
      { signal: aborted() },
    )
    expect([code, stderr]).toEqual([130, ''])
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: { code: 'interrupted', message: 'interrupted' },
    })
  })

  it('--debug shows what was interrupted as the cause', async () => {
    const cause = new Error('socket closed')
    const { stderr } = await runMain(
      ['--debug', ...LOGIN],
      { throws: cause },
      { signal: aborted() },
    )
    expect(stderr).toBe(`error: interrupted\n${cause.stack}\n`)
  })

  it('without an aborted signal the same error is not an interruption', async () => {
    const { code } = await runMain(LOGIN, { throws: new CliError('network_error', 'x') })
    expect(code).toBe(5)
  })
})
