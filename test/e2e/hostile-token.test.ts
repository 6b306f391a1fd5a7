import { readFile, rm } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createGzip } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { expectFailure, loginAgainst, sendJson, streamBytes } from '../helpers/hostile-server.js'
import type { Handler, HostileOptions, LoginRun } from '../helpers/hostile-server.js'

const TOKEN = '/oauth/token'
const MIB = 1024 * 1024
const HUGE = 50 * MIB
const REPORT_PEAK_RSS = pathToFileURL(
  join(import.meta.dirname, '../helpers/report-peak-rss.mjs'),
).href

const reply =
  (status: number, contentType: string | undefined, body: string, headers = {}): Handler =>
  (_request, response) => {
    response.writeHead(status, {
      ...(contentType === undefined ? {} : { 'content-type': contentType }),
      'content-length': Buffer.byteLength(body),
      ...headers,
    })
    response.end(body)
  }

/** The exchange was attempted exactly once (never retried: TR-5) and nothing came after it. */
function expectOneExchange(run: LoginRun): void {
  expect(run.server.count('POST', TOKEN)).toBe(1)
  expect(run.server.requests.at(-1)?.pathname).toBe(TOKEN)
}

describe.concurrent('pkce login against a hostile server: the token endpoint', () => {
  it('TK-4, D-3: a 500 HTML page is token_response_not_json, exit 4, with status and a short excerpt', async () => {
    const page = `<html><body><h1>Bad gateway</h1>${'<p>upstream unavailable</p>'.repeat(400)}</body></html>`
    const run = await loginAgainst({ token: reply(500, 'text/html; charset=utf-8', page) })
    const error = expectFailure(
      run,
      4,
      'token_response_not_json',
      `the token endpoint did not answer JSON (HTTP 500, text/html; charset=utf-8, body: ${page.slice(0, 200)}… (truncated, ${page.length} chars))`,
    )
    expect(error.stage).toBe('token')
    expect(error.http).toEqual({ status: 500 })
    expectOneExchange(run)
  })

  it('TK-4, SO-3: a 200 with truncated JSON is token_response_invalid, exit 4, the excerpt masked', async () => {
    const accessToken = `at-${'0123456789'.repeat(4)}`
    const body = `{"access_token":"${accessToken}","token_type":"Bearer","refresh_token":"rt-secret-cut`
    const run = await loginAgainst({ token: reply(200, 'application/json', body) })
    expectFailure(
      run,
      4,
      'token_response_invalid',
      'the token response is not valid JSON (HTTP 200, application/json, body: {"access_token":"at-012345678… (43 chars)","token_type":"Bearer","refresh_token":"[redacted 13 chars])',
    )
    expect(run.stdout + run.stderr).not.toContain(accessToken)
    expect(run.stdout + run.stderr).not.toContain('rt-secret')
    expectOneExchange(run)
  })

  it('TK-1: a 200 JSON object without access_token is token_response_invalid, exit 4', async () => {
    const run = await loginAgainst({
      token: (_request, response) =>
        sendJson(response, 200, { token_type: 'Bearer', expires_in: 60 }),
    })
    expectFailure(run, 4, 'token_response_invalid', 'the token response has no access_token')
    expectOneExchange(run)
  })

  it('SO-4: an access_token with an escape sequence and a workflow command is refused, exit 4, nothing printed raw', async () => {
    const hostileToken = 'at\u001b]8;;https://evil.example\u0007\n::warning::injected'
    const run = await loginAgainst(
      {
        token: (_request, response) =>
          sendJson(response, 200, { access_token: hostileToken, token_type: 'Bearer' }),
      },
      ['--print', 'access_token'],
      { json: false },
    )
    expect(run.code).toBe(4)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(
      'error: the token response has an access_token with characters outside printable ASCII (RFC 6749 Appendix A: 1*VSCHAR)\n',
    )
    expect(run.stderr).not.toContain('\u001b')
    expect(run.stderr).not.toContain('::warning::')
    expectOneExchange(run)
  })

  it('D-3: a 200 JSON body labelled text/plain is token_response_not_json, exit 4, the token masked', async () => {
    const body = JSON.stringify({ access_token: 'at-0123456789', token_type: 'Bearer' })
    const run = await loginAgainst({ token: reply(200, 'text/plain', body) })
    expectFailure(
      run,
      4,
      'token_response_not_json',
      'the token endpoint did not answer JSON (HTTP 200, text/plain, body: {"access_token":"at-0… (13 chars)","token_type":"Bearer"}); the body looks like JSON',
    )
    expect(run.stdout + run.stderr).not.toContain('at-0123456789')
    expectOneExchange(run)
  })

  it('TK-3: an RFC 6749 §5.2 error body is token_error, exit 3, with error and error_description', async () => {
    const run = await loginAgainst({
      token: (_request, response) =>
        sendJson(response, 400, {
          error: 'invalid_grant',
          error_description: 'Code\u001b[2J expired\nalready',
        }),
    })
    const error = expectFailure(
      run,
      3,
      'token_error',
      'token request rejected: invalid_grant: Code expired\\nalready',
    )
    expect(error.oauth).toEqual({
      error: 'invalid_grant',
      error_description: 'Code\u001b[2J expired\nalready',
    })
    expect(error.http).toEqual({ status: 400 })
    expect(error.hint).toMatch(/^a code works once/u)
    expectOneExchange(run)
  })

  it('TK-3: a 401 with WWW-Authenticate and no JSON is token_error, exit 3', async () => {
    const run = await loginAgainst({
      token: reply(401, 'text/html', '<h1>no</h1>', { 'www-authenticate': 'Basic realm="as"' }),
    })
    expectFailure(
      run,
      3,
      'token_error',
      'token request rejected: HTTP 401, WWW-Authenticate: Basic realm="as"',
    )
    expectOneExchange(run)
  })

  it('TR-4, HC-3: a 307 from the token endpoint is unexpected_redirect, exit 4, the POST not repeated', async () => {
    const run = await loginAgainst({
      token: (_request, response, server) =>
        response.writeHead(307, { location: `${server.origin}/steal` }).end(),
    })
    expectFailure(
      run,
      4,
      'unexpected_redirect',
      `the token endpoint answered HTTP 307 redirecting to ${run.server.origin}/steal; redirects are not followed`,
    )
    expect(run.server.count('POST', '/steal')).toBe(0)
    expectOneExchange(run)
  })

  it('HC-2: 100 KB of response headers is response_too_large, exit 4', async () => {
    const run = await loginAgainst({
      token: reply(200, 'application/json', '{}', { 'x-padding': 'a'.repeat(100_000) }),
    })
    expectFailure(
      run,
      4,
      'response_too_large',
      `the response headers from ${run.server.origin}${TOKEN} are too large (over undici's 16 KiB limit)`,
    )
    expectOneExchange(run)
  })

  it('JD-3: an unverified JWT access token nested 12 000 deep is exit 4, not a crash', async () => {
    const segment = (json: string): string => Buffer.from(json).toString('base64url')
    const deep = `${'['.repeat(12_000)}${']'.repeat(12_000)}`
    const accessToken = `${segment('{"alg":"RS256"}')}.${segment(`{"iss":"https://other.example/","deep":${deep}}`)}.AAAA`
    const run = await loginAgainst({ tokenExtra: { access_token: accessToken } })
    expectFailure(run, 4, 'access_token_invalid', /nests deeper than 64 levels/u)
  })

  it('HC-1: a token endpoint that never answers is timeout, exit 5, after --http-timeout 2', async () => {
    const run = await loginAgainst({ token: () => undefined }, ['--http-timeout', '2'])
    const error = expectFailure(
      run,
      5,
      'timeout',
      `POST ${run.server.origin}${TOKEN} timed out after 2s`,
    )
    expect(error.hint).toBe(
      'the server did not answer in time; raise the limit with --http-timeout <seconds>',
    )
    expectOneExchange(run)
  })
})

