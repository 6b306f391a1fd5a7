import { describe, expect, it } from 'vitest'
import type { ClientCertificate } from '../../src/commands/client-certificate.js'
import { checkCertificateBinding } from '../../src/commands/exchange-step.js'
import type { Flow } from '../../src/commands/flow.js'
import { rejection } from '../helpers/cli-error.js'

const X5T = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2'

function flowWith(x5tS256: string | undefined): Flow {
  const clientCertificate: ClientCertificate | undefined =
    x5tS256 === undefined
      ? undefined
      : { cert: '', key: '', passphrase: undefined, x5tS256, subject: 'CN=client' }
  return { checks: [], clientCertificate } as unknown as Flow
}

describe('checkCertificateBinding() https://www.rfc-editor.org/rfc/rfc8705#section-3.1', () => {
  it('no cnf["x5t#S256"]: no check', () => {
    const flow = flowWith(X5T)
    checkCertificateBinding({ cnf: { jkt: 'x' } }, flow)
    checkCertificateBinding({}, flow)
    expect(flow.checks).toEqual([])
  })

  it('the thumbprint of the presented certificate: a passed check', () => {
    const flow = flowWith(X5T)
    checkCertificateBinding({ cnf: { 'x5t#S256': X5T } }, flow)
    expect(flow.checks).toEqual([
      {
        name: 'access_token.cnf.x5t#S256',
        ok: true,
        detail: `equals the client certificate thumbprint ${X5T}`,
      },
    ])
  })

  it('another certificate: certificate_binding_mismatch, exit 4, the failed check', async () => {
    const flow = flowWith(X5T)
    const error = await rejection(
      Promise.resolve().then(() => checkCertificateBinding({ cnf: { 'x5t#S256': 'other' } }, flow)),
    )
    expect(error).toMatchObject({
      code: 'certificate_binding_mismatch',
      exitCode: 4,
      stage: 'validate',
      message:
        'the access token is bound to another certificate than --client-cert (cnf["x5t#S256"])',
    })
    expect(flow.checks).toEqual([
      {
        name: 'access_token.cnf.x5t#S256',
        ok: false,
        detail: `other differs from the client certificate thumbprint ${X5T}`,
      },
    ])
  })

  it('no certificate presented: certificate_binding_mismatch naming the flags', async () => {
    const flow = flowWith(undefined)
    const error = await rejection(
      Promise.resolve().then(() => checkCertificateBinding({ cnf: { 'x5t#S256': X5T } }, flow)),
    )
    expect(error).toMatchObject({
      code: 'certificate_binding_mismatch',
      exitCode: 4,
      message:
        'the access token is bound to a client certificate (cnf["x5t#S256"]), but none was presented',
      hint: 'pass the certificate the token was issued for: --client-cert <pem> --client-key <pem>',
    })
    expect(flow.checks[0]?.detail).toBe(`is ${X5T}, but no client certificate was presented`)
  })
})
