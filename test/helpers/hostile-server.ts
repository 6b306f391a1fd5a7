import { createHash, randomBytes } from 'node:crypto'
import { createServer as createHttpServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import type { CryptoKey, JWK } from 'jose'
import { expect } from 'vitest'
import { jsonOf, STACK_FRAME, startCli } from './spawn-cli.js'
import type { CliProcess, CliRun, StartCliOptions } from './spawn-cli.js'

/**
 * An authorization server that behaves correctly unless told to misbehave, recording every
 * request. Each test starts its own on 127.0.0.1 port 0, sets the one hook its case needs, and
 * checks what the CLI did and which requests reached the server.
 */

export interface RecordedRequest {
  method: string
  /** Path and query, as sent. */
  path: string
  pathname: string
  headers: IncomingMessage['headers']
  /** The parsed body of a form POST; empty otherwise. */
  form: Record<string, string>
  body: string
}

export interface Metadata extends Record<string, unknown> {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
}

export interface AuthorizeRequest {
  params: URLSearchParams
  code: string
}

export interface IssuedCode {
  client_id: string
  redirect_uri: string
  nonce: string | undefined
  code_challenge: string | undefined
}

/** How the ID token is made wrong; the defaults give a valid token. */
export interface IdTokenTamper {
  /** Merged over the valid claims; `undefined` removes a claim. */
  claims?: Record<string, unknown> | ((origin: string) => Record<string, unknown>)
  kid?: string
  /** `other-key`: an unpublished RSA key under the published kid; `hs256-*`: the public key as HMAC secret. */
  signWith?: 'other-key' | 'none' | 'hs256-pem' | 'hs256-jwk'
  /** No id_token member at all. */
  omit?: boolean
  /** Rewrites the claims' JSON text before signing (RS256), for payloads jose would not build. */
  payloadText?: (json: string) => string
}

export type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  server: HostileServer,
) => void

export interface HostileOptions {
  /** HTTPS with this key and certificate (PEM) instead of plain http. */
  tls?: { key: string; cert: string }
  /** Edits the discovery document; return the whole document to serve. */
  metadata?: (metadata: Metadata, origin: string) => Record<string, unknown>
  /** Answers discovery instead of the document. */
  discovery?: Handler
  /** Rewrites the callback query `/authorize` redirects with; a string is used raw. */
  callback?: (
    params: URLSearchParams,
    request: URLSearchParams,
    origin: string,
  ) => URLSearchParams | string | Promise<URLSearchParams | string>
  /** Answers the token endpoint instead of the normal response (the request is still recorded). */
  token?: Handler
  /** The normal token response waits for this (the request is recorded at once). */
  tokenGate?: Promise<void>
  /** Adds members to a normal token response (e.g. a refresh_token). */
  tokenExtra?: Record<string, unknown>
  idToken?: IdTokenTamper
  /** Answers the JWKS endpoint instead of the published keys. */
  jwks?: Handler
  /** Answers POST /oauth/par; the metadata then announces the endpoint (RFC 9126 §5). */
  par?: Handler
}

export interface HostileServer {
  origin: string
  /** `${origin}/`, as the metadata announces it. */
  issuer: string
  port: number
  requests: RecordedRequest[]
  /** Requests with this method and pathname. */
  count(method: string, pathname: string): number
  /** What each issued code was bound to, by code. */
  codes: Map<string, IssuedCode>
  metadata(): Record<string, unknown>
  /** The key set the JWKS endpoint publishes. */
  jwks(): { keys: JWK[] }
  close(): Promise<void>
}

const KID = 'hostile-key-1'

interface Keys {
  privateKey: CryptoKey
  publicJwk: JWK
  publicPem: string
  otherKey: CryptoKey
}

let keys: Promise<Keys> | undefined

// RSA generation is the slow part; every server in a test file signs with the same keys.
function sharedKeys(): Promise<Keys> {
  keys ??= (async () => {
    const main = await generateKeyPair('RS256', { extractable: true })
    const other = await generateKeyPair('RS256')
    const publicJwk = { ...(await exportJWK(main.publicKey)), kid: KID, alg: 'RS256', use: 'sig' }
    return {
      privateKey: main.privateKey,
      publicJwk,
      publicPem: await exportSPKI(main.publicKey),
      otherKey: other.privateKey,
    }
  })()
  return keys
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  response.end(text)
}

