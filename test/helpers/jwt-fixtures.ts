import { sign as rawSign } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import type { JWK, JWTHeaderParameters } from 'jose'
import { testCtx } from './test-ctx.js'
import type { TestCtxOptions } from './test-ctx.js'

// Tokens, keys and key files for the decode and JWT tests, and the in-process CLI runner their
// CLI-level cases use.

/** testCtx's clock, 2026-11-24T12:00:00Z, in seconds. */
export const NOW_S = 1_795_521_600
export const ISSUER = 'https://acme.eu.auth0.com/'
export const API = 'https://api.acme.test/'
export const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I'

/** An Auth0-style access token's claims: an API audience, RBAC, an org, a namespaced claim, DPoP. */
export const CLAIMS = {
  iss: ISSUER,
  sub: 'auth0|42',
  aud: [API, `${ISSUER}userinfo`],
  iat: NOW_S - 60,
  exp: NOW_S + 86_340,
  azp: 'abc123',
  scope: 'openid profile read:orders',
  permissions: ['read:orders', 'delete:orders'],
  org_id: 'org_123',
  'https://example.com/roles': ['admin'],
  cnf: { jkt: JKT },
}

/** A pasted opaque token (Auth0's shape without an audience). */
export const OPAQUE = 'KBSxkmG-OcpA6-cg'

export type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>
export type KeyName = 'rsa' | 'other' | 'pss' | 'ec' | 'ed'

export interface TestKeys {
  pairs: Record<KeyName, KeyPair>
  /** Each public key as a JWK with `kid` `<name>-1`. */
  jwks: Record<KeyName, JWK>
  /** {@link CLAIMS} signed RS256 by `rsa`, with `typ` JWT and `kid` rsa-1. */
  rs256: string
}

/** A fresh set: two RSA keys (RS256), one for PS256, a P-256 and an Ed25519 key. */
export async function generateTestKeys(): Promise<TestKeys> {
  const pairs: Record<KeyName, KeyPair> = {
    rsa: await generateKeyPair('RS256', { extractable: true }),
    other: await generateKeyPair('RS256', { extractable: true }),
    pss: await generateKeyPair('PS256', { extractable: true }),
    ec: await generateKeyPair('ES256', { extractable: true }),
    ed: await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true }),
  }
  const jwks = {} as Record<KeyName, JWK>
  for (const [name, pair] of Object.entries(pairs) as [KeyName, KeyPair][]) {
    jwks[name] = { ...(await exportJWK(pair.publicKey)), kid: `${name}-1` }
  }
  const rs256 = await signJwt(CLAIMS, pairs.rsa, { alg: 'RS256', typ: 'JWT', kid: 'rsa-1' })
  return { pairs, jwks, rs256 }
}

/** A JWS over `payload`, with a key pair's private key or an HMAC secret. */
export function signJwt(
  payload: Record<string, unknown>,
  key: KeyPair | Uint8Array,
  header: JWTHeaderParameters,
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader(header)
    .sign(key instanceof Uint8Array ? key : key.privateKey)
}

/** base64url of a string as is, or of anything else as JSON. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  )
}

/** An `alg: none` JWT: empty signature (RFC 7519 §6.1). */
export function unsecured(payload: Record<string, unknown>): string {
  return `${b64({ alg: 'none' })}.${b64(payload)}.`
}

/** An RS256 JWS signed with node:crypto, for keys jose refuses to sign with (RSA under 2048 bits). */
export function signRs256(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  privateKey: KeyObject,
): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${rawSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
}

export interface KeyFiles {
  dir: string
  /** The path of a file in `dir`. */
  file: (name: string) => string
  remove: () => Promise<void>
}

/**
 * Key files in a new temporary folder: `jwks.json` (rsa, pss, ec, ed), `rsa.pub.pem`,
 * `rsa.key.pem`, `rsa.jwk.json`, `private.jwk.json`, `ec.jwk.json`, `other.pub.pem`, and two that
 * are not usable keys: `oct.jwk.json` (a shared secret) and `garbage.pem`.
 */
