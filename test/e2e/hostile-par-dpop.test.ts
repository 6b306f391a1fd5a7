import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { expectFailure, loginAgainst, sendJson } from '../helpers/hostile-server.js'

// Misbehaving PAR and DPoP servers (issue "pkce par, login --par and DPoP"; security.md PAR-2,
// D-2, DP-5, DP-6, D-4). Each run must stop before the browser whenever PAR fails.
const par = ['--par', '--client-secret-file', '-']
const secret = { stdin: 'hostile-client-secret\n' }

describe.concurrent('hostile PAR endpoints', () => {
  it('PAR-2: 201 without request_uri is par_invalid_response, exit 4, and no browser opens', async () => {
    const run = await loginAgainst(
      { par: (_request, response) => sendJson(response, 201, { expires_in: 60 }) },
      par,
      secret,
    )
    expectFailure(
      run,
      4,
      'par_invalid_response',
      'the PAR response has no request_uri (HTTP 201, application/json, body: {"expires_in":60})',
    )
    expect(run.browserRuns).toEqual([])
    expect(run.server.count('GET', '/authorize')).toBe(0)
    expect(run.server.count('POST', '/oauth/token')).toBe(0)
  })

  it('PAR-3: a 400 OAuth error is par_error, exit 3, and no browser opens', async () => {
    const run = await loginAgainst(
      {
        par: (_request, response) =>
          sendJson(response, 400, {
            error: 'invalid_request',
            error_description: 'bad\u001b[31m scope',
          }),
      },
      par,
      secret,
    )
    const error = expectFailure(
      run,
      3,
      'par_error',
      'the pushed authorization request was rejected: invalid_request: bad scope',
    )
    expect(error.oauth).toEqual({
      error: 'invalid_request',
      error_description: 'bad\u001b[31m scope',
    })
    expect(run.browserRuns).toEqual([])
  })

  it('PAR-1: the pushed body carries every authorization parameter and the client credentials', async () => {
    const run = await loginAgainst(
      { par: (_request, response) => sendJson(response, 400, { error: 'stop_here' }) },
      [...par, '--audience', 'https://api.example/', '--organization', 'org_1'],
      secret,
    )
    expect(run.code).toBe(3)
    const pushed = run.server.requests.find((request) => request.pathname === '/oauth/par')
    expect(Object.keys(pushed?.form ?? {}).sort()).toEqual(
      [
        'audience',
        'client_id',
        'client_secret',
        'code_challenge',
        'code_challenge_method',
        'nonce',
        'organization',
        'redirect_uri',
        'response_type',
        'scope',
        'state',
      ].sort(),
    )
    expect(pushed?.form.code_challenge_method).toBe('S256')
    expect(pushed?.form.request_uri).toBeUndefined()
  })
})

describe.concurrent('hostile DPoP token endpoints', () => {
  it('DP-5: a server demanding a new nonce forever gets one retry, then dpop_nonce_loop, exit 3', async () => {
    let nonce = 0
    const run = await loginAgainst(
      {
        token: (_request, response) =>
          sendJson(
            response,
            400,
            {
              error: 'use_dpop_nonce',
              error_description: 'Authorization server requires nonce in DPoP proof',
            },
            { 'dpop-nonce': `nonce-${++nonce}` },
          ),
      },
      ['--dpop'],
    )
    expectFailure(
      run,
      3,
      'dpop_nonce_loop',
      `${run.server.origin}/oauth/token demanded a new DPoP nonce again after the one retry`,
    )
    const proofs = run.server.requests
      .filter((request) => request.pathname === '/oauth/token')
      .map((request) => decodeJwt(String(request.headers.dpop)))
    expect(proofs).toHaveLength(2)
    expect(proofs.map((proof) => proof.nonce)).toEqual([undefined, 'nonce-1'])
    expect(proofs[0]?.jti).not.toBe(proofs[1]?.jti)
    expect(proofs.map((proof) => proof.htu)).toEqual([
      `${run.server.origin}/oauth/token`,
      `${run.server.origin}/oauth/token`,
    ])
  })

  it('DP-6, D-4: a Bearer answer to a DPoP request is dpop_downgrade, exit 4', async () => {
    const run = await loginAgainst({}, ['--dpop'])
    expectFailure(
      run,
      4,
      'dpop_downgrade',
      'DPoP was requested but the token came back as token_type "Bearer": it is not bound to the key',
    )
    expect((run.doc.checks as { name: string; ok: boolean }[]).at(-1)).toMatchObject({
      name: 'dpop.token_type',
      ok: false,
    })
  })

  it('D-4: --allow-dpop-downgrade makes it a warning with the same code', async () => {
    const run = await loginAgainst({}, ['--dpop', '--allow-dpop-downgrade'])
    expect(run.code).toBe(0)
    expect(run.doc.warnings).toEqual(
      expect.arrayContaining([
        {
          code: 'dpop_downgrade',
          message:
            'DPoP was requested but the token came back as token_type "Bearer": it is not bound to the key; accepted as an unbound Bearer token (--allow-dpop-downgrade)',
        },
      ]),
    )
  })
})
