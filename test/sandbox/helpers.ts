import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
} from 'jose'
import type { JSONWebKeySet, JWK } from 'jose'
import { fetch } from 'undici'
import type { Dispatcher } from 'undici'
import { afterAll, beforeAll, expect, vi } from 'vitest'
import type { SandboxOptionsInput } from '../../src/sandbox/options.js'
import { driveAuthorization, type DriveOptions } from '../../src/sandbox/scripted-agent.js'
import { startSandbox, type Sandbox } from '../../src/sandbox/tenant.js'

export const CALLBACK_BODY = 'callback received'
/** `subjectFor('user@sandbox.test')`: the default user's `sub`. */
export const USER_SUB = 'auth0|6d02167bbb656aab8218abfb'

/**
 * Starts something before the tests of the enclosing block and closes it after them. The object
 * returned reads through to what started, so tests use it like a plain variable.
 */
function fixture<T extends { close(): Promise<void> }>(start: () => Promise<T>): T {
  let current: T | undefined
  beforeAll(async () => {
    current = await start()
  })
  afterAll(async () => {
    await current?.close()
  })
  return new Proxy({} as T, {
    get(_target, key) {
      if (current === undefined) throw new Error('used outside the tests of its block')
      return Reflect.get(current, key) as unknown
    },
  })
}

/**
 * A sandbox tenant for the tests of the enclosing block; `options` may be a function, for options
 * that need preparing first (a config file to write).
 */
export function withSandbox(
  options: SandboxOptionsInput | (() => Promise<SandboxOptionsInput>) = {},
  log?: (line: string) => void,
): Sandbox {
  return fixture(async () =>
    startSandbox(typeof options === 'function' ? await options() : options, log),
  )
}

/** A callback listener for the tests of the enclosing block. */
export function withCallbackListener(): CallbackListener {
  return fixture(startCallbackListener)
}

/** Spies on every console method: oidc-provider and the sandbox must print nothing. */
export function spyOnConsole() {
  return (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
    vi.spyOn(console, method),
  )
}

export interface CallbackListener {
  port: number
  /** `http://127.0.0.1:PORT/callback` */
  redirectUri: string
  /** Every request the listener received. */
  calls: URL[]
  close(): Promise<void>
}

/** A stand-in for the CLI's loopback listener: records each request and answers 200. */
export async function startCallbackListener(): Promise<CallbackListener> {
  const calls: URL[] = []
  const server = createServer((req, res) => {
    calls.push(new URL(req.url ?? '/', 'http://127.0.0.1'))
    res.writeHead(200, { 'content-type': 'text/plain' }).end(CALLBACK_BODY)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    redirectUri: `http://127.0.0.1:${port}/callback`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

export interface Pkce {
  verifier: string
  challenge: string
}

/** RFC 7636 §4.1 and §4.2: 32 random bytes, S256. */
export function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export function authorizationUrl(sandbox: Sandbox, params: Record<string, string>): string {
  const url = new URL('/authorize', sandbox.issuer)
  url.search = new URLSearchParams(params).toString()
  return url.href
}

/** The usual authorization request parameters for a code flow with PKCE. */
export function codeFlowParams(
  clientId: string,
  redirectUri: string,
  pkce: Pkce,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    state: 'state-123',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...extra,
  }
}

export interface JsonResponse {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
  dispatcher?: Dispatcher,
): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
    ...(dispatcher ? { dispatcher } : {}),
  })
  return {
    status: response.status,
    headers: response.headers as unknown as Headers,
    body: (await response.json()) as Record<string, unknown>,
  }
}

export async function getJson(url: string, dispatcher?: Dispatcher): Promise<JsonResponse> {
  const response = await fetch(url, { redirect: 'manual', ...(dispatcher ? { dispatcher } : {}) })
  return {
    status: response.status,
    headers: response.headers as unknown as Headers,
    body: (await response.json()) as Record<string, unknown>,
  }
}

export function tokenEndpoint(sandbox: Sandbox): string {
  return `${sandbox.url}/oauth/token`
}

/** The code from a callback URL, failing loudly when the callback carries an error instead. */
export function codeFrom(callbackUrl: string): string {
  const params = new URL(callbackUrl).searchParams
  const code = params.get('code')
  if (code === null) {
    throw new Error(
      `no code in the callback: ${params.get('error')} ${params.get('error_description')}`,
    )
  }
  return code
}

/** Method and path of each recorded request, interaction ids replaced by `:uid`. */
export function requestLines(sandbox: Sandbox): string[] {
  return sandbox.requests.map(
    (request) =>
      `${request.method} ${request.path.replace(/\/(u\/\w+|authorize)\/[\w-]+$/, '/$1/:uid')}`,
  )
}

export interface DpopKey {
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
  publicJwk: JWK
  thumbprint: string
}

export async function createDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const publicJwk = await exportJWK(publicKey)
  return { privateKey, publicJwk, thumbprint: await calculateJwkThumbprint(publicJwk) }
}

/** RFC 9449 §4.2: a DPoP proof for one request. */
export async function dpopProof(
  key: DpopKey,
  htm: string,
  htu: string,
  nonce?: string,
): Promise<string> {
  return new SignJWT({ htm, htu, ...(nonce === undefined ? {} : { nonce }) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk })
    .setIssuedAt()
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key.privateKey)
}

/**
 * A callback listener for the tests of the enclosing block, and authorization and token requests
 * that use it as their redirect URI.
 */
export function withCodeFlow() {
  const callback = withCallbackListener()
  const codeFlow = (clientId: string, extra: Record<string, string> = {}) =>
    codeFlowParams(clientId, callback.redirectUri, createPkce(), extra)

  function codeGrant(clientId: string, code: string, verifier: string): Record<string, string> {
    return {
      grant_type: 'authorization_code',
      code,
      redirect_uri: callback.redirectUri,
      client_id: clientId,
      code_verifier: verifier,
    }
  }

  /** Runs the front channel with the scripted agent and returns the authorization code. */
  async function authorize(
    sandbox: Sandbox,
    clientId: string,
    extra: Record<string, string> = {},
  ): Promise<{ code: string; verifier: string; callbackUrl: URL }> {
    const pkce = createPkce()
    const result = await driveAuthorization(
      authorizationUrl(sandbox, codeFlowParams(clientId, callback.redirectUri, pkce, extra)),
    )
    expect(result.status).toBe(200)
    expect(result.body).toBe(CALLBACK_BODY)
    return {
      code: codeFrom(result.callbackUrl),
      verifier: pkce.verifier,
      callbackUrl: new URL(result.callbackUrl),
    }
  }

  return { callback, codeFlow, codeGrant, authorize }
}

/** Runs the front channel and returns the query of the callback it ended on. */
export async function callbackQuery(
  sandbox: Sandbox,
  params: Record<string, string>,
  options: DriveOptions = {},
): Promise<Record<string, string>> {
  const result = await driveAuthorization(authorizationUrl(sandbox, params), options)
  expect(result.status).toBe(200)
  return Object.fromEntries(new URL(result.callbackUrl).searchParams)
}

/** The tenant's published signing keys, to verify its tokens with. */
export async function jwks(sandbox: Sandbox) {
  const { body } = await getJson(`${sandbox.url}/.well-known/jwks.json`)
  return createLocalJWKSet(body as unknown as JSONWebKeySet)
}
