import { rm } from 'node:fs/promises'
import { Command } from 'commander'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import type { JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { addExchangeOptions, toExchangeOptions } from '../../../src/cli/options/exchange.js'
import type { RawExchangeOptions } from '../../../src/cli/options/exchange.js'
import { NO_ASSERTIONS } from '../../../src/commands/assertions.js'
import type { ExchangeOptions } from '../../../src/commands/exchange.js'
import { DEFAULT_HTTP_SETTINGS } from '../../../src/commands/http-settings.js'
import { writeStateFile } from '../../../src/commands/state-file.js'
import type { FlowState } from '../../../src/commands/state-file.js'
import { rejection } from '../../helpers/cli-error.js'
import { REDIRECT, SEEDED } from '../../helpers/flow-options.js'
import { ISSUER, ORIGIN } from '../../helpers/mock-tenant.js'
import { withTempFiles } from '../../helpers/temp-files.js'
import { testCtx } from '../../helpers/test-ctx.js'
import type { TestCtxOptions } from '../../helpers/test-ctx.js'

const files = withTempFiles('pkce-exchange-options-')

// RFC 7636 Appendix B's code_verifier.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const SECRET = 'the-client-secret-value'
const CALLBACK = `${REDIRECT}?code=the-code&state=${SEEDED.state}`
const AUTHORIZATION_URL = `${ORIGIN}/authorize?response_type=code&client_id=abc`

let secretFile: string
let dpopJwk: JWK

beforeAll(async () => {
  secretFile = await files.file('client-secret', `${SECRET}\n`)
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  dpopJwk = { ...(await exportJWK(privateKey)), alg: 'ES256' }
})

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
    parameters: [],
    authorization_url: AUTHORIZATION_URL,
    par: null,
    dpop: null,
    store_key: { issuer: 'https://tenant.test/', clientId: 'abc', scope: 'openid', dpop: false },
    created_at: '2026-11-24T11:59:00.000Z',
    ...extra,
  }
}

let written = 0
/** A state file as `pkce authorize` writes it, new for each call. */
async function stateFile(extra: Partial<FlowState> = {}): Promise<string> {
  written++
  return writeStateFile(files.path(`state-${written}.json`), flowState(extra), testCtx())
}

