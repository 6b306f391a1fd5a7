import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { JSONWebKeySet, JWTHeaderParameters, JWTPayload } from 'jose'
import { MockAgent } from 'undici'
import { afterEach, beforeEach } from 'vitest'
import { Flow } from '../../src/commands/flow.js'
import { DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'
import { testCtx } from './test-ctx.js'
import type { TestCtx, TestCtxOptions } from './test-ctx.js'

// The authorization server of the command tests: an undici MockAgent that answers for
// https://tenant.test, and the keys that sign its tokens.

export const ORIGIN = 'https://tenant.test'
export const ISSUER = `${ORIGIN}/`
export const JWKS_URI = `${ORIGIN}/.well-known/jwks.json`

/** The metadata every discovery document of the tenant starts from. */
export const METADATA: AuthorizationServer = {
  issuer: ISSUER,
  authorization_endpoint: `${ORIGIN}/authorize`,
  token_endpoint: `${ORIGIN}/oauth/token`,
}

const JSON_HEADERS = { 'content-type': 'application/json' }
const TOKEN_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' }

/** A form POST an endpoint received. */
export interface Received {
  headers: Record<string, string>
  form: URLSearchParams
}

/** What a form endpoint received; both throw until a request came. */
export interface Capture {
  form: () => URLSearchParams
  headers: () => Record<string, string>
}

export interface MockTenant {
  /** This test's agent: a new one for each test, with real connections disabled. */
  readonly agent: MockAgent
  /** A test context that sends through the agent, and a flow over it. */
  setup: (extra?: TestCtxOptions) => { ctx: TestCtx; flow: Flow }
  /** GET /.well-known/openid-configuration: {@link METADATA} (for `origin`) and `metadata`. */
  discovery: (metadata?: Record<string, unknown>, origin?: string) => void
  /** GET {@link JWKS_URI}. */
  jwks: (keys: JSONWebKeySet) => void
  /** POST /oauth/token, answered 200 no-store with `body` (or what it gives for the request). */
  tokenEndpoint: (body: object | ((request: Received) => object)) => Capture
  /** POST a PAR endpoint (default /oauth/par), answered `status` (default 201) with `body`. */
  parEndpoint: (body: object, options?: { status?: number; path?: string }) => Capture
}

/**
 * A MockAgent tenant for each test of the enclosing block: `disableNetConnect()` before it,
 * `assertNoPendingInterceptors()` and close after it.
 */
export function withMockTenant(): MockTenant {
  let current: MockAgent | undefined
  beforeEach(() => {
    current = new MockAgent()
    current.disableNetConnect()
  })
  afterEach(async () => {
    const agent = current
    current = undefined
    try {
      agent?.assertNoPendingInterceptors()
    } finally {
      await agent?.close()
    }
  })

  function agent(): MockAgent {
    if (current === undefined) throw new Error('withMockTenant() used outside a test')
    return current
  }

  function formEndpoint(
    path: string,
    answer: (request: Received) => { status: number; body: object; headers: object },
  ): Capture {
    let received: Received | undefined
    agent()
      .get(ORIGIN)
      .intercept({ path, method: 'POST' })
      .reply((options) => {
        received = {
          headers: headersOf(options),
          form: new URLSearchParams(options.body as string),
        }
        const { status, body, headers } = answer(received)
        return {
          statusCode: status,
          data: JSON.stringify(body),
          responseOptions: { headers: headers as Record<string, string> },
        }
      })
    const got = (): Received => {
      if (received === undefined) throw new Error(`no request to ${path}`)
      return received
    }
    return { form: () => got().form, headers: () => got().headers }
  }

  return {
    get agent() {
      return agent()
    },
    setup: (extra = {}) => {
      const ctx = testCtx({ dispatcher: agent(), ...extra })
      return { ctx, flow: new Flow(DEFAULT_HTTP_SETTINGS, ctx) }
    },
    discovery: (metadata = {}, origin = ORIGIN) => {
      agent()
        .get(origin)
        .intercept({ path: '/.well-known/openid-configuration', method: 'GET' })
        .reply(
          200,
          {
            issuer: `${origin}/`,
            authorization_endpoint: `${origin}/authorize`,
            token_endpoint: `${origin}/oauth/token`,
            ...metadata,
          },
          { headers: JSON_HEADERS },
        )
    },
    jwks: (keys) => {
      agent()
        .get(ORIGIN)
        .intercept({ path: new URL(JWKS_URI).pathname, method: 'GET' })
        .reply(200, keys, { headers: JSON_HEADERS })
    },
    tokenEndpoint: (body) =>
      formEndpoint('/oauth/token', (request) => ({
        status: 200,
        body: typeof body === 'function' ? (body as (request: Received) => object)(request) : body,
        headers: TOKEN_HEADERS,
      })),
    parEndpoint: (body, { status = 201, path = '/oauth/par' } = {}) =>
      formEndpoint(path, () => ({ status, body, headers: JSON_HEADERS })),
  }
}

function headersOf(options: {
  headers?: Headers | Record<string, string> | undefined
}): Record<string, string> {
  const { headers } = options
  if (headers === undefined) return {}
  return headers instanceof Headers ? Object.fromEntries(headers) : { ...headers }
}

export interface Signer {
  /** The public key, as the tenant publishes it: `kid`, `alg` and `use: sig`. */
  jwks: JSONWebKeySet
  /** A JWS over `payload`, with `alg` and `kid` in the header unless `header` overrides them. */
  sign: (payload: JWTPayload, header?: Partial<JWTHeaderParameters>) => Promise<string>
  /** An ID token of the tenant for `aud`: issued now, for `auth0|1`, valid for a minute. */
  idToken: (claims: JWTPayload & { aud: string }) => Promise<string>
}

/** A fresh signing key of the tenant. */
export async function createSigner(alg: 'RS256' | 'ES256', kid = 'k1'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg)
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  const sign = (payload: JWTPayload, header: Partial<JWTHeaderParameters> = {}) =>
    new SignJWT(payload).setProtectedHeader({ alg, kid, ...header }).sign(privateKey)
  return {
    jwks: { keys: [jwk] },
    sign,
    idToken: (claims) => {
      const now = Math.floor(Date.now() / 1000)
      return sign({ iss: ISSUER, sub: 'auth0|1', iat: now, exp: now + 60, ...claims })
    },
  }
}

/**
 * Where a browser lands after signing in: the `redirect_uri` of an authorization request (its URL's
 * query, or a pushed request's form) with a code and the request's `state`.
 */
export function callbackFrom(params: URLSearchParams, code = 'the-code'): URL {
  const callback = new URL(params.get('redirect_uri') ?? '')
  callback.search = new URLSearchParams({ code, state: params.get('state') ?? '' }).toString()
  return callback
}
