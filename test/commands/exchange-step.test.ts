import { beforeAll, describe, expect, it } from 'vitest'
import {
  checkDpopBinding,
  exchangeCode,
  inspectAccessToken,
} from '../../src/commands/exchange-step.js'
import type { TokenExpectations } from '../../src/commands/exchange-step.js'
import type { Flow } from '../../src/commands/flow.js'
import type { JwksSource } from '../../src/jwt/verify.js'
import type { AuthorizationServer } from '../../src/oauth/discovery.js'
import type { TokenResponse } from '../../src/oauth/token.js'
import { caught, rejection } from '../helpers/cli-error.js'
import { TARGET, withDpop } from '../helpers/flow-options.js'
import { b64, NOW_S, unsecured } from '../helpers/jwt-fixtures.js'
import { createSigner, ISSUER, METADATA, ORIGIN, withMockTenant } from '../helpers/mock-tenant.js'
import type { Signer } from '../helpers/mock-tenant.js'
import type { TestCtx } from '../helpers/test-ctx.js'

const API = 'https://api.test/'
const AS: AuthorizationServer = { ...METADATA, dpop_signing_alg_values_supported: ['ES256'] }
const EXPECT: TokenExpectations = {
  nonce: undefined,
  audience: undefined,
  maxAgeSeconds: undefined,
  clockToleranceSeconds: 60,
  allowDpopDowngrade: false,
  flowStartedAt: new Date('2026-11-24T11:59:00Z'),
}

const tenant = withMockTenant()
const setup = tenant.setup
let signer: Signer

beforeAll(async () => {
  signer = await createSigner('ES256')
})

function sign(payload: Record<string, unknown>): Promise<string> {
  return signer.sign(payload, { typ: 'at+jwt' })
}

/** A JWKS source over the test key that counts its loads. */
function localKeys(): { keys: JwksSource; loads: () => number } {
  let loads = 0
  return {
    keys: (_refresh) => {
      loads++
      return Promise.resolve(signer.jwks)
    },
    loads: () => loads,
  }
}

function inspect(
  tokens: TokenResponse,
  flow: Flow,
  ctx: TestCtx,
  keys: JwksSource,
  audience?: string,
) {
  return inspectAccessToken(tokens, {
    issuer: ISSUER,
    audience,
    algorithms: ['ES256'],
    keys,
    clockToleranceSeconds: 60,
    flow,
    ctx,
  })
}

const VERIFIED_CHECKS = [
  { name: 'access_token.alg', ok: true, detail: 'ES256 is allowed' },
  {
    name: 'access_token.signature',
    ok: true,
    detail: "verified with the issuer's ES256 key (kid k1)",
  },
  { name: 'access_token.iss', ok: true, detail: `equals ${ISSUER}` },
  { name: 'access_token.aud', ok: true, detail: `contains ${API}` },
  {
    name: 'access_token.exp',
    ok: true,
    detail: '2026-11-24T13:00:00Z is in the future (tolerance 60s)',
  },
  { name: 'access_token.iat', ok: true, detail: '2026-11-24T11:59:50Z' },
]
const CLAIMS = { iss: ISSUER, aud: API, sub: 'auth0|1', iat: NOW_S - 10, exp: NOW_S + 3600 }

describe('checkDpopBinding() https://www.rfc-editor.org/rfc/rfc9449#section-5', () => {
  const bearer: TokenResponse = { access_token: 'at', token_type: 'Bearer' }
  const DOWNGRADE =
    'DPoP was requested but the token came back as token_type "Bearer": it is not bound to the key'

  it('does nothing without DPoP, even for a Bearer token', () => {
    const { flow } = setup()
    checkDpopBinding(bearer, false, flow)
    expect(flow.checks).toEqual([])
    expect(flow.warnings).toEqual([])
  })

  it.each(['DPoP', 'dpop'])('passes dpop.token_type for token_type %s', async (tokenType) => {
    const { ctx, flow } = setup()
    await withDpop(flow, ctx)
    checkDpopBinding({ access_token: 'at', token_type: tokenType }, false, flow)
    expect(flow.checks).toEqual([{ name: 'dpop.token_type', ok: true, detail: 'DPoP' }])
  })

  it('fails a Bearer answer with dpop_downgrade and the failed check (docs/security.md D-4)', async () => {
    const { ctx, flow } = setup()
    await withDpop(flow, ctx)
    const error = caught(() => checkDpopBinding(bearer, false, flow))
    expect(error.code).toBe('dpop_downgrade')
    expect(error.message).toBe(DOWNGRADE)
    expect(error.stage).toBe('token')
    expect(error.hint).toBe(
      'the server ignored the DPoP proof; check that the API/application enables DPoP, or pass --allow-dpop-downgrade to accept a Bearer token',
    )
    expect(flow.checks).toEqual([{ name: 'dpop.token_type', ok: false, detail: DOWNGRADE }])
  })

  it('accepts a Bearer answer with a dpop_downgrade warning under --allow-dpop-downgrade', async () => {
    const { ctx, flow } = setup()
    await withDpop(flow, ctx)
    checkDpopBinding(bearer, true, flow)
    expect(flow.checks).toEqual([])
    expect(flow.warnings).toEqual([
      {
        code: 'dpop_downgrade',
        message: `${DOWNGRADE}; accepted as an unbound Bearer token (--allow-dpop-downgrade)`,
      },
    ])
  })
})

