import { createPublicKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { JSONWebKeySet, JWK, JWTPayload, ProtectedHeaderParameters } from 'jose'
import type { Ctx } from '../context.js'
import { CliError, isCliError } from '../errors.js'
import { curveAlgorithm, RSA_ALGORITHMS } from '../jwt/algorithms.js'
import { KEY_HEADERS } from '../jwt/decode.js'
import type { DecodedToken } from '../jwt/decode.js'
import { cachedJwks, fetchIssuerJwks } from '../jwt/jwks-source.js'
import { CheckList, verifyJwt } from '../jwt/verify.js'
import type { Check, CheckCodes, JwksSource } from '../jwt/verify.js'
import { discover } from '../oauth/discovery.js'
import { checkedServerUrl } from '../oauth/endpoint.js'
import type { Http } from '../oauth/http.js'
import { jwksRequest, processJwksResponse } from '../oauth/jwks.js'
import { isPlainObject } from '../oauth/response.js'
import { excerpt } from '../sanitize.js'
import type { HttpSettings } from './http-settings.js'
import { readTextFile } from './inputs.js'

// `pkce decode --verify`: where keys come from and how each token is checked against them. Loaded
// only when verifying, so a plain decode pays for none of it.

/** Where `--verify` takes keys from; never from the token's own `jku`, `x5u`, `jwk` or `x5c`. */
export type KeySource =
  | { kind: 'jwks_uri'; url: URL }
  | { kind: 'jwks_file'; path: string }
  | { kind: 'key_file'; path: string }
  /** The issuer's `jwks_uri` through discovery: `--issuer`, else the token's `iss`. */
  | { kind: 'discovery' }

export interface VerifySettings {
  keys: KeySource
  /** `--issuer`: compared exactly with `iss`, and the issuer discovered when no key flag is given. */
  issuer: string | undefined
  audience: string | undefined
  clockToleranceSeconds: number
  http: HttpSettings
}

/** Check names that raise something more precise than `token_invalid`. */
const DECODE_CODES: CheckCodes = {
  default: 'token_invalid',
  key: 'no_matching_key',
  key_size: 'weak_key',
}

const JWS_ALGORITHM = /^(?:(?:RS|PS|ES)(?:256|384|512)|EdDSA|Ed25519|ES256K)$/u

/**
 * The JWS algorithms keys may verify: each key's own `alg`, else those its type and curve
 * support. Never `none`, never HMAC: a public key is not a shared secret (security.md IT-2).
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 */
function allowedAlgorithms(jwks: JSONWebKeySet): string[] {
  const algorithms = new Set<string>()
  for (const key of jwks.keys) {
    if (key.use !== undefined && key.use !== 'sig') continue
    if (typeof key.alg === 'string') {
      if (JWS_ALGORITHM.test(key.alg)) algorithms.add(key.alg)
    } else if (key.kty === 'RSA') {
      for (const alg of RSA_ALGORITHMS) algorithms.add(alg)
    } else if (key.kty === 'EC') {
      const alg = curveAlgorithm(key.crv)
      if (alg !== undefined) algorithms.add(alg)
    } else if (key.kty === 'OKP' && (key.crv === 'Ed25519' || key.crv === 'Ed448')) {
      algorithms.add('EdDSA')
      if (key.crv === 'Ed25519') algorithms.add('Ed25519')
    }
  }
  return [...algorithms]
}

function parseJsonFile(text: string, flag: string, path: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new CliError('usage_error', `${flag} ${path} is not JSON`)
  }
  if (!isPlainObject(value)) {
    throw new CliError('usage_error', `${flag} ${path} is not a JSON object`)
  }
  return value
}

/** The public half of a JWK (a private one is reduced to it), keeping `kid`, `alg` and `use`. */
function publicJwk(jwk: Record<string, unknown>, where: string): JWK {
  if (jwk.kty === 'oct') {
    throw new CliError('usage_error', `${where} is a symmetric (oct) key`, {
      hint: 'pkce verifies with public keys only, never HMAC with a shared secret',
    })
  }
  if (typeof jwk.alg === 'string' && !JWS_ALGORITHM.test(jwk.alg)) {
    throw new CliError(
      'usage_error',
      `${where} is for alg ${excerpt(jwk.alg, 40)}, not a signature algorithm pkce verifies`,
    )
  }
  let key: KeyObject
  try {
    key = createPublicKey({ key: jwk as never, format: 'jwk' })
  } catch {
    throw new CliError('usage_error', `${where} is not a usable RSA, EC or OKP key`)
  }
  const kept: JWK = { ...(key.export({ format: 'jwk' }) as JWK) }
  for (const member of ['kid', 'alg', 'use'] as const) {
    const value = jwk[member]
    if (typeof value === 'string') kept[member] = value
  }
  return kept
}