/** Writes `total` bytes of `fill` in chunks as the client reads them; resolves with bytes written. */
export function streamBytes(
  response: ServerResponse,
  total: number,
  fill = 0x7b,
  chunkSize = 64 * 1024,
): Promise<number> {
  const chunk = Buffer.alloc(chunkSize, fill)
  let written = 0
  return new Promise((resolve) => {
    const done = (): void => resolve(written)
    response.once('close', done)
    const pump = (): void => {
      while (written < total && !response.destroyed) {
        const size = Math.min(chunkSize, total - written)
        written += size
        if (!response.write(size === chunkSize ? chunk : chunk.subarray(0, size))) {
          response.once('drain', pump)
          return
        }
      }
      if (!response.destroyed) response.end()
    }
    pump()
  })
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

async function signIdToken(
  claims: Record<string, unknown>,
  tamper: IdTokenTamper,
  k: Keys,
): Promise<string> {
  const kid = tamper.kid ?? KID
  if (tamper.payloadText !== undefined) {
    const header = base64url({ alg: 'RS256', typ: 'JWT', kid })
    const payload = Buffer.from(tamper.payloadText(JSON.stringify(claims))).toString('base64url')
    const input = `${header}.${payload}`
    const signature = await crypto.subtle.sign(
      'RSASSA-PKCS1-v1_5',
      k.privateKey,
      new TextEncoder().encode(input),
    )
    return `${input}.${Buffer.from(signature).toString('base64url')}`
  }
  switch (tamper.signWith) {
    case 'none':
      return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`
    case 'hs256-pem':
    case 'hs256-jwk': {
      const secret = tamper.signWith === 'hs256-pem' ? k.publicPem : JSON.stringify(k.publicJwk)
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
        .sign(new TextEncoder().encode(secret))
    }
    default:
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
        .sign(tamper.signWith === 'other-key' ? k.otherKey : k.privateKey)
  }
}

function clientIdOf(request: IncomingMessage, form: Record<string, string>): string | undefined {
  const basic = /^Basic (.+)$/iu.exec(request.headers.authorization ?? '')?.[1]
  if (basic !== undefined) {
    const [id] = Buffer.from(basic, 'base64').toString('utf8').split(':')
    return decodeURIComponent((id ?? '').replace(/\+/gu, ' '))
  }
  return form.client_id
}

/** Starts a hostile (by default well-behaved) authorization server on 127.0.0.1, port 0. */
export async function startHostileServer(options: HostileOptions = {}): Promise<HostileServer> {
  const k = await sharedKeys()
  const requests: RecordedRequest[] = []
  const codes = new Map<string, IssuedCode>()
  const sockets = new Set<Socket>()
  let origin = ''

  const metadata = (): Record<string, unknown> => {
    const normal: Metadata = {
      issuer: `${origin}/`,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/oauth/token`,
      jwks_uri: `${origin}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
      ...(options.par === undefined
        ? {}
        : { pushed_authorization_request_endpoint: `${origin}/oauth/par` }),
    }
    return options.metadata === undefined ? normal : options.metadata(normal, origin)
  }

  const authorize = async (url: URL, response: ServerResponse): Promise<void> => {
    const params = url.searchParams
    const redirectUri = params.get('redirect_uri')
    if (redirectUri === null) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('no redirect_uri')
      return
    }
    const code = `code-${randomBytes(12).toString('base64url')}`
    codes.set(code, {
      client_id: params.get('client_id') ?? '',
      redirect_uri: redirectUri,
      nonce: params.get('nonce') ?? undefined,
      code_challenge: params.get('code_challenge') ?? undefined,
    })
    const query = new URLSearchParams({ code, state: params.get('state') ?? '' })
    // RFC 9207: a server that advertises iss sends it.
    if (metadata().authorization_response_iss_parameter_supported === true) {
      query.set('iss', `${origin}/`)
    }
    const tampered =
      options.callback === undefined ? query : await options.callback(query, params, origin)
    const location = new URL(redirectUri)
    location.search = typeof tampered === 'string' ? tampered : tampered.toString()
    response.writeHead(302, { location: location.href, 'cache-control': 'no-store' }).end()
  }

  const token = async (
    request: IncomingMessage,
    response: ServerResponse,
    form: Record<string, string>,
  ): Promise<void> => {
    const issued = codes.get(form.code ?? '')
    const challenge = createHash('sha256')
      .update(form.code_verifier ?? '')
      .digest('base64url')
    const clientId = clientIdOf(request, form)
    if (
      issued === undefined ||
      form.grant_type !== 'authorization_code' ||
      issued.redirect_uri !== form.redirect_uri ||
      issued.code_challenge !== challenge ||
      issued.client_id !== clientId
    ) {
      sendJson(response, 400, { error: 'invalid_grant' }, { 'cache-control': 'no-store' })
      return
    }
    codes.delete(form.code ?? '')
    const now = Math.floor(Date.now() / 1000)
    const tamper = options.idToken ?? {}
    const claims: Record<string, unknown> = {
      iss: `${origin}/`,
      sub: 'user-1',
      aud: issued.client_id,
      iat: now,
      exp: now + 300,
      ...(issued.nonce === undefined ? {} : { nonce: issued.nonce }),
    }
    const patch = typeof tamper.claims === 'function' ? tamper.claims(origin) : tamper.claims
    for (const [name, value] of Object.entries(patch ?? {})) {
      if (value === undefined) delete claims[name]
      else claims[name] = value
    }
    const body: Record<string, unknown> = {
      access_token: `opaque-${randomBytes(16).toString('base64url')}`,
      token_type: 'Bearer',
      expires_in: 3600,
      ...options.tokenExtra,
    }
    if (tamper.omit !== true) body.id_token = await signIdToken(claims, tamper, k)
    sendJson(response, 200, body, { 'cache-control': 'no-store' })
  }

  const server: HostileServer = {
    origin: '',
    issuer: '',
    port: 0,
    requests,
    codes,
    count: (method, pathname) =>
      requests.filter((r) => r.method === method && r.pathname === pathname).length,
    metadata,
    jwks: () => ({ keys: [k.publicJwk] }),
    close: () =>
      new Promise((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
        for (const socket of sockets) socket.destroy()
      }),
  }

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', origin)
    const body = request.method === 'POST' ? await readBody(request) : ''
    const isForm = /application\/x-www-form-urlencoded/iu.test(
      request.headers['content-type'] ?? '',
    )
    const form = isForm ? Object.fromEntries(new URLSearchParams(body)) : {}
    requests.push({
      method: request.method ?? '',
      path: request.url ?? '',
      pathname: url.pathname,
      headers: request.headers,
      form,
      body,
    })
    const route = `${request.method} ${url.pathname}`
    if (route === 'GET /.well-known/openid-configuration') {
      if (options.discovery !== undefined) return options.discovery(request, response, server)
      return sendJson(response, 200, metadata())
    }
    if (route === 'GET /.well-known/jwks.json') {
      if (options.jwks !== undefined) return options.jwks(request, response, server)
      return sendJson(response, 200, server.jwks())
    }
    if (route === 'POST /oauth/par' && options.par !== undefined) {
      return options.par(request, response, server)
    }
    if (route === 'POST /oauth/token') {
      if (options.token !== undefined) return options.token(request, response, server)
      await options.tokenGate
      return token(request, response, form)
    }
    // Any GET that is not one of the above is the authorization endpoint, so a metadata
    // document can point authorization_endpoint at an odd path on this server.
    if (request.method === 'GET' && url.searchParams.has('redirect_uri')) {
      return authorize(url, response)
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
  }

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' })
      response.end(String(error))
    })
  }
  const http: Server =
    options.tls === undefined
      ? createHttpServer(listener)
      : createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener)
  http.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  http.on('clientError', (_error, socket) => socket.destroy())
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  origin = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`
  server.origin = origin
  server.issuer = `${origin}/`
  server.port = port
  return server
}

/**
 * A JARM response JWT (issue 16) signed with the server's published key, or made wrong: signed
 * with an unpublished key, or unsecured (`alg: none`).
 */
export async function signJarm(
  claims: Record<string, unknown>,
  signWith: 'published' | 'other-key' | 'none' = 'published',
): Promise<string> {
  const k = await sharedKeys()
  if (signWith === 'none') {
    const segment = (value: unknown): string =>
      Buffer.from(JSON.stringify(value)).toString('base64url')
    return `${segment({ alg: 'none' })}.${segment(claims)}.`
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: KID })
    .sign(signWith === 'published' ? k.privateKey : k.otherKey)
}

// Running `pkce login` against a hostile server.

/** The scripted browser, by absolute path so the CLI may run in any directory. */
export const FOLLOW_REDIRECTS = fileURLToPath(new URL('./follow-redirects.mjs', import.meta.url))
export const BROWSER_COMMAND = `node "${FOLLOW_REDIRECTS}"`

export interface CallbackPage {
  status: number
  headers: Record<string, string>
  body: string
}

export interface LoginRun extends CliRun {
  server: HostileServer
  /** The `--json` document on stdout, when the run had `--json`. */
  doc: Record<string, unknown> & { error?: Record<string, unknown> }
  /** One entry per time the browser command ran, with its argv. */
  browserRuns: { argv: string[] }[]
  /** The pages the loopback listener answered the scripted browser's callback with. */
  pages: CallbackPage[]
  /** The working directory the CLI ran in, emptied afterwards; its entries before removal. */
  cwdEntries: string[]
}

export interface LoginRunOptions extends StartCliOptions {
  /** `--json` is on unless this is false. */
  json?: boolean
  /** Replace the default `--browser` with these flags (e.g. `['--no-browser']`). */
  browser?: string[]
  /** Talks to the running CLI (e.g. calls the loopback itself) while the test waits for it. */
  during?: (cli: CliProcess, server: HostileServer) => Promise<void>
  /** Use this server instead of starting one from the options. */
  server?: HostileServer
}

/**
 * Starts a hostile server, runs `pkce login` against it with the scripted browser in a fresh
 * working directory, and closes the server. Defaults keep every wait short.
 */
export async function loginAgainst(
  hostile: HostileOptions,
  args: string[] = [],
  options: LoginRunOptions = {},
): Promise<LoginRun> {
  const server = options.server ?? (await startHostileServer(hostile))
  const cwd = await mkdtemp(join(tmpdir(), 'pkce-hostile-'))
  const browserLog = join(cwd, '.browser-log')
  try {
    const cli = startCli(
      [
        'login',
        '--issuer',
        server.issuer,
        '--client-id',
        'c1',
        '--port',
        '0',
        ...(options.json === false ? [] : ['--json']),
        ...(options.browser ?? ['--browser', BROWSER_COMMAND]),
        '--http-timeout',
        '5',
        '--timeout',
        '15',
        ...args,
      ],
      {
        ...options,
        cwd: options.cwd ?? cwd,
        env: { HOSTILE_BROWSER_LOG: browserLog, ...options.env },
      },
    )
    await options.during?.(cli, server)
    const run = await cli.done
    const entries = await browserLogEntries(browserLog)
    const browserRuns = entries.flatMap((e) => (e.argv === undefined ? [] : [{ argv: e.argv }]))
    const pages = entries.flatMap((e) => (e.page === undefined ? [] : [e.page]))
    const cwdEntries = (await readdir(cwd)).filter((name) => name !== '.browser-log')
    const doc = options.json === false || run.stdout === '' ? {} : jsonOf(run)
    return { ...run, server, doc, browserRuns, pages, cwdEntries }
  } finally {
    if (options.server === undefined) await server.close()
    // The scripted browser outlives the CLI by a moment (it logs the callback page after the
    // CLI has answered it), so the directory can gain a file while it is being removed.
    await rm(cwd, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
  }
}

type BrowserLogEntry = { argv?: string[]; page?: CallbackPage; done?: true }

/**
 * The scripted browser's log once every browser that started has finished (it can outlive the
 * CLI by a moment, still writing the callback page), or after 2 s if one never does.
 */
async function browserLogEntries(browserLog: string): Promise<BrowserLogEntry[]> {
  const deadline = Date.now() + 2_000
  for (;;) {
    const log = await readFile(browserLog, 'utf8').catch(() => '')
    const entries = log
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as BrowserLogEntry)
    const started = entries.filter((entry) => entry.argv !== undefined).length
    const done = entries.filter((entry) => entry.done === true).length
    if (done >= started || Date.now() > deadline) return entries
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * The common shape of a refused run: the exit code, the `--json` error code and message (exact,
 * or a pattern), and no stack trace on stderr.
 */
export function expectFailure(
  run: LoginRun,
  exit: number,
  code: string,
  message: string | RegExp,
): Record<string, unknown> {
  expect({ exit: run.code, code: run.doc.error?.code }).toEqual({ exit, code })
  if (typeof message === 'string') expect(run.doc.error?.message).toBe(message)
  else expect(run.doc.error?.message).toMatch(message)
  expect(run.doc.ok).toBe(false)
  expect(run.stderr).not.toMatch(STACK_FRAME)
  expect(run.timedOut).toBe(false)
  return run.doc.error ?? {}
}
