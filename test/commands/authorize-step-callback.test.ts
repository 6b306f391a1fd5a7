import { execFile } from 'node:child_process'
import { access } from 'node:fs/promises'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  callbackFromText,
  pastedCode,
  relayCommand,
  shellWord,
  validateCallback,
} from '../../src/commands/authorize-step.js'
import type { Authorization } from '../../src/commands/authorize-step.js'
import { Flow } from '../../src/commands/flow.js'
import { DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'
import { caught, rejection } from '../helpers/cli-error.js'
import { REDIRECT, SEEDED } from '../helpers/flow-options.js'
import { ISSUER, METADATA, ORIGIN } from '../helpers/mock-tenant.js'
import { withTempFiles } from '../helpers/temp-files.js'
import { testCtx } from '../helpers/test-ctx.js'
import type { TestCtx, TestCtxOptions } from '../helpers/test-ctx.js'

// The callback checks shared by the listener, --paste, --remote and pkce exchange, and the
// commands authorize prints for the other machine.

const run = promisify(execFile)
const files = withTempFiles('pkce-shell-word-')

const STATE = 'the-state-sent'
const AS: AuthorizationServer = METADATA
const AS_WITH_ISS: AuthorizationServer = {
  ...METADATA,
  authorization_response_iss_parameter_supported: true,
}
const STATE_CHECK = { name: 'callback.state', ok: true, detail: 'equals the state sent' }
const ISS_CHECK = { name: 'callback.iss', ok: true, detail: `equals ${ISSUER}` }
const NOT_A_URL_HINT =
  "paste the whole address from the browser's address bar, starting with http://"
const ELSEWHERE_HINT = 'paste the address the browser landed on after signing in'

function setup(options: TestCtxOptions = {}): { ctx: TestCtx; flow: Flow } {
  const ctx = testCtx(options)
  return { ctx, flow: new Flow(DEFAULT_HTTP_SETTINGS, ctx) }
}

function callback(query: string): URL {
  return new URL(`${REDIRECT}?${query}`)
}

function validate(query: string, as: AuthorizationServer = AS) {
  const { flow } = setup()
  const check = (): string => validateCallback(callback(query), STATE, { as, issuer: ISSUER }, flow)
  return { flow, check }
}

function authorization(url: string, pushed: boolean): Authorization {
  return {
    request: {
      codeVerifier: SEEDED.codeVerifier,
      codeChallenge: SEEDED.codeChallenge,
      state: STATE,
      nonce: undefined,
      params: new URLSearchParams(),
    },
    url: new URL(url),
    par: pushed
      ? {
          request_uri: 'urn:ietf:params:oauth:request_uri:6esc',
          expires_in: 60,
          expires_at: '2026-11-24T12:01:00.000Z',
        }
      : null,
  }
}

/** The words a POSIX shell makes of `text`, run where a stray `touch` would show. */
async function shellWords(text: string): Promise<string[]> {
  const { stdout } = await run('sh', ['-c', `printf '%s\\n' ${text}`], { cwd: files.path('') })
  return stdout.split('\n').slice(0, -1)
}

describe('validateCallback() https://www.rfc-editor.org/rfc/rfc9207#section-2.4', () => {
  it('returns the code of a callback with the state sent, recording callback.state', () => {
    const { flow, check } = validate(`code=the-code&state=${STATE}`)
    expect(check()).toBe('the-code')
    expect(flow.checks).toEqual([STATE_CHECK])
    expect(flow.warnings).toEqual([])
  })

  it('records callback.iss for the advertised iss, without a warning', () => {
    const { flow, check } = validate(
      `code=c&state=${STATE}&iss=${encodeURIComponent(ISSUER)}`,
      AS_WITH_ISS,
    )
    expect(check()).toBe('c')
    expect(flow.checks).toEqual([STATE_CHECK, ISS_CHECK])
    expect(flow.warnings).toEqual([])
  })

  it('accepts an unadvertised but equal iss with the iss_unadvertised warning (RH-3)', () => {
    const { flow, check } = validate(`code=c&state=${STATE}&iss=${encodeURIComponent(ISSUER)}`)
    expect(check()).toBe('c')
    expect(flow.checks).toEqual([STATE_CHECK, ISS_CHECK])
    expect(flow.warnings).toEqual([
      {
        code: 'iss_unadvertised',
        message:
          'the callback carries iss although the metadata does not advertise authorization_response_iss_parameter_supported',
      },
    ])
  })

  it.each([
    ['state_mismatch', 'code=c&state=forged', AS, 'the callback state "forged" does not match'],
    ['state_missing', 'code=c', AS, 'the callback has no state'],
    [
      'state_mismatch',
      'error=access_denied&state=forged',
      AS,
      'the callback state "forged" does not match',
    ],
    [
      'duplicate_parameter',
      `code=c&state=${STATE}&state=${STATE}`,
      AS,
      'the callback repeats the parameter "state"',
    ],
    [
      'iss_missing',
      `code=c&state=${STATE}`,
      AS_WITH_ISS,
      'the callback has no iss although the server advertises authorization_response_iss_parameter_supported',
    ],
    [
      'iss_mismatch',
      `code=c&state=${STATE}&iss=${encodeURIComponent('https://evil.test/')}`,
      AS,
      `the callback iss "https://evil.test/" is not the issuer "${ISSUER}"`,
    ],
    [
      'iss_mismatch',
      `error=access_denied&state=forged&iss=${encodeURIComponent('https://evil.test/')}`,
      AS,
      `the callback iss "https://evil.test/" is not the issuer "${ISSUER}"`,
    ],
    [
      'authorization_error',
      `error=access_denied&state=${STATE}`,
      AS,
      'authorization failed: access_denied',
    ],
    ['code_missing', `code=&state=${STATE}`, AS, 'the callback has neither code nor error'],
    [
      'unexpected_response_parameter',
      `code=c&state=${STATE}&id_token=x`,
      AS,
      'the callback carries "id_token", which the code flow never asks for',
    ],
    [
      'empty_authorization_response',
      'foo=bar',
      AS,
      'the callback carried none of code, state, error or iss',
    ],
  ])('refuses with %s: %s', (code, query, as, message) => {
    const { flow, check } = validate(query, as)
    const error = caught(check)
    expect(error.code).toBe(code)
    expect(error.message).toBe(message)
    expect(error.stage).toBe('callback')
    // Nothing is recorded as passed for a refused callback.
    expect(flow.checks).toEqual([])
  })
})

describe('callbackFromText()', () => {
  it('returns the URL when it is the redirect URI, surrounding whitespace and newline dropped', () => {
    const url = callbackFromText(`  ${REDIRECT}?code=c&state=s\r\n`, REDIRECT)
    expect(url.href).toBe(`${REDIRECT}?code=c&state=s`)
  })

  it.each(['', 'the-code', '127.0.0.1:8484/callback?code=c', '/callback?code=c&state=s'])(
    'refuses %j: not a URL',
    (text) => {
      const error = caught(() => callbackFromText(text, REDIRECT))
      expect(error.code).toBe('usage_error')
      expect(error.exitCode).toBe(2)
      expect(error.message).toBe('the callback URL is not a URL')
      expect(error.hint).toBe(NOT_A_URL_HINT)
    },
  )

  it.each([
    ['another port', 'http://127.0.0.1:9999/callback?code=c', 'http://127.0.0.1:9999/callback'],
    ['another host', 'http://localhost:8484/callback?code=c', 'http://localhost:8484/callback'],
    ['another scheme', 'https://127.0.0.1:8484/callback?code=c', 'https://127.0.0.1:8484/callback'],
    ['another site', 'https://evil.test/callback?code=c', 'https://evil.test/callback'],
    ['another path', 'http://127.0.0.1:8484/cb?code=c', 'http://127.0.0.1:8484/cb'],
    [
      'a longer path',
      'http://127.0.0.1:8484/callback/x?code=c',
      'http://127.0.0.1:8484/callback/x',
    ],
    ['another case', 'http://127.0.0.1:8484/Callback?code=c', 'http://127.0.0.1:8484/Callback'],
  ])('refuses %s, naming where it starts', (_, text, start) => {
    const error = caught(() => callbackFromText(text, REDIRECT))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(
      `the callback URL is not the redirect URI ${REDIRECT}: it starts ${start}`,
    )
    expect(error.hint).toBe(ELSEWHERE_HINT)
  })
})

describe('shellWord()', () => {
  it.each([
    ['plain', "'plain'"],
    ['', "''"],
    ["it's", "'it'\\''s'"],
    ["''", "''\\'''\\'''"],
    ['$(id) `id` "q" \\ ; & | * ?', '\'$(id) `id` "q" \\ ; & | * ?\''],
  ])('%j → %s', (text, word) => {
    expect(shellWord(text)).toBe(word)
  })

  it('gives back one word a POSIX shell reads as the text, whatever it holds', async () => {
    const texts = [
      "https://tenant.test/x';touch$IFS'CANARY';'?a=1&b=2",
      '$(id) `id` "q" \\ ; & | * ? ~ # !',
      "'",
      'a\nb\tc',
      '',
    ]
    expect(await shellWords(texts.map(shellWord).join(' '))).toEqual(
      texts.flatMap((text) => text.split('\n')),
    )
    await expect(access(files.path('CANARY'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

describe('relayCommand()', () => {
  it('direct request: pkce relay with the URL, which carries the redirect_uri itself', () => {
    const url = `${ORIGIN}/authorize?client_id=abc&redirect_uri=${encodeURIComponent(REDIRECT)}`
    expect(relayCommand(authorization(url, false), REDIRECT)).toBe(`pkce relay '${url}'`)
  })

  it('pushed request: adds --redirect-uri, which only the PAR endpoint saw', () => {
    const url = `${ORIGIN}/authorize?client_id=abc&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc`
    expect(relayCommand(authorization(url, true), REDIRECT)).toBe(
      `pkce relay '${url}' --redirect-uri '${REDIRECT}'`,
    )
  })

  it("quotes a URL with ' as one shell word", async () => {
    const url = `${ORIGIN}/o'brien/authorize?client_id=abc`
    const command = relayCommand(authorization(url, false), REDIRECT)
    expect(command).toBe(`pkce relay '${ORIGIN}/o'\\''brien/authorize?client_id=abc'`)
    expect(await shellWords(command)).toEqual(['pkce', 'relay', url])
  })
})

describe('pastedCode()', () => {
  const context = { as: AS, issuer: ISSUER }

  it('reads the line, prompting on stderr, and returns the code of a valid callback', async () => {
    const { ctx, flow } = setup({ stdin: `${REDIRECT}?code=pasted-code&state=${STATE}\n` })
    const code = await pastedCode(
      authorization(`${ORIGIN}/authorize`, false),
      REDIRECT,
      context,
      flow,
      ctx,
    )
    expect(code).toBe('pasted-code')
    expect(ctx.stderr()).toBe('Paste the callback URL: • Callback received\n')
    expect(ctx.stdout()).toBe('')
    expect(flow.checks).toEqual([STATE_CHECK])
    expect(Object.keys(flow.timings)).toEqual(['authorize'])
  })

  it('refuses a pasted callback with another state (state_mismatch)', async () => {
    const { ctx, flow } = setup({ stdin: `${REDIRECT}?code=pasted-code&state=forged\n` })
    const error = await rejection(
      pastedCode(authorization(`${ORIGIN}/authorize`, false), REDIRECT, context, flow, ctx),
    )
    expect(error.code).toBe('state_mismatch')
    expect(flow.checks).toEqual([])
  })

  it('refuses a pasted line that is not the redirect URI before checking it', async () => {
    const { ctx, flow } = setup({ stdin: 'https://tenant.test/authorize?code=c\n' })
    const error = await rejection(
      pastedCode(authorization(`${ORIGIN}/authorize`, false), REDIRECT, context, flow, ctx),
    )
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(
      `the callback URL is not the redirect URI ${REDIRECT}: it starts https://tenant.test/authorize`,
    )
    expect(flow.checks).toEqual([])
  })

  it('refuses an empty line as not a URL', async () => {
    const { ctx, flow } = setup({ stdin: '' })
    const error = await rejection(
      pastedCode(authorization(`${ORIGIN}/authorize`, false), REDIRECT, context, flow, ctx),
    )
    expect(error.message).toBe('the callback URL is not a URL')
  })
})
