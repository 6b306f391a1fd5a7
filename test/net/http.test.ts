import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { toHttpSettings } from '../../src/cli/options/http.js'
import type { RawHttpOptions } from '../../src/cli/options/http.js'
import type { CliError } from '../../src/errors.js'
import { main } from '../../src/main.js'
import { createHttp } from '../../src/net/http.js'
import type { HttpOptions } from '../../src/net/http.js'
import { createTrace } from '../../src/net/trace.js'
import type { HttpRequest } from '../../src/oauth/http.js'
import { MAX_BODY_BYTES } from '../../src/oauth/http.js'
import { testCtx } from '../helpers/test-ctx.js'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

const servers: { server: Server; sockets: Set<Socket> }[] = []

/** A real server on 127.0.0.1:0 answering with `handler`; records what it received. */
async function serve(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ url: (path: string) => URL; seen: Seen[] }> {
  const seen: Seen[] = []
  const sockets = new Set<Socket>()
  const server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => (body += chunk))
    request.on('end', () => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
      })
      handler(request, response)
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push({ server, sockets })
  const { port } = server.address() as AddressInfo
  return { url: (path) => new URL(path, `http://127.0.0.1:${port}`), seen }
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      ({ server, sockets }) =>
        new Promise((resolve) => {
          server.close(resolve)
          for (const socket of sockets) socket.destroy()
        }),
    ),
  )
})

function http(options: Partial<HttpOptions> = {}): ReturnType<typeof createHttp> {
  return createHttp({
    dispatcher: undefined,
    timeoutMs: 5_000,
    signal: new AbortController().signal,
    userAgent: 'pkce/0.0.0-test',
    trace: undefined,
    ...options,
  })
}

async function failure(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise
  } catch (error) {
    return error as CliError
  }
  throw new Error('expected a failure')
}

const get = (url: URL): HttpRequest => ({ method: 'GET', url, stage: 'discovery' })

