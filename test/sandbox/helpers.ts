import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import type { JWK } from 'jose'
import { fetch } from 'undici'
import type { Dispatcher } from 'undici'
import type { Sandbox } from '../../src/sandbox/tenant.js'

export const CALLBACK_BODY = 'callback received'

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
