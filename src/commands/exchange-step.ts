import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import type { Ctx } from '../context.js'
import { CliError, isCliError } from '../errors.js'
import { decodeToken } from '../jwt/decode.js'
import { allowedIdTokenAlgorithms, validateIdToken } from '../jwt/id-token.js'
import { issuerKeys } from '../jwt/jwks-source.js'
import { CheckList, ID_TOKEN_CODES, verifyJwt } from '../jwt/verify.js'
import type { JwksSource } from '../jwt/verify.js'
import type { AuthorizationServer } from '../oauth/discovery.js'
import { authorizationCodeGrant, processTokenResponse, tokenRequest } from '../oauth/token.js'
import type { TokenResponse } from '../oauth/token.js'
import { excerpt, sanitize } from '../sanitize.js'
import { wantsIdToken } from './authorize-step.js'
import type { Target } from './authorize-step.js'
import type { Flow } from './flow.js'

export interface DecodedJwt {
  header: ProtectedHeaderParameters
  payload: JWTPayload
}

export interface AccessTokenReport {
  kind: 'jws' | 'jwe' | 'unsecured' | 'opaque'
  header: ProtectedHeaderParameters | null
  payload: JWTPayload | null
  verified: boolean
  note: string | undefined
}

/** The token response as `--json` shows it: every member present, `null` when not returned. */
export interface TokenSet {
  token_type: string
  access_token: string
  id_token: string | null
  refresh_token: string | null
  expires_in: number | null
  scope: string | null
}

/** What came back from the token endpoint, validated. */
export interface ValidatedTokens {
  tokens: TokenSet
  id_token: DecodedJwt | null
  access_token: AccessTokenReport
}

/** What the tokens are checked against. */
export interface TokenExpectations {
  /** The nonce sent; `undefined` when none was; `null` on a refresh (OIDC Core §12.2). */
  nonce: string | undefined | null
  /** The `aud` a JWT access token must carry (`--audience`). */
  audience: string | undefined
  maxAgeSeconds: number | undefined
  clockToleranceSeconds: number
  /** DPoP was asked for, but a Bearer token is accepted with a warning (docs/security.md D-4). */
  allowDpopDowngrade: boolean
  flowStartedAt: Date
}

/**
 * Exchanges an authorization code at the token endpoint (with the DPoP proof and client
 * authentication of the flow), then validates everything that came back.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.5
 */
export async function exchangeCode(
  grant: { code: string; redirectUri: string; codeVerifier: string; scope: string },
  context: { as: AuthorizationServer; target: Target; expect: TokenExpectations },
  flow: Flow,
  ctx: Ctx,
): Promise<ValidatedTokens> {
  ctx.reporter.step(`Exchanging the code at ${context.as.token_endpoint}`)
  const form = authorizationCodeGrant(grant.code, grant.redirectUri, grant.codeVerifier)
  const tokens = await requestTokens(form, wantsIdToken(grant.scope), context, flow, ctx)
  return validateTokens(tokens, context, flow, ctx)
}

/**
 * One token request — any grant — with the flow's client authentication and DPoP proof (and the
 * one `use_dpop_nonce` retry), processed: the response's rules, its warnings, and the new refresh
 * token registered as a secret.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
export async function requestTokens(
  form: URLSearchParams,
  idTokenRequired: boolean,
  context: { as: AuthorizationServer; target: Target },
  flow: Flow,
  ctx: Ctx,
): Promise<TokenResponse> {
  const { as, target } = context
  const response = await flow.post(new URL(as.token_endpoint), 'token', async (headers) =>
    tokenRequest(
      as,
      await flow.credentials(target.client, target.issuer),
      form,
      flow.http,
      headers,
    ),
  )
  const processed = await processTokenResponse(response, {
    idToken: idTokenRequired,
  }).catch((error: unknown) => {
    // TK-2: a missing ID token is a failed check of its own, last in the report.
    if (isCliError(error) && error.code === 'id_token_missing') {
      flow.checks.push({ name: 'id_token.present', ok: false, detail: error.message })
    }
    throw error
  })
  for (const warning of processed.warnings) flow.warn(warning.code, warning.message)
  ctx.secrets.add(processed.tokens.refresh_token)
  flow.lap('token')
  return processed.tokens
}

/**
 * Validates a token response: the DPoP binding, the ID token (OIDC Core §3.1.3.7), and the access
 * token when it is a JWT of this issuer. Every check lands in the flow's report.
 */
