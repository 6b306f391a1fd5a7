import { execFile } from 'node:child_process'
import { access, readdir, readFile, stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, importJWK, jwtVerify, SignJWT } from 'jose'
import type { JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { authorizationRequestWith } from '../../src/commands/authorize-step.js'
import { renderAuthorize, runAuthorize } from '../../src/commands/authorize.js'
import type { AuthorizeCommandOptions } from '../../src/commands/authorize.js'
import type { FlowState } from '../../src/commands/state-file.js'
import { rejection } from '../helpers/cli-error.js'
import { authorizeOptions, FRESH_DPOP, REDIRECT, SEEDED } from '../helpers/flow-options.js'
import { ISSUER, ORIGIN, withMockTenant } from '../helpers/mock-tenant.js'
import { withTempFiles } from '../helpers/temp-files.js'
import { testCtx } from '../helpers/test-ctx.js'
import type { TestCtx } from '../helpers/test-ctx.js'

const run = promisify(execFile)

const tenant = withMockTenant()
const files = withTempFiles('pkce-authorize-')

const REQUEST_URI = 'urn:ietf:params:oauth:request_uri:6esc'
const SECRET = 'the-client-secret-value'
const ENCODED_REDIRECT = 'http%3A%2F%2F127.0.0.1%3A8484%2Fcallback'

function options(extra: Partial<AuthorizeCommandOptions> = {}): AuthorizeCommandOptions {
  return { ...authorizeOptions(), stateFile: undefined, clientAuthFile: undefined, ...extra }
}

function discovery(metadata: Record<string, unknown> = {}): void {
  tenant.discovery({ code_challenge_methods_supported: ['S256'], ...metadata })
}

async function readState(path: string): Promise<FlowState> {
  return JSON.parse(await readFile(path, 'utf8')) as FlowState
}

/** The value printed under a notice's label. */
function noticed(ctx: TestCtx, label: string): string {
  const lines = ctx.stderr().split('\n')
  const at = lines.indexOf(label)
  const value = lines[at + 1]
  if (at < 0 || value === undefined) throw new Error(`no notice ${label}`)
  return value.replace(/^ {2}/u, '')
}

/** The words a POSIX shell makes of `text`, run in `cwd` (where nothing may be created). */
async function shellWords(text: string, cwd: string): Promise<string[]> {
  const { stdout } = await run('sh', ['-c', `printf '%s\\n' ${text}`], { cwd })
  return stdout.split('\n').slice(0, -1)
}

describe('runAuthorize()', () => {
  it('refuses port 0 before any request: the callback must come back to a known port', async () => {
    const ctx = testCtx({ dispatcher: tenant.agent })
    const error = await rejection(
      runAuthorize(
        options({
          redirectUri: new URL('http://127.0.0.1:0/callback'),
          stateFile: files.path('port-0.json'),
        }),
        ctx,
      ),
    )
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe('authorize needs a fixed port in the redirect URI, not 0')
    expect(error.hint).toBe(
      'the callback comes back later, to a listener started by pkce relay: pass --port <n>',
    )
    // No discovery ran (it would be a step, and a request the MockAgent refuses) and no file.
    expect(ctx.events).toEqual([])
    expect(ctx.stderr()).toBe('')
    await expect(access(files.path('port-0.json'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('direct request: the URL on authorization_endpoint (S256), a 0600 state file with the request and no secret', async () => {
    discovery()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const stateFile = files.path('direct.json')
    const result = await runAuthorize(
      options({
        target: {
          issuer: ISSUER,
          client: { client_id: 'abc', auth: { method: 'client_secret_post', secret: SECRET } },
        },
        request: authorizationRequestWith({
          scope: 'openid profile',
          audience: 'https://api.test/',
          maxAgeSeconds: 300,
        }),
        stateFile,
        clientAuthFile: '/home/me/.config/pkce/client-secret',
      }),
      ctx,
    )
    const url =
      `${ORIGIN}/authorize?response_type=code&client_id=abc&redirect_uri=${ENCODED_REDIRECT}` +
      `&scope=openid+profile&state=${SEEDED.state}&nonce=${SEEDED.nonce}` +
      `&code_challenge=${SEEDED.codeChallenge}&code_challenge_method=S256` +
      '&audience=https%3A%2F%2Fapi.test%2F&max_age=300'
    expect(result).toEqual({
      authorization_url: url,
      state_file: stateFile,
      redirect_uri: REDIRECT,
      warnings: [],
    })
    expect('expires_at' in result).toBe(false)

    const text = await readFile(stateFile, 'utf8')
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(text)).toEqual({
      version: 1,
      issuer: ISSUER,
      client_id: 'abc',
      client_auth: { method: 'client_secret_post', file: '/home/me/.config/pkce/client-secret' },
      redirect_uri: REDIRECT,
      code_verifier: SEEDED.codeVerifier,
      code_challenge: SEEDED.codeChallenge,
      state: SEEDED.state,
      nonce: SEEDED.nonce,
      scope: 'openid profile',
      audience: 'https://api.test/',
      max_age: 300,
      parameters: [
        ['response_type', 'code'],
        ['client_id', 'abc'],
        ['redirect_uri', REDIRECT],
        ['scope', 'openid profile'],
        ['state', SEEDED.state],
        ['nonce', SEEDED.nonce],
        ['code_challenge', SEEDED.codeChallenge],
        ['code_challenge_method', 'S256'],
        ['audience', 'https://api.test/'],
        ['max_age', '300'],
      ],
      authorization_url: url,
      par: null,
      dpop: null,
      store_key: {
        issuer: ISSUER,
        clientId: 'abc',
        audience: 'https://api.test/',
        resources: [],
        scope: 'openid profile',
        dpop: false,
        params: [],
      },
      created_at: '2026-11-24T12:00:00.000Z',
    })
    // docs/security.md FS-2: the secret's path, never the secret.
    expect(text).not.toContain(SECRET)
    expect(await readdir(files.path(''))).not.toContainEqual(expect.stringMatching(/\.tmp$/u))

    expect(ctx.stdout()).toBe('')
    expect(ctx.stderr()).toBe(
      [
        `• Discovering ${ISSUER}`,
        `• PKCE code_verifier ${SEEDED.codeVerifier}`,
        `• PKCE code_challenge ${SEEDED.codeChallenge} (S256)`,
        'Open this URL to sign in:',
        `  ${url}`,
        'Or, on a machine with a browser, run:',
        `  pkce relay '${url}'`,
        'Then finish here, pasting the callback URL:',
        `  pkce exchange --state-file '${stateFile}' --callback-url -`,
        '',
      ].join('\n'),
    )
    // No listener and no browser: the browser may be on another machine.
    expect(ctx.opened).toEqual([])
  })

  it('without --state-file: a fresh file in a private pkce-flow-* directory, printed in the exchange command', async () => {
    discovery()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const result = await runAuthorize(options(), ctx)
    expect(result.state_file).toMatch(/\/pkce-flow-[A-Za-z0-9]{6}\/state\.json$/u)
    expect((await stat(result.state_file)).mode & 0o777).toBe(0o600)
    expect((await readState(result.state_file)).client_auth).toEqual({ method: 'none' })
    expect(noticed(ctx, 'Then finish here, pasting the callback URL:')).toBe(
      `pkce exchange --state-file '${result.state_file}' --callback-url -`,
    )
    const { deleteStateFile } = await import('../../src/commands/state-file.js')
    await deleteStateFile(result.state_file)
  })

  it('reports the warnings of the run, such as unconfirmed PKCE support', async () => {
    tenant.discovery()
    const ctx = testCtx({ dispatcher: tenant.agent })
    const result = await runAuthorize(options({ stateFile: files.path('warned.json') }), ctx)
    expect(result.warnings).toEqual([
      {
        code: 'pkce_support_unconfirmed',
        message:
          'the metadata has no code_challenge_methods_supported; PKCE support is unconfirmed, state still protects the flow',
      },
    ])
  })

  it('pushed request: expires_at, the pushed parameters in the state file, and --redirect-uri in the relay command', async () => {
    discovery({ pushed_authorization_request_endpoint: `${ORIGIN}/oauth/par` })
    const par = tenant.parEndpoint({ request_uri: REQUEST_URI, expires_in: 90 })
    const ctx = testCtx({ dispatcher: tenant.agent })
    const stateFile = files.path('pushed.json')
    const result = await runAuthorize(
      options({
        request: authorizationRequestWith({ scope: 'openid profile', par: true }),
        stateFile,
      }),
      ctx,
    )
    const url = `${ORIGIN}/authorize?client_id=abc&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc`
    expect(result).toEqual({
      authorization_url: url,
      state_file: stateFile,
      redirect_uri: REDIRECT,
      expires_at: '2026-11-24T12:01:30.000Z',
      warnings: [],
    })
    const parameters = [
      ['response_type', 'code'],
      ['client_id', 'abc'],
      ['redirect_uri', REDIRECT],
      ['scope', 'openid profile'],
      ['state', SEEDED.state],
      ['nonce', SEEDED.nonce],
      ['code_challenge', SEEDED.codeChallenge],
      ['code_challenge_method', 'S256'],
    ]
    expect([...par.form()]).toEqual(parameters)
    const state = await readState(stateFile)
    expect(state.parameters).toEqual(parameters)
    expect(state.authorization_url).toBe(url)
    expect(state.par).toEqual({
      request_uri: REQUEST_URI,
      expires_in: 90,
      expires_at: '2026-11-24T12:01:30.000Z',
    })
    expect(noticed(ctx, 'Or, on a machine with a browser, run:')).toBe(
      `pkce relay '${url}' --redirect-uri '${REDIRECT}'`,
    )
  })

  it('writes no state file when the push fails', async () => {
    discovery({ pushed_authorization_request_endpoint: `${ORIGIN}/oauth/par` })
    tenant.parEndpoint({ request_uri: REQUEST_URI, expires_in: 0 })
    const stateFile = files.path('push-failed.json')
    const error = await rejection(
      runAuthorize(
        options({
          request: authorizationRequestWith({ scope: 'openid', par: true }),
          stateFile,
        }),
        testCtx({ dispatcher: tenant.agent }),
      ),
    )
    expect(error.code).toBe('par_invalid_response')
    await expect(access(stateFile)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it("quotes a URL and a path holding ' so a shell gives them back as one word and runs nothing", async () => {
    // Quoted naively ('…'), this URL is four words: one of them is `touch CANARY`.
    const endpoint = `${ORIGIN}/x';touch$IFS'CANARY';'`
    discovery({ authorization_endpoint: endpoint })
    const ctx = testCtx({ dispatcher: tenant.agent })
    const stateFile = files.path("it's state.json")
    const result = await runAuthorize(
      options({ request: authorizationRequestWith({ scope: 'profile' }), stateFile }),
      ctx,
    )
    expect(result.authorization_url.startsWith(`${endpoint}?response_type=code&`)).toBe(true)
    const relay = noticed(ctx, 'Or, on a machine with a browser, run:')
    expect(relay).toBe(`pkce relay '${result.authorization_url.replaceAll("'", "'\\''")}'`)
    const exchange = noticed(ctx, 'Then finish here, pasting the callback URL:')
    expect(exchange).toBe(
      `pkce exchange --state-file '${stateFile.replace("'", "'\\''")}' --callback-url -`,
    )

    const cwd = files.path('')
    expect(await shellWords(relay, cwd)).toEqual(['pkce', 'relay', result.authorization_url])
    expect(await shellWords(exchange, cwd)).toEqual([
      'pkce',
      'exchange',
      '--state-file',
      stateFile,
      '--callback-url',
      '-',
    ])
    await expect(access(files.path('CANARY'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('--dpop: the state file holds the private JWK whose public thumbprint is the dpop_jkt sent', async () => {
    discovery({ dpop_signing_alg_values_supported: ['ES256'] })
    const ctx = testCtx({ dispatcher: tenant.agent })
    const stateFile = files.path('dpop.json')
    const result = await runAuthorize(options({ dpop: FRESH_DPOP, stateFile }), ctx)
    const state = await readState(stateFile)
    if (state.dpop === null) throw new Error('no DPoP key in the state file')
    const { alg, jwk } = state.dpop
    expect(alg).toBe('ES256')
    expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'd', 'kty', 'x', 'y'])
    expect([jwk.kty, jwk.crv, jwk.alg]).toEqual(['EC', 'P-256', 'ES256'])
    const publicJwk: JWK = Object.fromEntries(
      Object.entries(jwk).filter(([name]) => ['kty', 'crv', 'x', 'y'].includes(name)),
    )
    const jkt = await calculateJwkThumbprint(publicJwk, 'sha256')
    expect(new URL(result.authorization_url).searchParams.get('dpop_jkt')).toBe(jkt)
    expect(state.parameters).toContainEqual(['dpop_jkt', jkt])
    // The private part is that key's: what it signs, the public key verifies.
    const signed = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(await importJWK(jwk, 'ES256'))
    await expect(jwtVerify(signed, await importJWK(publicJwk, 'ES256'))).resolves.toBeTruthy()
    // d is a secret for the rest of the run: stderr never shows it.
    const d = jwk.d ?? ''
    expect(ctx.secrets.redact(d)).toBe(`[redacted ${d.length} chars]`)
    expect(ctx.stderr()).not.toContain(d)
    expect(ctx.stderr()).toContain(`• DPoP key ES256, thumbprint (dpop_jkt) ${jkt}\n`)
  })

  it('without --dpop the state file holds no key', async () => {
    discovery()
    const stateFile = files.path('no-dpop.json')
    await runAuthorize(options({ stateFile }), testCtx({ dispatcher: tenant.agent }))
    const text = await readFile(stateFile, 'utf8')
    expect((JSON.parse(text) as FlowState).dpop).toBeNull()
    expect(text).not.toMatch(/"d"\s*:/u)
  })

  it('refuses an existing --state-file and leaves it as it was', async () => {
    discovery()
    const stateFile = await files.file('taken.json', 'not yours\n')
    const error = await rejection(
      runAuthorize(options({ stateFile }), testCtx({ dispatcher: tenant.agent })),
    )
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(
      `the state file ${stateFile} already exists; pkce never overwrites one`,
    )
    expect(await readFile(stateFile, 'utf8')).toBe('not yours\n')
  })
})

describe('renderAuthorize()', () => {
  it('prints the state file path alone on stdout', () => {
    const ctx = testCtx()
    renderAuthorize(
      {
        authorization_url: `${ORIGIN}/authorize`,
        state_file: '/tmp/pkce-flow-abc123/state.json',
        redirect_uri: REDIRECT,
        warnings: [],
      },
      ctx.io,
    )
    expect(ctx.stdout()).toBe('/tmp/pkce-flow-abc123/state.json\n')
    expect(ctx.stderr()).toBe('')
  })
})
