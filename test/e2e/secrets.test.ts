import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  expectFailure,
  loginAgainst,
  sendJson,
  startHostileServer,
} from '../helpers/hostile-server.js'
import type { LoginRun } from '../helpers/hostile-server.js'
import { jsonOf, runCli, STACK_FRAME } from '../helpers/spawn-cli.js'

const TOKEN = '/oauth/token'
// TR-2: characters that break client_secret_basic unless form-encoded before base64.
const SECRET = `p@ss:w%rd+${randomBytes(12).toString('hex')}`
const REFRESH_TOKEN = `rt-${randomBytes(16).toString('hex')}`
const REDACTED_SECRET = `[redacted ${SECRET.length} chars]`
const REDACTED_REFRESH = `[redacted ${REFRESH_TOKEN.length} chars]`

let dir: string
let secretFile: string
let keyFile: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-secrets-'))
  secretFile = join(dir, 'secret.txt')
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 })
  keyFile = join(dir, 'key.pem')
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const withRefreshToken = { tokenExtra: { refresh_token: REFRESH_TOKEN } }

function tokenRequest(run: LoginRun): NonNullable<LoginRun['server']['requests'][number]> {
  const request = run.server.requests.find((r) => r.method === 'POST' && r.pathname === TOKEN)
  if (request === undefined) throw new Error('no token request')
  return request
}

/** The trace lines of the token request's form body, as printed. */
function tracedForm(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('>   '))
}