export async function validateTokens(
  tokens: TokenResponse,
  context: { as: AuthorizationServer; target: Target; expect: TokenExpectations },
  flow: Flow,
  ctx: Ctx,
): Promise<ValidatedTokens> {
  const { as, target, expect } = context
  ctx.reporter.step('Validating tokens')
  checkDpopBinding(tokens, expect.allowDpopDowngrade, flow)
  const keys = issuerKeys(as, flow.http)
  const algorithms = allowedIdTokenAlgorithms(as.id_token_signing_alg_values_supported)
  let idToken: DecodedJwt | null = null
  if (tokens.id_token !== undefined) {
    const validated = await validateIdToken(
      tokens.id_token,
      {
        issuer: target.issuer,
        clientId: target.client.client_id,
        nonce: expect.nonce,
        algorithms,
        keys,
        now: ctx.now(),
        clockToleranceSeconds: expect.clockToleranceSeconds,
        accessToken: tokens.access_token,
        maxAgeSeconds: expect.maxAgeSeconds,
        flowStartedAt: expect.flowStartedAt,
      },
      new CheckList(flow.checks, ID_TOKEN_CODES, 'id_token'),
    )
    for (const warning of validated.warnings) flow.warn(warning.code, warning.message)
    idToken = { header: validated.header, payload: validated.payload }
  }
  const accessToken = await inspectAccessToken(tokens, {
    issuer: target.issuer,
    audience: expect.audience,
    algorithms,
    keys,
    clockToleranceSeconds: expect.clockToleranceSeconds,
    flow,
    ctx,
  })
  if (accessToken.note !== undefined) ctx.reporter.step(accessToken.note)
  return {
    tokens: {
      token_type: tokens.token_type,
      access_token: tokens.access_token,
      id_token: tokens.id_token ?? null,
      refresh_token: tokens.refresh_token ?? null,
      expires_in: tokens.expires_in ?? null,
      scope: tokens.scope ?? null,
    },
    id_token: idToken,
    access_token: accessToken,
  }
}

/**
 * With DPoP, the token must come back as `token_type: DPoP` (RFC 9449 §5); a Bearer answer fails
 * unless `--allow-dpop-downgrade` (docs/security.md D-4).
 */
export function checkDpopBinding(tokens: TokenResponse, allowDowngrade: boolean, flow: Flow): void {
  if (flow.dpop === undefined) return
  if (/^dpop$/iu.test(tokens.token_type)) {
    flow.checks.push({ name: 'dpop.token_type', ok: true, detail: 'DPoP' })
    return
  }
  const message = `DPoP was requested but the token came back as token_type ${JSON.stringify(tokens.token_type)}: it is not bound to the key`
  if (!allowDowngrade) {
    flow.checks.push({ name: 'dpop.token_type', ok: false, detail: message })
    throw new CliError('dpop_downgrade', message, {
      stage: 'token',
      hint: 'the server ignored the DPoP proof; check that the API/application enables DPoP, or pass --allow-dpop-downgrade to accept a Bearer token',
    })
  }
  flow.warn(
    'dpop_downgrade',
    `${message}; accepted as an unbound Bearer token (--allow-dpop-downgrade)`,
  )
}

/**
 * Names what the access token is. A JWS issued by this issuer is verified against the same JWKS;
 * otherwise it is shown decoded and labelled unverified (docs/security.md IT-14).
 */