describe('inspectAccessToken()', () => {
  it('names an opaque token and does not load keys', async () => {
    const { ctx, flow } = setup()
    const { keys, loads } = localKeys()
    expect(
      await inspect({ access_token: 'opaque-access-token', token_type: 'Bearer' }, flow, ctx, keys),
    ).toEqual({
      kind: 'opaque',
      header: null,
      payload: null,
      verified: false,
      note: 'The access token is opaque (19 characters): only the authorization server can read it. To get a JWT, send --audience <your API identifier>.',
    })
    expect(loads()).toBe(0)
    expect(flow.checks).toEqual([])
  })

  it("explains Auth0's alg dir / A256GCM JWE", async () => {
    const { ctx, flow } = setup()
    const token = `${b64({ alg: 'dir', enc: 'A256GCM' })}..aXY.Y2lwaGVy.dGFn`
    expect(
      await inspect({ access_token: token, token_type: 'Bearer' }, flow, ctx, localKeys().keys),
    ).toEqual({
      kind: 'jwe',
      header: { alg: 'dir', enc: 'A256GCM' },
      payload: null,
      verified: false,
      note: 'The access token is encrypted (JWE, alg dir / A256GCM): on Auth0 this is the /userinfo-only token issued when no audience is sent. Send --audience <your API identifier> to get a JWT access token.',
    })
  })

  it('names any other JWE without the Auth0 advice', async () => {
    const { ctx, flow } = setup()
    const token = `${b64({ alg: 'RSA-OAEP-256', enc: 'A128GCM' })}.a2V5.aXY.Y2lwaGVy.dGFn`
    const report = await inspect(
      { access_token: token, token_type: 'Bearer' },
      flow,
      ctx,
      localKeys().keys,
    )
    expect(report.kind).toBe('jwe')
    expect(report.note).toBe(
      'The access token is encrypted (JWE); only its resource server can read it.',
    )
  })

  it("shows another issuer's JWT decoded and unverified, without loading this issuer's keys (docs/security.md IT-14)", async () => {
    const { ctx, flow } = setup()
    const { keys, loads } = localKeys()
    const token = await sign({ ...CLAIMS, iss: 'https://other.test/' })
    expect(await inspect({ access_token: token, token_type: 'Bearer' }, flow, ctx, keys)).toEqual({
      kind: 'jws',
      header: { alg: 'ES256', typ: 'at+jwt', kid: 'k1' },
      payload: { ...CLAIMS, iss: 'https://other.test/' },
      verified: false,
      note: 'The access token is a JWT from another issuer: shown decoded, not verified.',
    })
    expect(loads()).toBe(0)
    expect(flow.checks).toEqual([])
  })

  it('names an unsecured (alg none) JWT of this issuer as such, never verified (issue 11: it was called "another issuer")', async () => {
    const { ctx, flow } = setup()
    const { keys, loads } = localKeys()
    const token = unsecured(CLAIMS)
    expect(await inspect({ access_token: token, token_type: 'Bearer' }, flow, ctx, keys)).toEqual({
      kind: 'unsecured',
      header: { alg: 'none' },
      payload: CLAIMS,
      verified: false,
      note: 'The access token is an unsecured JWT (alg "none"): shown decoded, never trusted.',
    })
    expect(loads()).toBe(0)
    expect(flow.checks).toEqual([])
  })

  it("verifies this issuer's JWT against its keys, recording each check", async () => {
    const { ctx, flow } = setup()
    const token = await sign(CLAIMS)
    expect(
      await inspect(
        { access_token: token, token_type: 'Bearer' },
        flow,
        ctx,
        localKeys().keys,
        API,
      ),
    ).toEqual({
      kind: 'jws',
      header: { alg: 'ES256', typ: 'at+jwt', kid: 'k1' },
      payload: CLAIMS,
      verified: true,
      note: undefined,
    })
    expect(flow.checks).toEqual(VERIFIED_CHECKS)
  })

  it("fails this issuer's JWT for another audience with access_token_invalid", async () => {
    const { ctx, flow } = setup()
    const token = await sign({ ...CLAIMS, aud: 'https://other-api.test/' })
    const error = await rejection(
      inspect({ access_token: token, token_type: 'Bearer' }, flow, ctx, localKeys().keys, API),
    )
    expect(error.code).toBe('access_token_invalid')
    expect(error.message).toBe(
      `access_token: aud check failed: aud is "https://other-api.test/" (expected to contain ${API})`,
    )
    expect(flow.checks.at(-1)).toEqual({
      name: 'access_token.aud',
      ok: false,
      detail: `aud is "https://other-api.test/" (expected to contain ${API})`,
    })
  })

  it('passes access_token.cnf.jkt when a DPoP token carries the key thumbprint', async () => {
    const { ctx, flow } = setup()
    const jkt = await withDpop(flow, ctx)
    const token = await sign({ ...CLAIMS, cnf: { jkt } })
    const report = await inspect(
      { access_token: token, token_type: 'DPoP' },
      flow,
      ctx,
      localKeys().keys,
      API,
    )
    expect(report.verified).toBe(true)
    expect(flow.checks).toEqual([
      ...VERIFIED_CHECKS,
      { name: 'access_token.cnf.jkt', ok: true, detail: `equals the DPoP key thumbprint ${jkt}` },
    ])
  })

  it('fails with dpop_downgrade when cnf.jkt is not the DPoP key thumbprint (RFC 9449 §6.1)', async () => {
    const { ctx, flow } = setup()
    const jkt = await withDpop(flow, ctx)
    const token = await sign({ ...CLAIMS, cnf: { jkt: 'another-key-thumbprint' } })
    const error = await rejection(
      inspect({ access_token: token, token_type: 'DPoP' }, flow, ctx, localKeys().keys, API),
    )
    expect(error.code).toBe('dpop_downgrade')
    expect(error.message).toBe('the access token is not bound to the DPoP key (cnf.jkt)')
    expect(error.stage).toBe('validate')
    expect(flow.checks).toEqual([
      ...VERIFIED_CHECKS,
      {
        name: 'access_token.cnf.jkt',
        ok: false,
        detail: `differs from the DPoP key thumbprint ${jkt}`,
      },
    ])
  })

  it('fails with dpop_downgrade when a DPoP token has no cnf.jkt', async () => {
    const { ctx, flow } = setup()
    const jkt = await withDpop(flow, ctx)
    const token = await sign(CLAIMS)
    await expect(
      inspect({ access_token: token, token_type: 'DPoP' }, flow, ctx, localKeys().keys, API),
    ).rejects.toMatchObject({ code: 'dpop_downgrade' })
    expect(flow.checks.at(-1)).toEqual({
      name: 'access_token.cnf.jkt',
      ok: false,
      detail: `missing the DPoP key thumbprint ${jkt}`,
    })
  })
})