describe('createHttp()', () => {
  it('HC-6: sends Accept and User-Agent, and a form as application/x-www-form-urlencoded', async () => {
    const { url, seen } = await serve((_request, response) => response.end('{}'))
    await http()({
      method: 'POST',
      url: url('/token'),
      form: new URLSearchParams({ a: '1 2', b: '&' }),
      stage: 'token',
    })
    expect(seen).toHaveLength(1)
    expect(seen[0]?.headers).toMatchObject({
      accept: 'application/json',
      'user-agent': 'pkce/0.0.0-test',
      'content-type': 'application/x-www-form-urlencoded',
    })
    expect(seen[0]?.body).toBe('a=1+2&b=%26')
  })

  it("--header: sent on every request after the defaults; the request's own headers win", async () => {
    const { url, seen } = await serve((_request, response) => response.end('{}'))
    const send = http({
      headers: [
        ['client-certificate', 'MIIB'],
        ['user-agent', 'custom/1'],
      ],
    })
    await send(get(url('/a')))
    await send({ ...get(url('/b')), headers: { 'client-certificate': 'from-request' } })
    expect(seen.map((s) => [s.headers['client-certificate'], s.headers['user-agent']])).toEqual([
      ['MIIB', 'custom/1'],
      ['from-request', 'custom/1'],
    ])
  })

  it('HC-3, TR-4: a 307 is returned, not followed; the body is not re-sent anywhere', async () => {
    const { url, seen } = await serve((request, response) => {
      if (request.url === '/token') response.writeHead(307, { location: '/elsewhere' }).end()
      else response.end('{}')
    })
    const response = await http()({
      method: 'POST',
      url: url('/token'),
      form: new URLSearchParams({ client_secret: 's' }),
      stage: 'token',
    })
    expect(response.status).toBe(307)
    expect(response.headers.get('location')).toBe('/elsewhere')
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /token'])
  })

  it('HC-1: no headers within the timeout is timeout, exit 5, naming the request', async () => {
    const { url } = await serve(() => undefined)
    const error = await failure(http({ timeoutMs: 200 })(get(url('/slow'))))
    expect(error).toMatchObject({
      code: 'timeout',
      exitCode: 5,
      stage: 'discovery',
      message: `GET ${url('/slow').href} timed out after 0.2s`,
      hint: 'the server did not answer in time; raise the limit with --http-timeout <seconds>',
    })
  })

  it('HC-1: a body that stalls after the headers is a timeout too', async () => {
    const { url } = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.write('{"a":')
    })
    const error = await failure(http({ timeoutMs: 300 })(get(url('/stall'))))
    expect(error).toMatchObject({ code: 'timeout', exitCode: 5 })
  })

  it('HC-1: --http-timeout defaults to 30 s for login', async () => {
    let captured: RawHttpOptions | undefined
    const ctx = testCtx()
    const code = await main(
      ['login', '--issuer', 'https://as.example/', '--client-id', 'c1'],
      ctx,
      {
        run: (_name, options) => {
          captured = options as RawHttpOptions
          return Promise.resolve()
        },
      },
    )
    expect(code).toBe(0)
    expect(captured?.httpTimeout).toBeUndefined()
    expect((await toHttpSettings(captured ?? { httpTimeout: 0 }, false)).timeoutMs).toBe(30_000)
  })

  it('CI-4: an abort of the run is interrupted, not a timeout', async () => {
    const { url } = await serve(() => undefined)
    const controller = new AbortController()
    const pending = http({ signal: controller.signal })(get(url('/slow')))
    setTimeout(() => controller.abort(new Error('interrupted')), 50)
    expect(await failure(pending)).toMatchObject({ code: 'interrupted', exitCode: 130 })
  })

  it('a refused connection is network_error, exit 5', async () => {
    const { url } = await serve(() => undefined)
    const closed = url('/')
    await new Promise((resolve) => {
      const entry = servers.pop()
      entry?.server.close(resolve)
      for (const socket of entry?.sockets ?? []) socket.destroy()
    })
    const error = await failure(http()(get(closed)))
    expect(error).toMatchObject({
      code: 'network_error',
      exitCode: 5,
      message: `connection refused by ${closed.host}`,
    })
  })

  it(`HC-2: the default cap is 1 MiB (${MAX_BODY_BYTES} bytes)`, () => {
    expect(MAX_BODY_BYTES).toBe(1024 * 1024)
  })

  it('HC-2: a body of exactly the cap is accepted', async () => {
    const { url } = await serve((_request, response) => response.end('x'.repeat(1000)))
    const response = await http({ maxBodyBytes: 1000 })(get(url('/ok')))
    expect((await response.text()).length).toBe(1000)
  })

  it('HC-2: a declared Content-Length over the cap fails before the body is read', async () => {
    let written = 0
    const { url } = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': 10 * 1024 * 1024 })
      const chunk = Buffer.alloc(64 * 1024)
      const pump = (): void => {
        while (written < 10 * 1024 * 1024 && !response.destroyed) {
          written += chunk.length
          if (!response.write(chunk)) return void response.once('drain', pump)
        }
      }
      pump()
    })
    const error = await failure(http({ maxBodyBytes: 1000 })(get(url('/big'))))
    expect(error).toMatchObject({
      code: 'response_too_large',
      exitCode: 4,
      message: `the response from ${url('/big').href} is too large (10485760 bytes declared; the limit is 1000 bytes)`,
    })
    expect(written).toBeLessThan(10 * 1024 * 1024)
  })

  it('HC-2: a chunked body over the cap fails while streaming', async () => {
    const { url } = await serve((_request, response) => {
      response.write('x'.repeat(600))
      setTimeout(() => response.end('x'.repeat(600)), 20)
    })
    const error = await failure(http({ maxBodyBytes: 1000 })(get(url('/chunked'))))
    expect(error).toMatchObject({
      code: 'response_too_large',
      message: `the response from ${url('/chunked').href} is too large (more than 1000 bytes received; the limit is 1000 bytes)`,
    })
  })

  it('HC-2: the cap counts bytes after decompression', async () => {
    const compressed = gzipSync(Buffer.alloc(100_000, 0x20))
    const { url } = await serve((_request, response) => {
      response.writeHead(200, { 'content-encoding': 'gzip', 'content-length': compressed.length })
      response.end(compressed)
    })
    expect(compressed.length).toBeLessThan(1000)
    const error = await failure(http({ maxBodyBytes: 1000 })(get(url('/gzip'))))
    expect(error).toMatchObject({ code: 'response_too_large', exitCode: 4 })
  })
})

