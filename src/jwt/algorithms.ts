import type { JWK } from 'jose'

// The JOSE algorithm rules in one place: which JWS algorithms a key signs and verifies with, the
// default among them, how Node's key details translate to JOSE names, and which JWK members are
// public. Key loading, `decode --verify` and DPoP all use these.

/**
 * RSA's JWS algorithms, RSASSA-PKCS1-v1_5 then RSASSA-PSS; RS256 is the default.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 */
export const RSA_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
]

// RFC 7518 §3.4: each ECDSA algorithm is defined on exactly one curve.
const CURVE_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['P-256', 'ES256'],
  ['P-384', 'ES384'],
  ['P-521', 'ES512'],
])

// RFC 8037 §3.1 names the polymorphic EdDSA; RFC 9864 adds the fully specified Ed25519.
const ED25519_ALGORITHMS: readonly string[] = ['EdDSA', 'Ed25519']

// RFC 4492 Appendix A: the SECG/ANSI names OpenSSL (and so Node's `namedCurve`) uses for the NIST
// curves that JOSE calls P-256, P-384 and P-521 (RFC 7518 §6.2.1.1).
const OPENSSL_CURVES: ReadonlyMap<string, string> = new Map([
  ['prime256v1', 'P-256'],
  ['secp384r1', 'P-384'],
  ['secp521r1', 'P-521'],
])

/**
 * Every JWS algorithm pkce signs with (client assertions, DPoP proofs): asymmetric only, never
 * `none` or a MAC.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 */
export const SIGNING_ALGORITHMS: readonly string[] = [
  ...RSA_ALGORITHMS,
  ...CURVE_ALGORITHMS.values(),
  ...ED25519_ALGORITHMS,
]

/**
 * The smallest RSA modulus accepted, for signing and verifying alike.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.3
 */
export const MIN_RSA_BITS = 2048

/**
 * The ECDSA algorithm for a JOSE curve name (`P-384` → `ES384`), or undefined for a curve pkce
 * does not use (secp256k1, or anything that is not a curve name).
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.4
 */
export function curveAlgorithm(crv: unknown): string | undefined {
  return typeof crv === 'string' ? CURVE_ALGORITHMS.get(crv) : undefined
}

/**
 * The JOSE name of a curve Node reports by its OpenSSL name (`secp384r1` → `P-384`).
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.2.1.1
 */
export function joseCurve(namedCurve: string | undefined): string | undefined {
  return namedCurve === undefined ? undefined : OPENSSL_CURVES.get(namedCurve)
}

/**
 * The JWS algorithms a JWK of this `kty` and `crv` signs with, the default first (RS256, ES384 for
 * P-384, EdDSA); empty for a key pkce does not sign with.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc8037#section-3.1
 */
export function jwkAlgorithms(jwk: { kty?: unknown; crv?: unknown }): readonly string[] {
  switch (jwk.kty) {
    case 'RSA':
      return RSA_ALGORITHMS
    case 'EC': {
      const alg = curveAlgorithm(jwk.crv)
      return alg === undefined ? [] : [alg]
    }
    case 'OKP':
      return jwk.crv === 'Ed25519' ? ED25519_ALGORITHMS : []
    default:
      return []
  }
}

/**
 * The same for a node:crypto key, from its `asymmetricKeyType` and `namedCurve`. An `rsa-pss` key
 * (id-RSASSA-PSS, RFC 4055 §1.2) has none: WebCrypto, and so jose, cannot import it.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 */
export function keyObjectAlgorithms(
  keyType: string | undefined,
  namedCurve: string | undefined,
): readonly string[] {
  switch (keyType) {
    case 'rsa':
      return RSA_ALGORITHMS
    case 'ec':
      return jwkAlgorithms({ kty: 'EC', crv: joseCurve(namedCurve) })
    case 'ed25519':
      return ED25519_ALGORITHMS
    default:
      return []
  }
}

// RFC 7518 §6.2.1, §6.3.1 and RFC 8037 §2: the members that make up each key type's public key.
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const

/**
 * Private key members: `d` (EC, OKP, RSA), RSA's CRT values and a symmetric key's `k`. None may
 * leave the process or reach stderr (security.md SO-2, DP-2).
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.3.2
 */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const

/**
 * A JWK's public key alone, without `kid`, `alg`, `use` or any private member.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6
 */
export function publicPart(jwk: JWK): JWK {
  return Object.fromEntries(
    PUBLIC_MEMBERS.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]]),
  )
}