export async function inspectAccessToken(
  tokens: TokenResponse,
  context: {
    issuer: string
    audience: string | undefined
    algorithms: string[]
    keys: JwksSource
    clockToleranceSeconds: number
    flow: Flow
    ctx: Ctx
  },
): Promise<AccessTokenReport> {
  const decoded = decodeToken(tokens.access_token, 'access_token_invalid')
  if (decoded.kind === 'opaque') {
    return {
      kind: 'opaque',
      header: null,
      payload: null,
      verified: false,
      note: `The access token is opaque (${decoded.length} characters): only the authorization server can read it. To get a JWT, send --audience <your API identifier>.`,
    }
  }
  if (decoded.kind === 'jwe') {
    const auth0Style = decoded.header.alg === 'dir' && decoded.header.enc === 'A256GCM'
    return {
      kind: 'jwe',
      header: decoded.header,
      payload: null,
      verified: false,
      note: auth0Style
        ? 'The access token is encrypted (JWE, alg dir / A256GCM): on Auth0 this is the /userinfo-only token issued when no audience is sent. Send --audience <your API identifier> to get a JWT access token.'
        : 'The access token is encrypted (JWE); only its resource server can read it.',
    }
  }
  if (decoded.kind === 'unsecured') {
    return {
      kind: 'unsecured',
      header: decoded.header,
      payload: decoded.payload,
      verified: false,
      note: 'The access token is an unsecured JWT (alg "none"): shown decoded, never trusted.',
    }
  }
  if (decoded.payload.iss !== context.issuer) {
    return {
      kind: 'jws',
      header: decoded.header,
      payload: decoded.payload,
      verified: false,
      note: 'The access token is a JWT from another issuer: shown decoded, not verified.',
    }
  }
  const { flow } = context
  await verifyJwt(
    tokens.access_token,
    decoded.header,
    decoded.payload,
    {
      keys: context.keys,
      algorithms: context.algorithms,
      issuer: context.issuer,
      audience: context.audience,
      now: context.ctx.now(),
      clockToleranceSeconds: context.clockToleranceSeconds,
      typ: [undefined, 'jwt', 'at+jwt', 'application/at+jwt'],
      requiredClaims: ['exp'],
    },
    new CheckList(flow.checks, { default: 'access_token_invalid' }, 'access_token'),
  )
  const dpop = flow.dpop
  if (dpop !== undefined && /^dpop$/iu.test(tokens.token_type)) {
    // RFC 9449 §6.1: a DPoP-bound JWT carries the key's thumbprint in cnf.jkt.
    const jkt = (decoded.payload.cnf as { jkt?: unknown } | undefined)?.jkt
    if (jkt !== dpop.key.jkt) {
      flow.checks.push({
        name: 'access_token.cnf.jkt',
        ok: false,
        detail: `${jkt === undefined ? 'missing' : 'differs from'} the DPoP key thumbprint ${dpop.key.jkt}`,
      })
      throw new CliError(
        'dpop_downgrade',
        'the access token is not bound to the DPoP key (cnf.jkt)',
        { stage: 'validate' },
      )
    }
    flow.checks.push({
      name: 'access_token.cnf.jkt',
      ok: true,
      detail: `equals the DPoP key thumbprint ${dpop.key.jkt}`,
    })
  }
  checkCertificateBinding(decoded.payload, flow)
  return {
    kind: 'jws',
    header: decoded.header,
    payload: decoded.payload,
    verified: true,
    note: undefined,
  }
}

/**
 * RFC 8705 §3.1: a certificate-bound JWT carries the SHA-256 thumbprint of the client's
 * certificate in `cnf["x5t#S256"]`; it must be the one presented with `--client-cert`.
 */
export function checkCertificateBinding(payload: Record<string, unknown>, flow: Flow): void {
  const cnf = payload.cnf
  const x5t =
    typeof cnf === 'object' && cnf !== null
      ? (cnf as Record<string, unknown>)['x5t#S256']
      : undefined
  if (x5t === undefined) return
  const presented = flow.clientCertificate?.x5tS256
  const name = 'access_token.cnf.x5t#S256'
  if (x5t === presented) {
    flow.checks.push({
      name,
      ok: true,
      detail: `equals the client certificate thumbprint ${presented}`,
    })
    return
  }
  const shown = typeof x5t === 'string' ? sanitize(excerpt(x5t)) : JSON.stringify(x5t)
  flow.checks.push({
    name,
    ok: false,
    detail:
      presented === undefined
        ? `is ${shown}, but no client certificate was presented`
        : `${shown} differs from the client certificate thumbprint ${presented}`,
  })
  throw new CliError(
    'certificate_binding_mismatch',
    presented === undefined
      ? 'the access token is bound to a client certificate (cnf["x5t#S256"]), but none was presented'
      : 'the access token is bound to another certificate than --client-cert (cnf["x5t#S256"])',
    {
      stage: 'validate',
      hint:
        presented === undefined
          ? 'pass the certificate the token was issued for: --client-cert <pem> --client-key <pem>'
          : 'the server bound the token to the certificate of the TLS connection; check which one it saw',
    },
  )
}