describe('exchangeCode() against a MockAgent token endpoint', () => {
  const tokenEndpoint = tenant.tokenEndpoint

  const GRANT = {
    code: 'the-code',
    redirectUri: 'http://127.0.0.1:8484/callback',
    codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    scope: 'profile offline_access',
  }

  it('sends the exact form of a public client (no client_secret) and returns the tokens', async () => {
    const endpoint = tokenEndpoint({
      access_token: 'opaque-access-token',
      token_type: 'Bearer',
      expires_in: 86400,
      refresh_token: 'the-refresh-token-value',
      scope: 'profile offline_access',
    })
    const { ctx, flow } = setup()
    const validated = await exchangeCode(
      GRANT,
      { as: AS, target: TARGET, expect: EXPECT },
      flow,
      ctx,
    )
    expect([...endpoint.form()]).toEqual([
      ['grant_type', 'authorization_code'],
      ['code', 'the-code'],
      ['redirect_uri', 'http://127.0.0.1:8484/callback'],
      ['code_verifier', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'],
      ['client_id', 'abc'],
    ])
    expect(endpoint.form().has('client_secret')).toBe(false)
    expect(validated.tokens).toEqual({
      token_type: 'Bearer',
      access_token: 'opaque-access-token',
      id_token: null,
      refresh_token: 'the-refresh-token-value',
      expires_in: 86400,
      scope: 'profile offline_access',
    })
    expect(validated.id_token).toBeNull()
    expect(validated.access_token.kind).toBe('opaque')
    expect(flow.warnings).toEqual([])
    expect(Object.keys(flow.timings)).toEqual(['token'])
    // The refresh token is a secret from now on: stderr never shows it (docs/security.md SO-2).
    expect(ctx.secrets.redact('rt the-refresh-token-value')).toBe('rt [redacted 23 chars]')
    expect(ctx.events).toEqual([
      `step Exchanging the code at ${ORIGIN}/oauth/token`,
      'step Validating tokens',
      'step The access token is opaque (19 characters): only the authorization server can read it. To get a JWT, send --audience <your API identifier>.',
    ])
  })

  it('adds the failed id_token.present check when openid was asked for and no ID token came', async () => {
    tokenEndpoint({ access_token: 'opaque-access-token', token_type: 'Bearer' })
    const { ctx, flow } = setup()
    const error = await rejection(
      exchangeCode(
        { ...GRANT, scope: 'openid profile' },
        { as: AS, target: TARGET, expect: EXPECT },
        flow,
        ctx,
      ),
    )
    expect(error.code).toBe('id_token_missing')
    expect(error.message).toBe('the token response has no id_token although openid was requested')
    expect(flow.checks).toEqual([
      {
        name: 'id_token.present',
        ok: false,
        detail: 'the token response has no id_token although openid was requested',
      },
    ])
  })
})
