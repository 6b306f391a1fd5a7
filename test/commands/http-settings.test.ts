import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:https'
import type { Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { rootCertificates } from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MockAgent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  additionalCertificates,
  createCommandHttp,
  DEFAULT_HTTP_SETTINGS,
} from '../../src/commands/http-settings.js'
import { createSandboxCertificates } from '../../src/sandbox/ca.js'
import { testCtx } from '../helpers/test-ctx.js'

// A real HTTPS server with a throw-away CA: the command's Http must trust exactly what it is told.

const certificates = createSandboxCertificates()
const servers: Server[] = []
let url: URL
let dir: string

/** An HTTPS server on 127.0.0.1:0 with the throw-away CA's certificate; its URL. */
async function serve(): Promise<URL> {
  const server = createServer(
    { cert: certificates.cert, key: certificates.key },
    (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end('{"ok":true}')
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  return new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`)
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-http-settings-'))
  url = await serve()
})
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  await rm(dir, { recursive: true, force: true })
})

describe('DEFAULT_HTTP_SETTINGS', () => {
  it('the flags’ defaults: 30 s, no extra CA, no trace', () => {
    expect(DEFAULT_HTTP_SETTINGS).toEqual({
      timeoutMs: 30_000,
      ca: undefined,
      verbose: false,
      showSecrets: false,
      showTokens: false,
      allowTlsVerificationDisabled: false,
    })
  })
})

describe('createCommandHttp(): TLS trust (security.md TL-1)', () => {
  it('trusts the --ca-file PEM the settings carry', async () => {
    const http = createCommandHttp({ ...DEFAULT_HTTP_SETTINGS, ca: certificates.caCert }, testCtx())
    const response = await http({ method: 'GET', url, stage: 'discovery' })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true })
  })

  it('without it the same server is a tls_error (exit 5)', async () => {
    const http = createCommandHttp(DEFAULT_HTTP_SETTINGS, testCtx())
    await expect(http({ method: 'GET', url, stage: 'discovery' })).rejects.toMatchObject({
      code: 'tls_error',
      exitCode: 5,
    })
  })

  it('trusts NODE_EXTRA_CA_CERTS', async () => {
    const path = join(dir, 'extra.pem')
    await writeFile(path, certificates.caCert)
    const http = createCommandHttp(
      DEFAULT_HTTP_SETTINGS,
      testCtx({ env: { NODE_EXTRA_CA_CERTS: path } }),
    )
    expect((await http({ method: 'GET', url, stage: 'discovery' })).status).toBe(200)
  })

  it('an SSL_CERT_FILE that cannot be read is a usage error naming it', async () => {
    const path = join(dir, 'missing-bundle.pem')
    const http = createCommandHttp(DEFAULT_HTTP_SETTINGS, testCtx({ env: { SSL_CERT_FILE: path } }))
    await expect(http({ method: 'GET', url, stage: 'discovery' })).rejects.toMatchObject({
      code: 'usage_error',
      exitCode: 2,
      message: `cannot read SSL_CERT_FILE ${path} (ENOENT)`,
    })
  })
})

describe('createCommandHttp(): the trust store is built once per run, and only for TLS (issue 20)', () => {
  it('the system bundle is read before the first https request only: later connections reuse it', async () => {
    const bundle = join(dir, 'once.pem')
    await writeFile(bundle, certificates.caCert)
    const http = createCommandHttp(
      DEFAULT_HTTP_SETTINGS,
      testCtx({ env: { SSL_CERT_FILE: bundle } }),
    )
    expect((await http({ method: 'GET', url, stage: 'discovery' })).status).toBe(200)
    await rm(bundle)
    // Another origin is another connection: read again, the bundle would now be missing.
    const other = await serve()
    expect((await http({ method: 'GET', url: other, stage: 'discovery' })).status).toBe(200)
  })

  it('a plain-http run never reads it: an unreadable SSL_CERT_FILE does not matter', async () => {
    const plain = createHttpServer((_request, response) => response.end('{}'))
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
    try {
      const http = createCommandHttp(
        DEFAULT_HTTP_SETTINGS,
        testCtx({ env: { SSL_CERT_FILE: join(dir, 'never-read.pem') } }),
      )
      const target = new URL(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/`)
      expect((await http({ method: 'GET', url: target, stage: 'discovery' })).status).toBe(200)
    } finally {
      plain.closeAllConnections()
      await new Promise((resolve) => plain.close(resolve))
    }
  })
})

