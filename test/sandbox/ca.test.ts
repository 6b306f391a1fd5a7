import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:tls'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSandboxCertificates } from '../../src/sandbox/ca.js'

describe('createSandboxCertificates()', () => {
  const pems = createSandboxCertificates({ now: new Date('2030-01-01T00:00:00Z'), validityDays: 2 })
  const ca = new X509Certificate(pems.caCert)
  const leaf = new X509Certificate(pems.cert)

  it('makes a self-signed CA', () => {
    expect(ca.ca).toBe(true)
    expect(ca.subject).toBe('CN=pkce sandbox CA')
    expect(ca.issuer).toBe('CN=pkce sandbox CA')
    expect(ca.checkIssued(ca)).toBe(true)
    expect(ca.verify(ca.publicKey)).toBe(true)
    expect(ca.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' })
  })

  it('issues a server certificate for 127.0.0.1, ::1 and localhost', () => {
    expect(leaf.ca).toBe(false)
    expect(leaf.subject).toBe('CN=127.0.0.1')
    expect(leaf.issuer).toBe('CN=pkce sandbox CA')
    expect(leaf.checkIssued(ca)).toBe(true)
    expect(leaf.verify(ca.publicKey)).toBe(true)
    expect(leaf.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    )
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1'])
    expect(leaf.checkHost('localhost')).toBe('localhost')
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(leaf.checkIP('::1')).toBe('::1')
    expect(leaf.checkHost('example.com')).toBeUndefined()
  })

  it('backdates notBefore by an hour and lasts the requested days (UTCTime)', () => {
    expect(leaf.validFrom).toBe('Dec 31 23:00:00 2029 GMT')
    expect(leaf.validTo).toBe('Jan  3 00:00:00 2030 GMT')
    expect(ca.validTo).toBe('Jan  3 00:00:00 2030 GMT')
  })

  it('switches to GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
    const late = createSandboxCertificates({
      now: new Date('2049-12-31T12:00:00Z'),
      validityDays: 1,
    })
    const cert = new X509Certificate(late.cert)
    expect(cert.validFrom).toBe('Dec 31 11:00:00 2049 GMT')
    expect(cert.validTo).toBe('Jan  1 12:00:00 2050 GMT')
  })

  it('uses positive 16-octet serial numbers', () => {
    for (const cert of [ca, leaf]) expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/)
  })

  it('returns the private key of the server certificate', () => {
    const fromKey = createPublicKey(createPrivateKey(pems.key)).export({
      type: 'spki',
      format: 'der',
    })
    expect(fromKey.equals(leaf.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true)
    expect(pems.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
  })

  it('makes a new CA each time', () => {
    const other = new X509Certificate(createSandboxCertificates().caCert)
    expect(other.fingerprint256).not.toBe(ca.fingerprint256)
    expect(leaf.checkIssued(other)).toBe(false)
  })
})

describe('a TLS server with the sandbox certificate', () => {
  const pems = createSandboxCertificates()
  let server: Server
  let origin: string

  beforeAll(async () => {
    server = createServer({ cert: pems.cert, key: pems.key }, (_req, res) => res.end('hello'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('completes a handshake for a client that trusts the CA', async () => {
    const dispatcher = new Agent({ connect: { ca: pems.caCert } })
    const response = await request(`${origin}/`, { dispatcher })
    expect(response.statusCode).toBe(200)
    expect(await response.body.text()).toBe('hello')
    await dispatcher.close()
  })

  it('fails for a client that does not trust the CA', async () => {
    await expect(request(`${origin}/`)).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    })
    const dispatcher = new Agent({ connect: { ca: createSandboxCertificates().caCert } })
    await expect(request(`${origin}/`, { dispatcher })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    })
    await dispatcher.close()
  })

  it('fails for a host name the certificate does not cover', async () => {
    const { port } = server.address() as AddressInfo
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        servername: 'example.com',
        ca: pems.caCert,
      })
      socket.once('error', resolve)
      socket.once('secureConnect', () => socket.destroy())
    })
    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
  })
})