export async function writeKeyFiles(keys: TestKeys): Promise<KeyFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'pkce-decode-'))
  const file = (name: string): string => join(dir, name)
  const { pairs, jwks } = keys
  await writeFile(
    file('jwks.json'),
    JSON.stringify({ keys: [jwks.rsa, jwks.pss, jwks.ec, jwks.ed] }),
  )
  await writeFile(file('rsa.pub.pem'), await exportSPKI(pairs.rsa.publicKey))
  await writeFile(file('rsa.key.pem'), await exportPKCS8(pairs.rsa.privateKey))
  await writeFile(file('rsa.jwk.json'), JSON.stringify(jwks.rsa))
  await writeFile(file('ec.jwk.json'), JSON.stringify(jwks.ec))
  await writeFile(file('other.pub.pem'), await exportSPKI(pairs.other.publicKey))
  await writeFile(
    file('private.jwk.json'),
    JSON.stringify({ ...(await exportJWK(pairs.rsa.privateKey)), kid: 'rsa-1' }),
  )
  await writeFile(file('oct.jwk.json'), JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }))
  await writeFile(file('garbage.pem'), 'not a key')
  return { dir, file, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** `main(argv)` in process with a test context: exit code, stdout, stderr, reporter events. */
export async function runCli(argv: string[], options: TestCtxOptions = {}) {
  // Loaded on first use, so the unit tests that need only tokens and keys never load the CLI.
  const { main } = await import('../../src/main.js')
  const ctx = testCtx(options)
  const code = await main(argv, ctx)
  return { code, stdout: ctx.stdout(), stderr: ctx.stderr(), events: ctx.events }
}

/** {@link runCli} under `--json`, with stdout parsed. */
export async function runCliJson(argv: string[], options: TestCtxOptions = {}) {
  const result = await runCli(['--json', ...argv], options)
  return { ...result, doc: JSON.parse(result.stdout) as Record<string, unknown> }
}

/** A report's checks as `✓ name: detail` / `✗ name: detail` lines. */
export function checkList(doc: Record<string, unknown>): string[] {
  return (doc.checks as { name: string; ok: boolean; detail: string }[]).map(
    (check) => `${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}`,
  )
}

/** The human report of `rs256` from {@link generateTestKeys}, unverified. */
export const RS256_HUMAN = `
JWS (signed JWT)
  token      eyJhbGciOiJS… (895 chars)
  signature  RS256, 256 bytes, not verified (add --verify)
  status     expires in 23h 59m

Header
  alg  RS256  # signature algorithm: RSA PKCS#1 v1.5 with SHA-256
  typ  JWT    # a JWT
  kid  rsa-1  # key id: which of the issuer keys signed it

Payload
  iss                        https://acme.eu.auth0.com/         # issuer: who made the token
  sub                        auth0|42                           # subject: the user (or client) it is about
  aud                        ["https://api.acme.test/","https://acme.eu.auth0.com/userinfo"]  # audience: who it is for
  iat                        2026-11-24T11:59:00Z (1m ago)      # issued at
  exp                        2026-11-25T11:59:00Z (in 23h 59m)  # expiration time
  azp                        abc123                             # authorized party: the client the token was issued to
  scope                      openid profile read:orders         # granted scopes, space-separated
  permissions                ["read:orders","delete:orders"]    # Auth0 RBAC permissions granted for this API
  org_id                     org_123                            # Auth0 organization id
  https://example.com/roles  ["admin"]                          # namespaced custom claim
  cnf                        {"jkt":"${JKT}"}  # confirmation: DPoP-bound; cnf.jkt is the SHA-256 thumbprint of the client DPoP key
`

/** The stderr of a plain decode of one JWS. */
export const NOT_VERIFIED =
  'warning: signature not verified: the claims are what the token says, not proven (add --verify) (signature_not_verified)\n'