describe('createTrace() (security.md SO-3)', () => {
  const SECRET = 'client-secret-value-0123'
  const REFRESH = 'refresh-token-value-0123'
  const ACCESS = 'access-token-value-0123456789'

  async function traced(
    options: { showSecrets?: boolean; showTokens?: boolean },
    reply: { contentType: string; body: string },
  ): Promise<string> {
    let out = ''
    const { url } = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': reply.contentType, 'set-cookie': 'sid=abc123456' })
      response.end(reply.body)
    })
    const trace = createTrace({
      write: (text) => (out += text),
      showSecrets: options.showSecrets ?? false,
      showTokens: options.showTokens ?? false,
    })
    await http({ trace })({
      method: 'POST',
      url: url('/token'),
      headers: { authorization: 'Basic YzE6c2VjcmV0' },
      form: new URLSearchParams({
        code: 'the-code',
        code_verifier: 'the-verifier',
        client_secret: SECRET,
      }),
      stage: 'token',
    })
    return out
      .replace(/\(\d+ ms\)/u, '(N ms)')
      .replace(/^< (date|connection|keep-alive|content-length|transfer-encoding): .*\n/gmu, '')
  }

  const tokens = JSON.stringify({
    access_token: ACCESS,
    refresh_token: REFRESH,
    token_type: 'Bearer',
  })

  it('shows method, URL, headers, form and JSON body; redacts secrets; abbreviates tokens', async () => {
    const out = await traced({}, { contentType: 'application/json', body: tokens })
    expect(out).toMatch(/^> POST http:\/\/127\.0\.0\.1:\d+\/token\n/u)
    expect(out).toContain('> authorization: Basic [redacted 12 chars]\n')
    expect(out).toContain('>   code=the-code\n>   code_verifier=the-verifier\n')
    expect(out).toContain(`>   client_secret=[redacted ${SECRET.length} chars]\n`)
    expect(out).toContain('< 200 OK (N ms)\n')
    expect(out).toContain('< set-cookie: [redacted 13 chars]\n')
    expect(out).toContain(
      `  {\n    "access_token": "access-to… (${ACCESS.length} chars)",\n    "refresh_token": "[redacted ${REFRESH.length} chars]",\n    "token_type": "Bearer"\n  }\n`,
    )
    for (const value of [SECRET, REFRESH, ACCESS, 'YzE6c2VjcmV0', 'abc123456']) {
      expect(out).not.toContain(value)
    }
  })

  it('masks secrets in a truncated or mislabelled JSON body too', async () => {
    for (const reply of [
      { contentType: 'application/json', body: tokens.slice(0, -20) },
      { contentType: 'text/plain', body: tokens },
    ]) {
      const out = await traced({}, reply)
      expect(out).toContain(`"refresh_token":"[redacted ${REFRESH.length} chars]"`)
      expect(out).toContain(`"access_token":"access-to… (${ACCESS.length} chars)"`)
      expect(out).not.toContain(REFRESH)
      expect(out).not.toContain(ACCESS)
    }
  })

  it('--show-tokens shows tokens whole; --show-secrets lifts all redaction', async () => {
    const withTokens = await traced(
      { showTokens: true },
      { contentType: 'application/json', body: tokens },
    )
    expect(withTokens).toContain(`"access_token": "${ACCESS}"`)
    expect(withTokens).not.toContain(REFRESH)
    const withSecrets = await traced(
      { showSecrets: true },
      { contentType: 'text/plain', body: tokens },
    )
    for (const value of [SECRET, REFRESH, ACCESS, 'YzE6c2VjcmV0'])
      expect(withSecrets).toContain(value)
  })
})