describe.concurrent('secrets and output (security.md SO-1 to SO-4)', () => {
  it('SO-3: --verbose traces each exchange; client_secret_post and the refresh token are redacted', async () => {
    const run = await loginAgainst(withRefreshToken, [
      '--verbose',
      '--client-secret-file',
      secretFile,
      '--client-auth',
      'client_secret_post',
    ])
    expect(run.code).toBe(0)
    const sent = tokenRequest(run).form
    expect(sent.client_secret).toBe(SECRET)
    const { origin } = run.server
    const pkce = run.doc.pkce as { code_verifier: string }
    expect(tracedForm(run.stderr)).toEqual([
      '>   grant_type=authorization_code',
      `>   code=${sent.code}`,
      `>   redirect_uri=${sent.redirect_uri}`,
      `>   code_verifier=${pkce.code_verifier}`,
      '>   client_id=c1',
      `>   client_secret=${REDACTED_SECRET}`,
    ])
    for (const line of [
      `> GET ${origin}/.well-known/openid-configuration`,
      `> POST ${origin}${TOKEN}`,
      '> content-type: application/x-www-form-urlencoded',
      '> accept: application/json',
      `> GET ${origin}/.well-known/jwks.json`,
      '< content-type: application/json',
      '< cache-control: no-store',
      `    "refresh_token": "${REDACTED_REFRESH}",`,
      '    "token_type": "Bearer",',
    ]) {
      expect(run.stderr).toContain(`${line}\n`)
    }
    expect(run.stderr).toMatch(/^< 200 OK \(\d+ ms\)$/mu)
    // Abbreviated: at most a third of the token, 12 characters at most (SO-3).
    expect(run.stderr).toMatch(/^ {4}"access_token": "[\w-]{1,12}… \(\d+ chars\)",$/mu)
    expect(run.stderr).toContain(`state=${String(run.doc.state)}`)
    expect(run.stderr).not.toContain(SECRET)
    expect(run.stderr).not.toContain(REFRESH_TOKEN)
    expect(run.stdout).not.toContain(SECRET)
  })

  it('SO-3, TR-2: client_secret_basic sends a form-encoded pair and traces Authorization redacted', async () => {
    const run = await loginAgainst(withRefreshToken, [
      '--verbose',
      '--client-secret-file',
      secretFile,
      '--client-auth',
      'client_secret_basic',
    ])
    expect(run.code).toBe(0)
    const request = tokenRequest(run)
    const basic = Buffer.from(`c1:${encodeURIComponent(SECRET).replace(/%20/gu, '+')}`).toString(
      'base64',
    )
    expect(request.headers.authorization).toBe(`Basic ${basic}`)
    expect(request.form.client_secret).toBeUndefined()
    expect(run.stderr).toContain(`> authorization: Basic [redacted ${basic.length} chars]\n`)
    expect(run.stderr).not.toContain(basic)
    expect(run.stderr).not.toContain(SECRET)
    expect(run.stdout).not.toContain(SECRET)
    expect(run.stdout).not.toContain(basic)
  })

  it('SO-3: private_key_jwt traces client_assertion redacted', async () => {
    const run = await loginAgainst({}, ['--verbose', '--private-key-file', keyFile])
    expect(run.code).toBe(0)
    const assertion = tokenRequest(run).form.client_assertion ?? ''
    expect(assertion).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/u)
    expect(tracedForm(run.stderr)).toContain(
      `>   client_assertion=[redacted ${assertion.length} chars]`,
    )
    expect(run.stderr).not.toContain(assertion)
    expect(run.stdout).not.toContain(assertion)
  })

  it('SO-3: --show-secrets lifts the redaction of the secret, the refresh token and Authorization', async () => {
    const run = await loginAgainst(withRefreshToken, [
      '--verbose',
      '--show-secrets',
      '--client-secret-file',
      secretFile,
      '--client-auth',
      'client_secret_basic',
    ])
    expect(run.code).toBe(0)
    const authorization = tokenRequest(run).headers.authorization ?? ''
    expect(run.stderr).toContain(`> authorization: ${authorization}\n`)
    expect(run.stderr).toContain(`    "refresh_token": "${REFRESH_TOKEN}",\n`)
    expect(run.stderr).not.toContain('[redacted')
  })

  it('SO-2: a server echoing the secret in an error is redacted on stderr and in --json', async () => {
    const echo = {
      token: (_request: unknown, response: Parameters<typeof sendJson>[0]): void =>
        sendJson(response, 401, {
          error: 'invalid_client',
          error_description: `client_secret ${SECRET} is wrong`,
        }),
    }
    const args = ['--client-secret-file', secretFile]
    const [json, human] = await Promise.all([
      loginAgainst(echo, args),
      loginAgainst(echo, args, { json: false }),
    ])
    const error = expectFailure(
      json,
      3,
      'token_error',
      `token request rejected: invalid_client: client_secret ${REDACTED_SECRET} is wrong`,
    )
    expect(error.oauth).toEqual({
      error: 'invalid_client',
      error_description: `client_secret ${REDACTED_SECRET} is wrong`,
    })
    expect(human.code).toBe(3)
    expect(human.stderr).toContain(
      `error: token request rejected: invalid_client: client_secret ${REDACTED_SECRET} is wrong\n`,
    )
    for (const run of [json, human]) {
      expect(run.stdout).not.toContain(SECRET)
      expect(run.stderr).not.toContain(SECRET)
      expect(run.pages).toHaveLength(1)
    }
  })

  it('SO-2, LL-7: the failure page in the browser never shows a secret the server echoed', async () => {
    const run = await loginAgainst(
      {
        token: (_request, response) =>
          sendJson(response, 401, { error: 'invalid_client', error_description: SECRET }),
      },
      ['--client-secret-file', secretFile],
    )
    expect(run.code).toBe(3)
    expect(run.pages).toHaveLength(1)
    expect(run.pages[0]?.body).not.toContain(SECRET)
  })

  it('SO-1: --client-secret on argv is secret_on_argv, exit 2, before any request', async () => {
    const server = await startHostileServer()
    try {
      const run = await runCli([
        'login',
        '--issuer',
        server.issuer,
        '--client-id',
        'c1',
        '--client-secret',
        'hunter2-hunter2',
        '--json',
      ])
      expect(run.code).toBe(2)
      expect(jsonOf(run)).toEqual({
        ok: false,
        error: {
          code: 'secret_on_argv',
          message:
            'secrets are not accepted as flag values: other users see them in ps and shell history',
          hint: 'use --client-secret-file <path>, or --client-secret-file - to read it from stdin',
        },
      })
      expect(run.stderr).not.toMatch(STACK_FRAME)
      expect(server.requests).toEqual([])
    } finally {
      await server.close()
    }
  })

  it('SO-4: remote text in claims, headers and errors never starts a line or drives the terminal', async () => {
    const forged = '::error::forged\n::add-mask::x\u001b]0;title\u0007\u009b2J\u202e'
    const run = await loginAgainst(
      {
        idToken: { claims: { name: forged, [`\n::set-output name=k::v`]: 'x' } },
        tokenExtra: { scope: forged },
        // Printed as the exchange starts; URL parsing would encode these, the raw string does not.
        metadata: (m) => ({ ...m, token_endpoint: `${m.token_endpoint}?x=${forged}` }),
      },
      ['--verbose'],
      { json: false },
    )
    expect(run.code).toBe(0)
    for (const stream of [run.stdout, run.stderr]) {
      expect(stream).not.toMatch(/^::/mu)
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      expect(stream).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/u)
    }
    // The OSC title and the C1 CSI sequence are stripped; the newline and the bidi override escaped.
    expect(run.stdout).toContain(
      '    name                      \\::error::forged\\n::add-mask::x\\u202e\n',
    )
    expect(run.stdout).toContain('    \\n::set-output name=k::v  x\n')
  })

  it('SO-4: a C1 control sequence in a content type never reaches the human error line', async () => {
    const run = await loginAgainst(
      {
        token: (_request, response) => {
          response.writeHead(502, { 'content-type': 'text/html\u009b2J' })
          response.end('<h1>bad gateway</h1>')
        },
      },
      [],
      { json: false },
    )
    expect(run.code).toBe(4)
    expect(run.stderr).toContain(
      'error: the token endpoint did not answer JSON (HTTP 502, text/html, body: <h1>bad gateway</h1>)\n',
    )
    expect(run.stderr).not.toContain('\u009b')
  })
})