async function gzipBomb(size: number): Promise<Buffer> {
  const gzip = createGzip()
  const chunks: Buffer[] = []
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk))
  const ended = new Promise((resolve) => gzip.on('end', resolve))
  const block = Buffer.alloc(MIB, 0x20)
  for (let written = 0; written < size; written += MIB) {
    if (!gzip.write(block)) await new Promise((resolve) => gzip.once('drain', resolve))
  }
  gzip.end()
  await ended
  return Buffer.concat(chunks)
}

interface HugeCase {
  name: string
  /** Answers the token request; resolves with the bytes written before the client hung up. */
  send: (response: ServerResponse) => Promise<number>
  message: (origin: string) => string
}

const JSON_TYPE = { 'content-type': 'application/json' }

const bomb = gzipBomb(HUGE)

const HUGE_CASES: HugeCase[] = [
  {
    name: '50 MiB with Content-Length',
    send: (response) => {
      response.writeHead(200, { ...JSON_TYPE, 'content-length': HUGE })
      return streamBytes(response, HUGE)
    },
    message: (origin) =>
      `the response from ${origin}${TOKEN} is too large (${HUGE} bytes declared; the limit is ${MIB} bytes)`,
  },
  {
    name: '50 MiB chunked, no Content-Length',
    send: (response) => {
      response.writeHead(200, JSON_TYPE)
      return streamBytes(response, HUGE)
    },
    message: (origin) =>
      `the response from ${origin}${TOKEN} is too large (more than ${MIB} bytes received; the limit is ${MIB} bytes)`,
  },
  {
    name: 'a 50 KiB gzip body that inflates to 50 MiB',
    send: async (response) => {
      const compressed = await bomb
      response.writeHead(200, {
        ...JSON_TYPE,
        'content-encoding': 'gzip',
        'content-length': compressed.length,
      })
      response.end(compressed)
      return 0
    },
    message: (origin) =>
      `the response from ${origin}${TOKEN} is too large (more than ${MIB} bytes received; the limit is ${MIB} bytes)`,
  },
]

describe.concurrent('pkce login against a hostile server: oversized token responses (HC-2)', () => {
  for (const huge of HUGE_CASES) {
    it(`HC-2: ${huge.name} is response_too_large, exit 4, and memory stays flat`, async () => {
      const rssFile = join(
        tmpdir(),
        `pkce-rss-${process.pid}-${Math.random().toString(36).slice(2)}`,
      )
      let written: Promise<number> = Promise.resolve(0)
      const token: HostileOptions['token'] = (_request, response) => {
        written = huge.send(response)
      }
      const run = await loginAgainst({ token }, [], {
        nodeArgs: ['--import', REPORT_PEAK_RSS],
        env: { PEAK_RSS_FILE: rssFile },
      })
      expectFailure(run, 4, 'response_too_large', huge.message(run.server.origin))
      expectOneExchange(run)
      const peak = Number(await readFile(rssFile, 'utf8'))
      expect(peak).toBeGreaterThan(10 * MIB)
      expect(peak).toBeLessThan(150 * MIB)
      // The client hung up long before the server could send it all.
      expect(await written).toBeLessThan(HUGE)
      await rm(rssFile, { force: true })
    })
  }
})
