import { createHash } from 'node:crypto'
import type { CryptoKey, JWK, KeyObject } from 'jose'
import { CliError } from '../errors.js'
import type { Stage } from '../errors.js'
import { publicPart } from '../jwt/algorithms.js'
import { isJsonContentType } from './response.js'
import { isResourceUseDpopNonce } from './www-authenticate.js'

/** The key a run binds its tokens to. The private half is never exported or printed (DP-1). */
export interface DpopKey {
  alg: string
  privateKey: CryptoKey | KeyObject
  publicJwk: JWK
  /** RFC 7638 SHA-256 thumbprint of `publicJwk`, sent as `dpop_jkt`. */
  jkt: string
}

/** What `--json` shows of a proof: its header and claims, never a key's private part. */
export interface DpopProofRecord {
  header: { typ: 'dpop+jwt'; alg: string; jwk: JWK }
  claims: { jti: string; htm: string; htu: string; iat: number; nonce?: string; ath?: string }
}

/**
 * A fresh asymmetric key pair for this run (ES256 by default), or a given private JWK, with its
 * public JWK and thumbprint. The private key is not extractable unless asked for
 * (docs/security.md DP-1, FS-2).
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 */
export async function createDpopKey(
  alg: string,
  given?: JWK,
  extractable = false,
): Promise<DpopKey> {
  const { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } = await import('jose')
  let privateKey: CryptoKey | KeyObject
  let publicJwk: JWK
  if (given === undefined) {
    // Extractable only for `pkce authorize`, whose state file is the one place the key is kept.
    const pair = await generateKeyPair(alg, { extractable })
    privateKey = pair.privateKey
    publicJwk = publicPart(await exportJWK(pair.publicKey))
  } else {
    privateKey = (await importJWK(given, alg)) as CryptoKey | KeyObject
    publicJwk = publicPart(given)
  }
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') }
}

/**
 * Signs one DPoP proof: `typ: dpop+jwt`, the public key in `jwk`, and claims `jti` (fresh per
 * request, retries included), `htm`, `htu` without query or fragment, `iat`, the server's `nonce`
 * when it gave one, and `ath` when presenting an access token.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export async function createDpopProof(
  key: DpopKey,
  request: {
    method: string
    url: URL
    nonce: string | undefined
    accessToken?: string | undefined
  },
  now: Date,
  jti: string,
): Promise<{ proof: string; record: DpopProofRecord }> {
  const { SignJWT } = await import('jose')
  const claims: DpopProofRecord['claims'] = {
    jti,
    htm: request.method,
    htu: `${request.url.origin}${request.url.pathname}`,
    iat: Math.floor(now.getTime() / 1000),
  }
  if (request.nonce !== undefined) claims.nonce = request.nonce
  if (request.accessToken !== undefined) {
    claims.ath = createHash('sha256').update(request.accessToken, 'ascii').digest('base64url')
  }
  const header = { typ: 'dpop+jwt' as const, alg: key.alg, jwk: key.publicJwk }
  const proof = await new SignJWT({ ...claims }).setProtectedHeader(header).sign(key.privateKey)
  return { proof, record: { header, claims } }
}

/** Remembers the latest `DPoP-Nonce` per origin, from every response (RFC 9449 §8.2). */
export class DpopNonces {
  readonly #byOrigin = new Map<string, string>()

  get(url: URL): string | undefined {
    return this.#byOrigin.get(url.origin)
  }

  remember(url: URL, response: Response): void {
    const nonce = response.headers.get('dpop-nonce')
    if (nonce !== null && nonce !== '') this.#byOrigin.set(url.origin, nonce)
  }
}

/** Whether a server asked for a DPoP nonce: `400 {"error":"use_dpop_nonce"}` (RFC 9449 §8), or a resource server's `401` challenge (§9). */
export async function isUseDpopNonce(response: Response): Promise<boolean> {
  // RFC 9449 §9: a resource server (UserInfo) asks with 401 and a DPoP challenge.
  if (isResourceUseDpopNonce(response)) return true
  if (response.status !== 400 || !isJsonContentType(response.headers.get('content-type')))
    return false
  try {
    const body = (await response.clone().json()) as { error?: unknown }
    return body.error === 'use_dpop_nonce'
  } catch {
    return false
  }
}

export interface DpopSendResult {
  response: Response
  proofs: DpopProofRecord[]
  nonceRetries: number
}

/**
 * Sends a request with a DPoP proof and retries exactly once when the server demands a nonce,
 * with a new proof carrying it. A second demand, or a demand with a missing or unchanged nonce,
 * fails (security.md DP-4, DP-5). Never more than two requests.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 */
export async function sendWithDpop(
  key: DpopKey,
  nonces: DpopNonces,
  target: { method: string; url: URL; stage: Stage; accessToken?: string },
  send: (proof: string) => Promise<Response>,
  proofClock: { now: () => Date; jti: () => string },
): Promise<DpopSendResult> {
  const proofs: DpopProofRecord[] = []
  const attempt = async (): Promise<{ response: Response; nonce: string | undefined }> => {
    const nonce = nonces.get(target.url)
    const { proof, record } = await createDpopProof(
      key,
      { method: target.method, url: target.url, nonce, accessToken: target.accessToken },
      proofClock.now(),
      proofClock.jti(),
    )
    proofs.push(record)
    const response = await send(proof)
    nonces.remember(target.url, response)
    return { response, nonce }
  }
  const first = await attempt()
  if (!(await isUseDpopNonce(first.response)))
    return { response: first.response, proofs, nonceRetries: 0 }
  const offered = nonces.get(target.url)
  if (offered === undefined || offered === first.nonce) {
    throw new CliError(
      'dpop_nonce_invalid',
      `${target.url.origin}${target.url.pathname} demanded a DPoP nonce but sent ${offered === undefined ? 'no DPoP-Nonce header' : 'the same nonce again'}`,
      {
        stage: target.stage,
        status: 400,
        hint: 'RFC 9449 §8: the server must send a new DPoP-Nonce with use_dpop_nonce',
      },
    )
  }
  const second = await attempt()
  if (await isUseDpopNonce(second.response)) {
    throw new CliError(
      'dpop_nonce_loop',
      `${target.url.origin}${target.url.pathname} demanded a new DPoP nonce again after the one retry`,
      {
        stage: target.stage,
        status: 400,
        oauth: { error: 'use_dpop_nonce' },
        hint: 'pkce retries once with the nonce the server sent; a server that keeps asking is misconfigured',
      },
    )
  }
  return { response: second.response, proofs, nonceRetries: 1 }
}
