import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSandboxCertificates } from '../../src/sandbox/ca.js'

describe('ca', () => {
  it('works', () => {
    const { caCert, cert } = createSandboxCertificates()
    const ca = new X509Certificate(caCert)
    const leaf = new X509Certificate(cert)
    console.log(ca.toString(), leaf.toString(), leaf.subjectAltName, leaf.keyUsage, ca.ca, leaf.checkIssued(ca), leaf.verify(ca.publicKey))
  })
})
