import { createHash, createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:https'
import type { Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readClientCertificate } from '../../src/commands/client-certificate.js'
import { createCommandHttp, DEFAULT_HTTP_SETTINGS } from '../../src/commands/http-settings.js'
import { createSandboxCertificates } from '../../src/sandbox/ca.js'
import { testCtx } from '../helpers/test-ctx.js'

// The server's own throw-away CA, and a second pair standing in for the client's certificate.
const server = createSandboxCertificates()
const client = createSandboxCertificates()
const other = createSandboxCertificates()
const servers: Server[] = []
let dir: string
const file: Record<string, string> = {}

/** An HTTPS server asking for a client certificate; answers with the SHA-256 of the one it got. */
async function serve(require: boolean): Promise<URL> {
  const https = createServer(
    {
      cert: server.cert,
      key: server.key,
      requestCert: true,
      // Requiring one: only certificates from `other`'s CA pass, which the tests never present.
      rejectUnauthorized: require,
      ...(require ? { ca: other.caCert } : {}),
    },
    (request, response) => {
      const peer = (request.socket as TLSSocket).getPeerCertificate()
      const raw = (peer as { raw?: Buffer }).raw
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(
        JSON.stringify({
          x5t: raw === undefined ? null : createHash('sha256').update(raw).digest('base64url'),
        }),
      )
    },
  )
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
  servers.push(https)
  return new URL(`https://127.0.0.1:${(https.address() as AddressInfo).port}/oauth/token`)
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-client-cert-'))
  const encrypted = createPrivateKey(client.key).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: 'the passphrase',
  })
  const files: Record<string, string> = {
    cert: client.cert,
    key: client.key,
    otherKey: other.key,
    encrypted: encrypted.toString(),
    passphrase: 'the passphrase\n',
    wrongPassphrase: 'not it\n',
    notPem: 'hello\n',
  }
  for (const [name, text] of Object.entries(files)) {
    file[name] = join(dir, `${name}.pem`)
    await writeFile(file[name], text, { mode: 0o600 })
  }
})
afterAll(async () => {
  for (const https of servers) {
    https.closeAllConnections()
    await new Promise((resolve) => https.close(resolve))
  }
  await rm(dir, { recursive: true, force: true })
})

const paths = (cert: string, key: string, passphraseFile?: string) => ({
  cert: file[cert] ?? '',
  key: file[key] ?? '',
  passphraseFile: passphraseFile === undefined ? undefined : file[passphraseFile],
})

describe('readClientCertificate()', () => {
  it('reads the pair; x5t#S256 is the base64url SHA-256 of the DER certificate (RFC 8705 §3.1)', async () => {
    const read = await readClientCertificate(paths('cert', 'key'))
    const der = new X509Certificate(client.cert).raw
    expect(read).toEqual({
      cert: client.cert,
      key: client.key,
      passphrase: undefined,
      x5tS256: createHash('sha256').update(der).digest('base64url'),
      subject: 'CN=127.0.0.1',
    })
  })

  it('a key that is not the certificate’s: usage_error (exit 2) before any request', async () => {
    await expect(readClientCertificate(paths('cert', 'otherKey'))).rejects.toMatchObject({
      code: 'usage_error',
      exitCode: 2,
      message: `--client-key ${file.otherKey} is not the key of the certificate in --client-cert ${file.cert} (CN=127.0.0.1)`,
      hint: 'pass the private key the certificate was issued for',
    })
  })

  it('an encrypted key: needs --client-key-passphrase-file, opens with the right one', async () => {
    await expect(readClientCertificate(paths('cert', 'encrypted'))).rejects.toMatchObject({
      code: 'usage_error',
      message: `cannot decrypt --client-key ${file.encrypted}: it is encrypted`,
    })
    await expect(
      readClientCertificate(paths('cert', 'encrypted', 'wrongPassphrase')),
    ).rejects.toMatchObject({
      code: 'usage_error',
      message: `cannot decrypt --client-key ${file.encrypted}: wrong passphrase`,
    })
    const read = await readClientCertificate(paths('cert', 'encrypted', 'passphrase'))
    expect(read.passphrase).toBe('the passphrase')
  })

  it('files that are not PEM are usage errors naming the flag', async () => {
    await expect(readClientCertificate(paths('notPem', 'key'))).rejects.toMatchObject({
      code: 'usage_error',
      message: `--client-cert ${file.notPem} holds no PEM certificate`,
    })
    await expect(readClientCertificate(paths('cert', 'notPem'))).rejects.toMatchObject({
      code: 'usage_error',
      exitCode: 2,
    })
  })
})

describe('createCommandHttp() with --client-cert (RFC 8705 §2)', () => {
  it('presents the certificate on the TLS connection, through the run’s one context', async () => {
    const url = await serve(false)
    const clientCertificate = await readClientCertificate(paths('cert', 'encrypted', 'passphrase'))
    const http = createCommandHttp(
      { ...DEFAULT_HTTP_SETTINGS, ca: server.caCert, clientCertificate },
      testCtx(),
    )
    const response = await http({ method: 'GET', url, stage: 'token' })
    expect(await response.json()).toEqual({ x5t: clientCertificate.x5tS256 })
  })

  it('without one, a server that asks gets none', async () => {
    const url = await serve(false)
    const http = createCommandHttp({ ...DEFAULT_HTTP_SETTINGS, ca: server.caCert }, testCtx())
    const response = await http({ method: 'GET', url, stage: 'token' })
    expect(await response.json()).toEqual({ x5t: null })
  })

  it('a handshake refused for a missing certificate is tls_error (exit 5), explained', async () => {
    const url = await serve(true)
    const http = createCommandHttp({ ...DEFAULT_HTTP_SETTINGS, ca: server.caCert }, testCtx())
    await expect(
      http({ method: 'POST', url, stage: 'token', form: new URLSearchParams() }),
    ).rejects.toMatchObject({
      code: 'tls_error',
      exitCode: 5,
      stage: 'token',
      message: `the TLS handshake for POST ${url.origin}/oauth/token was refused: the server requires a client certificate and none was presented (certificate_required)`,
      hint: 'this endpoint authenticates clients with mTLS (RFC 8705): pass --client-cert <pem> and --client-key <pem> with a certificate it accepts',
    })
  })

  it('a certificate the server does not trust: exit 5 (Node closes without an alert, so unexplained)', async () => {
    // Node's TLS server checks a presented certificate after the handshake and closes the socket
    // without a TLS alert; OpenSSL-level servers send unknown_ca or bad_certificate, explained above.
    const url = await serve(true)
    const clientCertificate = await readClientCertificate(paths('cert', 'key'))
    const http = createCommandHttp(
      { ...DEFAULT_HTTP_SETTINGS, ca: server.caCert, clientCertificate },
      testCtx(),
    )
    await expect(http({ method: 'GET', url, stage: 'token' })).rejects.toMatchObject({
      code: 'network_error',
      exitCode: 5,
    })
  })
})