function parse(argv: string[]): RawExchangeOptions {
  return addExchangeOptions(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .parse(argv, { from: 'user' })
    .opts<RawExchangeOptions>()
}

async function optionsFor(argv: string[], ctx: TestCtxOptions = {}) {
  const context = testCtx(ctx)
  return { ctx: context, opts: await toExchangeOptions(parse(argv), context) }
}

/** The callback URL of a callback source, and the options without it (URLs compare by href). */
function split(opts: ExchangeOptions): { url: string; rest: unknown } {
  if (opts.source.kind !== 'callback') throw new Error('not a callback source')
  const { url, ...source } = opts.source
  return { url: url.href, rest: { ...opts, source } }
}

describe('toExchangeOptions() from a state file (--state-file with --callback-url)', () => {
  it('takes the target, the request and the verifier from the file, and re-reads the secret from its path', async () => {
    const path = await stateFile({
      client_auth: { method: 'client_secret_basic', file: secretFile },
      audience: 'https://api.test/',
      max_age: 300,
    })
    const { ctx, opts } = await optionsFor(['--state-file', path, '--callback-url', CALLBACK])
    const { url, rest } = split(opts)
    expect(url).toBe(CALLBACK)
    expect(rest).toEqual({
      target: {
        issuer: ISSUER,
        client: { client_id: 'abc', auth: { method: 'client_secret_basic', secret: SECRET } },
      },
      redirectUri: REDIRECT,
      codeVerifier: SEEDED.codeVerifier,
      source: { kind: 'callback', state: SEEDED.state },
      nonce: SEEDED.nonce,
      scope: 'openid profile',
      audience: 'https://api.test/',
      maxAgeSeconds: 300,
      dpop: undefined,
      http: DEFAULT_HTTP_SETTINGS,
      clockToleranceSeconds: 60,
      assertions: NO_ASSERTIONS,
      stateFile: path,
      authorization: {
        authorization_url: AUTHORIZATION_URL,
        code_challenge: SEEDED.codeChallenge,
        par: null,
        started_at: new Date('2026-11-24T11:59:00.000Z'),
      },
    })
    // The secret read again is a secret of this run (docs/security.md SO-2).
    expect(ctx.secrets.redact(SECRET)).toBe('[redacted 23 chars]')
    expect(ctx.stderr()).toBe('')
  })

  it('client_secret_post: the stored method, with the secret from the stored path', async () => {
    const path = await stateFile({
      client_auth: { method: 'client_secret_post', file: secretFile },
    })
    const { opts } = await optionsFor(['--state-file', path, '--callback-url', CALLBACK])
    expect(opts.target.client.auth).toEqual({ method: 'client_secret_post', secret: SECRET })
  })

  it('private_key_jwt: the key read from the stored path', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const keyFile = await files.file('client-key.pem', await exportPKCS8(privateKey))
    const path = await stateFile({ client_auth: { method: 'private_key_jwt', file: keyFile } })
    const { opts } = await optionsFor(['--state-file', path, '--callback-url', CALLBACK])
    const { auth } = opts.target.client
    if (auth.method !== 'private_key_jwt') throw new Error(`method ${auth.method}`)
    expect(auth.alg).toBe('ES256')
    expect([auth.key.kty, auth.key.crv, typeof auth.key.d]).toEqual(['EC', 'P-256', 'string'])
  })

  it('refuses a file whose client authentication names no file', async () => {
    const path = await stateFile({ client_auth: { method: 'client_secret_post' } })
    const error = await rejection(optionsFor(['--state-file', path, '--callback-url', CALLBACK]))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(`the state file ${path} names no file for client_secret_post`)
  })

  it('fails as secret_missing when the stored secret file is gone', async () => {
    const gone = await files.file('gone-secret', 'soon gone\n')
    const path = await stateFile({ client_auth: { method: 'client_secret_post', file: gone } })
    await rm(gone)
    const error = await rejection(optionsFor(['--state-file', path, '--callback-url', CALLBACK]))
    expect(error.code).toBe('secret_missing')
    expect(error.message).toBe(`cannot read the client secret from ${gone} (ENOENT)`)
  })

  it('takes the DPoP key and algorithm from the file; --allow-dpop-downgrade still applies', async () => {
    const path = await stateFile({ dpop: { alg: 'ES256', jwk: dpopJwk } })
    const { opts } = await optionsFor(['--state-file', path, '--callback-url', CALLBACK])
    expect(opts.dpop).toEqual({ alg: 'ES256', key: dpopJwk, allowDowngrade: false })
    const downgrade = await optionsFor([
      '--state-file',
      path,
      '--callback-url',
      CALLBACK,
      '--allow-dpop-downgrade',
    ])
    expect(downgrade.opts.dpop).toEqual({ alg: 'ES256', key: dpopJwk, allowDowngrade: true })
  })

  it('--callback-url - reads the first non-empty line of stdin, without a prompt', async () => {
    const path = await stateFile()
    const { ctx, opts } = await optionsFor(['--state-file', path, '--callback-url', '-'], {
      stdin: `\n   \r\n  ${CALLBACK}\r\nhttp://127.0.0.1:8484/callback?code=second&state=x\n`,
    })
    expect(split(opts).url).toBe(CALLBACK)
    expect(ctx.stderr()).toBe('')
  })

  it('--callback-url - asks on a terminal, the prompt on stderr', async () => {
    const path = await stateFile()
    const { ctx, opts } = await optionsFor(['--state-file', path, '--callback-url', '-'], {
      stdin: `${CALLBACK}\n`,
      stdinIsTTY: true,
    })
    expect(split(opts).url).toBe(CALLBACK)
    expect(ctx.stderr()).toBe('Paste the callback URL: ')
    expect(ctx.stdout()).toBe('')
  })

  it('--callback-url - with nothing on stdin is not a URL', async () => {
    const path = await stateFile()
    const error = await rejection(
      optionsFor(['--state-file', path, '--callback-url', '-'], { stdin: '\n\n' }),
    )
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('the callback URL is not a URL')
  })

  it("refuses a callback URL that is not the state file's redirect URI", async () => {
    const path = await stateFile()
    const error = await rejection(
      optionsFor([
        '--state-file',
        path,
        '--callback-url',
        `http://127.0.0.1:9999/callback?code=c&state=${SEEDED.state}`,
      ]),
    )
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(
      `the callback URL is not the redirect URI ${REDIRECT}: it starts http://127.0.0.1:9999/callback`,
    )
  })

  it('refuses a state file that is not one pkce wrote', async () => {
    const path = await files.file('not-state.json', '{"hello": "world"}')
    const error = await rejection(optionsFor(['--state-file', path, '--callback-url', CALLBACK]))
    expect(error.message).toBe(`the state file ${path} is not one pkce wrote: no version 1`)
  })

  it.each([
    ['--domain', 'tenant.test'],
    ['--issuer', ISSUER],
    ['--client-id', 'abc'],
    ['--client-secret-file', '/some/secret'],
    ['--private-key-file', '/some/key.pem'],
    ['--redirect-uri', REDIRECT],
    ['--port', '8484'],
    ['--code', 'the-code'],
    ['--code-verifier-file', '/some/verifier'],
    ['--scope', 'openid'],
    ['--audience', 'https://api.test/'],
    ['--max-age', '0'],
    ['--nonce', 'n'],
    ['--dpop-key', '/some/dpop.jwk'],
    ['--dpop-alg', 'ES256'],
  ])('refuses %s beside --state-file, naming it, before reading anything', async (flag, value) => {
    const error = await rejection(
      optionsFor([
        '--state-file',
        files.path('never-read.json'),
        '--callback-url',
        CALLBACK,
        flag,
        value,
      ]),
    )
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(`--state-file holds the request already: drop ${flag}`)
    expect(error.hint).toBeUndefined()
  })

  it('refuses --state-file without --callback-url', async () => {
    const path = await stateFile()
    const error = await rejection(optionsFor(['--state-file', path]))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--state-file needs --callback-url <url|->')
    expect(error.hint).toBe(
      'the whole address the browser landed on, or what pkce relay printed; - reads it from stdin',
    )
  })
})