/** `--key-file`: a PEM public key, certificate or private key, a JWK, or a JWKS. */
async function readKeyFile(path: string): Promise<JSONWebKeySet> {
  const text = await readTextFile(path, '--key-file')
  if (text.trimStart().startsWith('{')) {
    const json = parseJsonFile(text, '--key-file', path)
    if (Array.isArray(json.keys)) return readJwks(json, path)
    return { keys: [publicJwk(json, `--key-file ${path}`)] }
  }
  let key: KeyObject
  try {
    key = createPublicKey(text)
  } catch {
    throw new CliError('usage_error', `--key-file ${path} is not a PEM key, a certificate or a JWK`)
  }
  try {
    return { keys: [key.export({ format: 'jwk' })] }
  } catch {
    throw new CliError(
      'usage_error',
      `--key-file ${path}: ${key.asymmetricKeyType ?? 'this'} keys are not supported`,
      {
        hint: 'use an RSA, EC (P-256/384/521) or Ed25519 key',
      },
    )
  }
}

/**
 * A local JWKS: keys that are not usable public keys are skipped rather than failing the set, and
 * private members are dropped (security.md MD-3).
 */
function readJwks(json: Record<string, unknown>, path: string): JSONWebKeySet {
  if (!Array.isArray(json.keys)) {
    throw new CliError('usage_error', `--jwks-file ${path} has no "keys" array`)
  }
  const keys: JWK[] = []
  for (const key of json.keys as unknown[]) {
    if (!isPlainObject(key)) continue
    try {
      keys.push(publicJwk(key, path))
    } catch (error) {
      if (!isCliError(error)) throw error
    }
  }
  return { keys }
}

/**
 * The key the user names is the key: a key-file key without a `kid` takes the token's, which
 * jose would otherwise hold against it. A JWKS keeps exact `kid` matching (security.md MD-4).
 */
function adoptKid(jwks: JSONWebKeySet, kid: unknown): JSONWebKeySet {
  if (typeof kid !== 'string') return jwks
  return { keys: jwks.keys.map((key) => (key.kid === undefined ? { ...key, kid } : key)) }
}

interface Keys {
  keys: JwksSource
  /** The issuer the token must name, if one is known. */
  issuer: string | undefined
  /** The plain-http loopback URL the keys come from, marked in the output (security.md TL-3). */
  plainHttp: string | undefined
}

/** Finds keys for each token, sharing files, fetches and discoveries across the run. */
function createKeyring(settings: VerifySettings, ctx: Ctx) {
  const sources = new Map<string, JwksSource>()
  let http: Promise<Http> | undefined
  const getHttp = (): Promise<Http> => {
    http ??= import('./http-settings.js').then(({ createCommandHttp }) =>
      createCommandHttp(settings.http, ctx),
    )
    return http
  }
  const fromUri = (url: URL): JwksSource =>
    cachedJwks(async () => {
      ctx.reporter.step(`fetching the JWKS from ${url.href}`)
      return processJwksResponse(await jwksRequest(url.href, await getHttp()))
    })
  const cached = (key: string, make: () => JwksSource): JwksSource => {
    let source = sources.get(key)
    if (source === undefined) {
      source = make()
      sources.set(key, source)
    }
    return source
  }
  const once = (load: () => Promise<JSONWebKeySet>): JwksSource => {
    let loaded: Promise<JSONWebKeySet> | undefined
    return () => (loaded ??= load())
  }

  return (
    { header, payload }: { header: ProtectedHeaderParameters; payload: JWTPayload },
    list: CheckList,
  ): Keys => {
    const source = settings.keys
    switch (source.kind) {
      case 'key_file': {
        const file = cached('key_file', () => once(() => readKeyFile(source.path)))
        return {
          keys: async (refresh) => adoptKid(await file(refresh), header.kid),
          issuer: settings.issuer,
          plainHttp: undefined,
        }
      }
      case 'jwks_file':
        return {
          keys: cached('jwks_file', () =>
            once(async () => {
              const text = await readTextFile(source.path, '--jwks-file')
              return readJwks(parseJsonFile(text, '--jwks-file', source.path), source.path)
            }),
          ),
          issuer: settings.issuer,
          plainHttp: undefined,
        }
      case 'jwks_uri':
        return {
          keys: cached(`uri ${source.url.href}`, () => fromUri(source.url)),
          issuer: settings.issuer,
          plainHttp: source.url.protocol === 'http:' ? source.url.href : undefined,
        }
      case 'discovery':
        break
    }
    const issuer = settings.issuer ?? payload.iss
    const hint = 'pass --issuer <url>, or the keys: --jwks-uri, --jwks-file or --key-file'
    if (typeof issuer !== 'string')
      list.fail('iss', 'the token has no iss, so its keys cannot be discovered', hint)
    let url: URL | undefined
    try {
      // The rule for every server URL: https, or plain http on a loopback host (security.md TL-3).
      url = checkedServerUrl(issuer, 'iss')
    } catch {
      url = undefined
    }
    if (url === undefined) {
      list.fail(
        'iss',
        `iss ${excerpt(JSON.stringify(issuer), 120)} is not an https URL, so its keys cannot be discovered`,
        hint,
      )
    }
    const keys = cached(`issuer ${issuer}`, () =>
      cachedJwks(async () => {
        ctx.reporter.step(`discovering ${excerpt(issuer)}`)
        const as = await discover(issuer, await getHttp())
        return fetchIssuerJwks(as, await getHttp(), (jwksUri) =>
          ctx.reporter.step(`fetching the JWKS from ${excerpt(jwksUri)}`),
        )
      }),
    )
    return { keys, issuer, plainHttp: url.protocol === 'http:' ? url.href : undefined }
  }
}

