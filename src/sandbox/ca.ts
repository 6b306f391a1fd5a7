import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/** PEM strings for a throw-away certificate authority and one server certificate it issued. */
export interface SandboxCertificates {
  /** The CA certificate, to trust (undici `Agent({ connect: { ca } })`, `NODE_EXTRA_CA_CERTS`). */
  caCert: string
  /** The server certificate, for 127.0.0.1, ::1 and localhost. */
  cert: string
  /** The server's PKCS #8 private key. */
  key: string
}

export interface CertificateOptions {
  /** How long both certificates stay valid, in days. Default 7. */
  validityDays?: number
  /** The clock, for tests. Default `new Date()`. */
  now?: Date
}

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
}

// RFC 5280 §4.1.2.5: clocks drift; backdate notBefore so a fresh certificate is already valid.
const BACKDATE_MS = 60 * 60 * 1000
const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Creates a throw-away CA and a server certificate for `127.0.0.1`, `::1` and `localhost`.
 *
 * Both use ECDSA P-256 with SHA-256. The CA's private key is discarded once the server certificate
 * is signed, so nothing else can ever be issued under this CA.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5280#section-4.1 (X.509 certificate structure)
 */
export function createSandboxCertificates(options: CertificateOptions = {}): SandboxCertificates {
  const now = options.now ?? new Date()
  const notBefore = new Date(now.getTime() - BACKDATE_MS)
  const notAfter = new Date(now.getTime() + (options.validityDays ?? 7) * DAY_MS)

  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const server = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const caName = name('pkce sandbox CA')
  const caKeyId = keyIdentifier(ca.publicKey)

  const caCert = certificate(ca.privateKey, {
    issuer: caName,
    subject: caName,
    publicKey: ca.publicKey,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true), integer(Buffer.from([0])))),
      // keyCertSign (bit 5) and cRLSign (bit 6)
      extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)),
      extension(OID.subjectKeyIdentifier, false, octetString(caKeyId)),
    ],
  })

  const cert = certificate(ca.privateKey, {
    issuer: caName,
    subject: name('127.0.0.1'),
    publicKey: server.publicKey,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, sequence()),
      // digitalSignature (bit 0): ECDHE key exchange signs with the certificate key
      extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
      extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
      extension(
        OID.subjectAltName,
        false,
        sequence(
          tagged(0x82, Buffer.from('localhost', 'ascii')),
          tagged(0x87, Buffer.from([127, 0, 0, 1])),
          tagged(0x87, Buffer.from('00000000000000000000000000000001', 'hex')),
        ),
      ),
      extension(OID.authorityKeyIdentifier, false, sequence(tagged(0x80, caKeyId))),
    ],
  })

  return {
    caCert: pem('CERTIFICATE', caCert),
    cert: pem('CERTIFICATE', cert),
    key: server.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }
}

interface TbsFields {
  issuer: Buffer
  subject: Buffer
  publicKey: KeyObject
  notBefore: Date
  notAfter: Date
  extensions: Buffer[]
}

function certificate(signer: KeyObject, fields: TbsFields): Buffer {
  const algorithm = sequence(oid(OID.ecdsaWithSha256))
  const tbs = sequence(
    tagged(0xa0, integer(Buffer.from([2]))),
    integer(serialNumber()),
    algorithm,
    fields.issuer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.publicKey.export({ type: 'spki', format: 'der' }),
    tagged(0xa3, sequence(...fields.extensions)),
  )
  return sequence(tbs, algorithm, bitString(sign('sha256', tbs, signer), 0))
}

// RFC 5280 §4.1.2.2: a positive integer of at most 20 octets; 0x40 in the first octet keeps it
// positive and stops DER from dropping a leading zero.
function serialNumber(): Buffer {
  const serial = randomBytes(16)
  serial[0] = (serial[0]! & 0x3f) | 0x40
  return serial
}

// RFC 5280 §4.2.1.2, method (1): SHA-1 of the subjectPublicKey bits.
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  // A P-256 SubjectPublicKeyInfo ends with the 65-octet uncompressed point.
  return createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest()
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(oid(OID.commonName), tagged(0x0c, Buffer.from(commonName, 'utf8')))))
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value))
}

// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
function time(date: Date): Buffer {
  const iso = date.toISOString()
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'
  return date.getUTCFullYear() < 2050
    ? tagged(0x17, Buffer.from(digits.slice(2), 'ascii'))
    : tagged(0x18, Buffer.from(digits, 'ascii'))
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

function tagged(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content])
}

// X.690 §8.1.3: short form below 128, else the long form with the fewest octets.
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const octets: number[] = []
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256)
  return Buffer.from([0x80 | octets.length, ...octets])
}

function sequence(...items: Buffer[]): Buffer {
  return tagged(0x30, Buffer.concat(items))
}

function set(...items: Buffer[]): Buffer {
  return tagged(0x31, Buffer.concat(items))
}

function boolean(value: boolean): Buffer {
  return tagged(0x01, Buffer.from([value ? 0xff : 0x00]))
}

// X.690 §8.3: two's complement, so a leading octet with the high bit set needs a zero before it.
function integer(magnitude: Buffer): Buffer {
  return tagged(
    0x02,
    magnitude[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude,
  )
}

function bitString(bits: Buffer, unusedBits: number): Buffer {
  return tagged(0x03, Buffer.concat([Buffer.from([unusedBits]), bits]))
}

function octetString(content: Buffer): Buffer {
  return tagged(0x04, content)
}

// X.690 §8.19: the first two arcs share one subidentifier; each is base 128, high bit = "more".
function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number)
  const octets: number[] = []
  for (const arc of [first * 40 + second, ...rest]) {
    const chunk = [arc & 0x7f]
    for (let value = arc >>> 7; value > 0; value >>>= 7) chunk.unshift((value & 0x7f) | 0x80)
    octets.push(...chunk)
  }
  return tagged(0x06, Buffer.from(octets))
}
