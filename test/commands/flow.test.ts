import { exportJWK, generateKeyPair } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { discoverServer, setupDpop, usesPar } from '../../src/commands/flow.js'
import { CliError } from '../../src/errors.js'
import { rejection } from '../helpers/cli-error.js'
import { FRESH_DPOP } from '../helpers/flow-options.js'
import { ISSUER, METADATA as AS, withMockTenant } from '../helpers/mock-tenant.js'
import { testCtx } from '../helpers/test-ctx.js'

const PKCE_UNCONFIRMED = {
  code: 'pkce_support_unconfirmed',
  message:
    'the metadata has no code_challenge_methods_supported; PKCE support is unconfirmed, state still protects the flow',
}

const tenant = withMockTenant()
const setup = tenant.setup

afterEach(() => {
  vi.restoreAllMocks()
})

describe('Flow', () => {
  it('warn() records the warning and reports it on stderr', () => {
    const { ctx, flow } = setup()
    flow.warn('par_status_200', 'the PAR endpoint answered 200')
    expect(flow.warnings).toEqual([
      { code: 'par_status_200', message: 'the PAR endpoint answered 200' },
    ])
    expect(ctx.events).toEqual(['warn par_status_200'])
    expect(ctx.stderr()).toBe('warning: the PAR endpoint answered 200 (par_status_200)\n')
  })

  it('lap() times each step since the previous one; total() adds the whole run, rounded', () => {
    const now = vi.spyOn(performance, 'now')
    now.mockReturnValue(1000)
    const { flow } = setup()
    now.mockReturnValue(1250.4)
    flow.lap('discovery')
    now.mockReturnValue(1300.6)
    flow.lap('par')
    now.mockReturnValue(1400)
    expect(flow.timings).toEqual({ discovery: 250, par: 50 })
    expect(flow.total()).toEqual({ discovery: 250, par: 50, total: 400 })
    // total() is a copy: the timings stay as they were.
    expect(flow.timings).toEqual({ discovery: 250, par: 50 })
  })

  it('annotate() attaches the checks, and the warnings when there are any, to a CliError', () => {
    const { flow } = setup()
    flow.checks.push({ name: 'callback.state', ok: true, detail: 'equals the state sent' })
    const quiet = new CliError('token_error', 'rejected')
    flow.annotate(quiet)
    expect(quiet.details).toEqual({
      checks: [{ name: 'callback.state', ok: true, detail: 'equals the state sent' }],
    })
    flow.warn('iss_unadvertised', 'iss came unadvertised')
    const noisy = new CliError('token_error', 'rejected')
    flow.annotate(noisy)
    expect(noisy.details).toEqual({
      checks: [{ name: 'callback.state', ok: true, detail: 'equals the state sent' }],
      warnings: [{ code: 'iss_unadvertised', message: 'iss came unadvertised' }],
    })
  })

  it('annotate() leaves any other error alone', () => {
    const { flow } = setup()
    flow.warn('w', 'a warning')
    const error = new TypeError('a bug')
    flow.annotate(error)
    expect(Object.keys(error)).toEqual([])
    expect('details' in error).toBe(false)
  })
})

describe('discoverServer()', () => {
  it('returns the metadata with S256 listed, without warnings', async () => {
    tenant.discovery({ code_challenge_methods_supported: ['plain', 'S256'] })
    const { ctx, flow } = setup()
    const as = await discoverServer(ISSUER, flow, ctx)
    expect(as.code_challenge_methods_supported).toEqual(['plain', 'S256'])
    expect(flow.warnings).toEqual([])
    expect(Object.keys(flow.timings)).toEqual(['discovery'])
    expect(ctx.events).toEqual([`step Discovering ${ISSUER}`])
  })

  it('fails with pkce_s256_unsupported when the list is there without S256 (docs/security.md PK-6)', async () => {
    tenant.discovery({ code_challenge_methods_supported: ['plain'] })
    const { ctx, flow } = setup()
    const error = await rejection(discoverServer(ISSUER, flow, ctx))
    expect(error.code).toBe('pkce_s256_unsupported')
    expect(error.message).toBe(
      'the server lists code_challenge_methods_supported ["plain"] without S256',
    )
    expect(error.stage).toBe('discovery')
    expect(error.hint).toBe('pkce always uses S256 (RFC 9700 §2.1.1); plain is never sent')
  })

  it('warns pkce_support_unconfirmed when the metadata has no list', async () => {
    tenant.discovery({})
    const { ctx, flow } = setup()
    await discoverServer(ISSUER, flow, ctx)
    expect(flow.warnings).toEqual([PKCE_UNCONFIRMED])
  })

  it('warns insecure_loopback_issuer for an http loopback issuer, before discovery', async () => {
    const origin = 'http://127.0.0.1:9999'
    tenant.discovery({ code_challenge_methods_supported: ['S256'] }, origin)
    const { ctx, flow } = setup()
    await discoverServer(`${origin}/`, flow, ctx)
    expect(flow.warnings).toEqual([
      {
        code: 'insecure_loopback_issuer',
        message: 'using plain http to the loopback issuer http://127.0.0.1:9999/',
      },
    ])
    expect(ctx.events).toEqual([
      'warn insecure_loopback_issuer',
      'step Discovering http://127.0.0.1:9999/',
    ])
  })
})