describe('toExchangeOptions() from a bare code (--code with --code-verifier-file)', () => {
  const TARGET_ARGS = ['--domain', 'tenant.test', '--client-id', 'abc']

  it('takes the target from the flags, reads and checks the verifier, defaults the scope', async () => {
    const verifierFile = await files.file('verifier', `${VERIFIER}\n`)
    const { ctx, opts } = await optionsFor([
      ...TARGET_ARGS,
      '--code',
      'bare-code',
      '--code-verifier-file',
      verifierFile,
    ])
    expect(opts).toEqual({
      target: { issuer: ISSUER, client: { client_id: 'abc', auth: { method: 'none' } } },
      redirectUri: REDIRECT,
      codeVerifier: VERIFIER,
      source: { kind: 'code', code: 'bare-code' },
      nonce: undefined,
      scope: 'openid profile email',
      audience: undefined,
      maxAgeSeconds: undefined,
      dpop: undefined,
      http: DEFAULT_HTTP_SETTINGS,
      clockToleranceSeconds: 60,
      assertions: NO_ASSERTIONS,
      stateFile: undefined,
      authorization: null,
    })
    expect(ctx.stderr()).toBe('')
  })

  it('takes --redirect-uri, --scope, --audience, --max-age and --nonce as given', async () => {
    const verifierFile = await files.file('verifier-2', VERIFIER)
    const { opts } = await optionsFor([
      ...TARGET_ARGS,
      '--code',
      'c',
      '--code-verifier-file',
      verifierFile,
      '--redirect-uri',
      'http://localhost:3000/cb',
      '--scope',
      'openid',
      '--audience',
      'https://api.test/',
      '--max-age',
      '60',
      '--nonce',
      'the-nonce',
    ])
    expect([opts.redirectUri, opts.scope, opts.audience, opts.maxAgeSeconds, opts.nonce]).toEqual([
      'http://localhost:3000/cb',
      'openid',
      'https://api.test/',
      60,
      'the-nonce',
    ])
  })

  it('reads the verifier from stdin with -', async () => {
    const { opts } = await optionsFor(
      [...TARGET_ARGS, '--code', 'c', '--code-verifier-file', '-'],
      { stdin: `${VERIFIER}\n` },
    )
    expect(opts.codeVerifier).toBe(VERIFIER)
  })

  it.each([
    [
      'too short',
      'short-verifier',
      'a code_verifier is 43 to 128 characters long, not 14',
      'RFC 7636 §4.1',
    ],
    [
      'too long',
      'a'.repeat(129),
      'a code_verifier is 43 to 128 characters long, not 129',
      'RFC 7636 §4.1',
    ],
    [
      'not unreserved',
      `${VERIFIER.slice(0, 42)}+`,
      'a code_verifier may contain only A-Z, a-z, 0-9 and "-._~"',
      'RFC 7636 §4.1: unreserved characters only',
    ],
  ])(
    'refuses a verifier %s as code_verifier_invalid (docs/security.md PK-2)',
    async (name, verifier, message, hint) => {
      const verifierFile = await files.file(`verifier-${name.replace(/\W/gu, '-')}`, verifier)
      const error = await rejection(
        optionsFor([...TARGET_ARGS, '--code', 'c', '--code-verifier-file', verifierFile]),
      )
      expect(error.code).toBe('code_verifier_invalid')
      expect(error.exitCode).toBe(2)
      expect(error.message).toBe(message)
      expect(error.hint).toBe(hint)
    },
  )

  it('refuses a verifier file that cannot be read', async () => {
    const missing = files.path('no-verifier')
    const error = await rejection(
      optionsFor([...TARGET_ARGS, '--code', 'c', '--code-verifier-file', missing]),
    )
    expect(error.code).toBe('secret_missing')
    expect(error.message).toBe(`cannot read the code_verifier from ${missing} (ENOENT)`)
  })

  it.each([
    ['--code without --code-verifier-file', ['--code', 'c']],
    ['--code-verifier-file without --code', ['--code-verifier-file', '/some/verifier']],
    ['an empty --code', ['--code', '', '--code-verifier-file', '/some/verifier']],
    ['nothing', []],
  ])('refuses %s, saying what to exchange', async (_, args) => {
    const error = await rejection(optionsFor([...TARGET_ARGS, ...args]))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(
      'say what to exchange: --state-file with --callback-url, or --code with --code-verifier-file',
    )
  })

  it('refuses --callback-url without --state-file', async () => {
    const error = await rejection(optionsFor([...TARGET_ARGS, '--callback-url', CALLBACK]))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--callback-url needs --state-file, which holds the request')
    expect(error.hint).toBe(
      'pass --state-file <path> as pkce authorize printed, or --code with --code-verifier-file',
    )
  })

  it('needs the target: --domain or --issuer, and --client-id', async () => {
    const verifierFile = await files.file('verifier-3', VERIFIER)
    const noServer = await rejection(
      optionsFor(['--client-id', 'abc', '--code', 'c', '--code-verifier-file', verifierFile]),
    )
    expect(noServer.message).toBe('say which server: --domain <tenant>.auth0.com or --issuer <url>')
    const noClient = await rejection(
      optionsFor(['--domain', 'tenant.test', '--code', 'c', '--code-verifier-file', verifierFile]),
    )
    expect(noClient.message).toBe('--client-id <id> is required')
  })
})