type Keyring = ReturnType<typeof createKeyring>

/** Where one token's checks and warnings go. */
export interface VerifyReport {
  checks: Check[]
  warn: (code: string, message: string) => void
}

/** Verifies one decoded token; a failed check throws, after it is in the report. */
export type Verifier = (token: string, decoded: DecodedToken, report: VerifyReport) => Promise<void>

/** The run's verifier: one keyring, so files, fetches and discoveries are shared across tokens. */
export function createVerifier(settings: VerifySettings, ctx: Ctx): Verifier {
  const keyring = createKeyring(settings, ctx)
  return (token, decoded, report) =>
    verifyDecoded(token, decoded, settings, keyring, { ctx, ...report })
}

async function verifyDecoded(
  token: string,
  decoded: DecodedToken,
  settings: VerifySettings,
  keyring: Keyring,
  context: VerifyReport & { ctx: Ctx },
): Promise<void> {
  const list: CheckList = new CheckList(context.checks, DECODE_CODES, 'token')
  if (decoded.kind === 'opaque') {
    list.fail('format', 'the token is opaque, not a JWT: there is no signature to verify')
  }
  if (decoded.kind === 'jwe') {
    list.fail('format', 'the token is encrypted (JWE); pkce verifies signed JWTs only')
  }
  if (decoded.kind === 'unsecured') {
    list.fail(
      'alg',
      'alg "none": the token has no signature, so nothing can be verified',
      'RFC 8725 §3.2: never accept "none"',
    )
  }
  const { header, payload } = decoded
  for (const name of KEY_HEADERS) {
    if (header[name] !== undefined) {
      context.warn(
        'key_header_ignored',
        `the token's ${name} header was ignored: keys come only from --jwks-uri, --jwks-file, --key-file or discovery`,
      )
    }
  }
  if (header.typ !== undefined && typeof header.typ !== 'string') {
    list.fail('typ', 'typ is not a string')
  }
  const { keys, issuer, plainHttp } = keyring({ header, payload }, list)
  if (plainHttp !== undefined) {
    context.warn(
      'insecure_loopback_issuer',
      `keys come over plain http from the loopback host ${excerpt(plainHttp)}`,
    )
  }
  if (settings.issuer === undefined && settings.keys.kind === 'discovery') {
    context.warn(
      'issuer_from_token',
      `the keys were found through the token's own iss (${excerpt(issuer ?? '')}); pass --issuer to pin the issuer you trust`,
    )
  }
  const algorithms = allowedAlgorithms(await keys(false))
  if (algorithms.length === 0) {
    list.fail(
      'key',
      'no usable public signing key (RSA, EC or OKP) was found',
      'check the JWKS or key file',
    )
  }
  try {
    await verifyJwt(
      token,
      header,
      payload,
      {
        keys,
        algorithms,
        issuer,
        audience: settings.audience,
        now: context.ctx.now(),
        clockToleranceSeconds: settings.clockToleranceSeconds,
        // No context says which kind of JWT this must be, so any typ is accepted.
        typ: [typeof header.typ === 'string' ? header.typ.toLowerCase() : undefined],
        requiredClaims: [],
      },
      list,
    )
  } catch (error) {
    if (isCliError(error)) throw error
    // jose throws a TypeError for keys it refuses, such as RSA under 2048 bits (security.md MD-5).
    list.fail(
      'key',
      `the key cannot verify this token: ${excerpt(String((error as Error).message ?? error), 160)}`,
    )
  }
}