describe('additionalCertificates()', () => {
  const first = rootCertificates[0]!
  const second = rootCertificates[1]!

  it("keeps only what Node's bundled roots lack, each certificate once, in order", () => {
    const bundle = `# a distribution's bundle\n${first}\n${certificates.caCert}\n${second}\n`
    expect(additionalCertificates([bundle, certificates.caCert])).toEqual([
      certificates.caCert.trim(),
    ])
  })

  it('compares certificates, not text: other line breaks are the same certificate', () => {
    const rewrapped = first.replace(/\n/gu, '\r\n')
    expect(additionalCertificates([rewrapped])).toEqual([])
  })

  it('nothing to add for an empty or certificate-less input', () => {
    expect(additionalCertificates([])).toEqual([])
    expect(additionalCertificates(['not a certificate'])).toEqual([])
  })
})

describe('createCommandHttp(): NODE_TLS_REJECT_UNAUTHORIZED=0 (security.md TL-2)', () => {
  it('in CI it is refused unless acknowledged', async () => {
    const ctx = testCtx({ env: { NODE_TLS_REJECT_UNAUTHORIZED: '0', CI: 'true' } })
    const http = createCommandHttp(DEFAULT_HTTP_SETTINGS, ctx)
    await expect(http({ method: 'GET', url, stage: 'discovery' })).rejects.toMatchObject({
      code: 'tls_verification_disabled',
      exitCode: 2,
      message: 'NODE_TLS_REJECT_UNAUTHORIZED=0 turns TLS verification off, and CI is set',
    })
  })

  it('acknowledged (--allow-tls-verification-disabled): a loud warning, and the request goes on', async () => {
    const agent = new MockAgent()
    agent.disableNetConnect()
    agent.get('https://as.test').intercept({ path: '/', method: 'GET' }).reply(200, 'ok')
    const ctx = testCtx({
      dispatcher: agent,
      env: { NODE_TLS_REJECT_UNAUTHORIZED: '0', CI: 'true' },
    })
    const http = createCommandHttp(
      { ...DEFAULT_HTTP_SETTINGS, allowTlsVerificationDisabled: true },
      ctx,
    )
    expect(
      (await http({ method: 'GET', url: new URL('https://as.test/'), stage: 'discovery' })).status,
    ).toBe(200)
    expect(ctx.stderr()).toBe(
      'warning: NODE_TLS_REJECT_UNAUTHORIZED=0: TLS certificates are NOT verified; anyone on the network path can impersonate the server (tls_verification_disabled)\n',
    )
    agent.assertNoPendingInterceptors()
    await agent.close()
  })
})

describe('createCommandHttp(): --header', () => {
  it('sends each header; a value named like a secret is redacted on stderr from then on', async () => {
    const agent = new MockAgent()
    agent.disableNetConnect()
    agent
      .get('https://as.test')
      .intercept({
        path: '/',
        method: 'GET',
        headers: { 'x-api-key': 'api-key-value-123', 'client-certificate': 'MIIBcert' },
      })
      .reply(200, 'ok')
    const ctx = testCtx({ dispatcher: agent })
    const http = createCommandHttp(
      {
        ...DEFAULT_HTTP_SETTINGS,
        headers: [
          ['x-api-key', 'api-key-value-123'],
          ['client-certificate', 'MIIBcert'],
        ],
      },
      ctx,
    )
    expect(
      (await http({ method: 'GET', url: new URL('https://as.test/'), stage: 'discovery' })).status,
    ).toBe(200)
    expect(ctx.secrets.redact('key api-key-value-123, cert MIIBcert')).toBe(
      'key [redacted 17 chars], cert MIIBcert',
    )
    agent.assertNoPendingInterceptors()
    await agent.close()
  })
})