describe('setupDpop()', () => {
  it('does nothing without DPoP options', async () => {
    const { ctx, flow } = setup()
    await setupDpop(undefined, AS, flow, ctx)
    expect(flow.dpop).toBeUndefined()
    expect(ctx.events).toEqual([])
  })

  it('makes an ES256 key by default when the server lists ES256', async () => {
    const { ctx, flow } = setup()
    await setupDpop(
      FRESH_DPOP,
      { ...AS, dpop_signing_alg_values_supported: ['ES256', 'RS256'] },
      flow,
      ctx,
    )
    const jkt = flow.dpop?.key.jkt ?? ''
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/u)
    expect(flow.dpop?.report).toEqual({
      alg: 'ES256',
      jkt,
      jwk: flow.dpop?.key.publicJwk,
      nonce_retries: 0,
      proofs: [],
    })
    // Only the public members: the private half is never shown (DP-1).
    const jwk = flow.dpop?.report.jwk ?? {}
    expect(Object.keys(jwk)).toEqual(['kty', 'crv', 'x', 'y'])
    expect([jwk.kty, jwk.crv]).toEqual(['EC', 'P-256'])
    expect(flow.warnings).toEqual([])
    expect(ctx.events).toEqual([`step DPoP key ES256, thumbprint (dpop_jkt) ${jkt}`])
  })

  it("uses the given key's own alg when --dpop-alg is not given", async () => {
    const { privateKey } = await generateKeyPair('ES384', { extractable: true })
    const key = { ...(await exportJWK(privateKey)), alg: 'ES384' }
    const { ctx, flow } = setup()
    await setupDpop(
      { alg: undefined, key, allowDowngrade: false },
      { ...AS, dpop_signing_alg_values_supported: ['ES384'] },
      flow,
      ctx,
    )
    expect(flow.dpop?.report.alg).toBe('ES384')
    expect(flow.dpop?.report.jwk).toEqual({ kty: 'EC', crv: 'P-384', x: key.x, y: key.y })
  })

  it('refuses an algorithm the server does not list, with the hint naming one it does', async () => {
    const { ctx, flow } = setup()
    const error = await rejection(
      setupDpop(
        FRESH_DPOP,
        { ...AS, dpop_signing_alg_values_supported: ['RS256', 'PS256'] },
        flow,
        ctx,
      ),
    )
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(
      'the server does not accept DPoP proofs signed with ES256 (it lists RS256, PS256)',
    )
    expect(error.hint).toBe('pass --dpop-alg RS256')
    expect(flow.dpop).toBeUndefined()
  })

  it('warns dpop_support_unconfirmed when the metadata has no list, and goes on', async () => {
    const { ctx, flow } = setup()
    await setupDpop({ alg: 'ES256', key: undefined, allowDowngrade: false }, AS, flow, ctx)
    expect(flow.warnings).toEqual([
      {
        code: 'dpop_support_unconfirmed',
        message:
          'the metadata has no dpop_signing_alg_values_supported; DPoP support is unconfirmed',
      },
    ])
    expect(flow.dpop?.report.alg).toBe('ES256')
  })
})

describe('usesPar()', () => {
  it('is true when asked for, without a word', () => {
    const ctx = testCtx()
    expect(usesPar(true, AS, ctx)).toBe(true)
    expect(ctx.events).toEqual([])
  })

  it('is true when the server requires it (PAR-7), and says so', () => {
    const ctx = testCtx()
    expect(usesPar(false, { ...AS, require_pushed_authorization_requests: true }, ctx)).toBe(true)
    expect(ctx.events).toEqual([
      'step The server requires pushed authorization requests (require_pushed_authorization_requests): using PAR',
    ])
  })

  it('is false otherwise', () => {
    const ctx = testCtx()
    expect(usesPar(false, { ...AS, require_pushed_authorization_requests: false }, ctx)).toBe(false)
    expect(usesPar(false, AS, ctx)).toBe(false)
    expect(ctx.events).toEqual([])
  })
})
