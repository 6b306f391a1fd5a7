import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/main.js'
import { createSandboxCertificates } from '../../src/sandbox/ca.js'
import { testCtx } from '../helpers/test-ctx.js'

// Issue 18: a client certificate whose key is not its own is exit 2 before any request, in every
// network command that takes the flags.

let dir: string
let cert: string
let otherKey: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-cli-client-cert-'))
  cert = join(dir, 'client.pem')
  otherKey = join(dir, 'other.key')
  await writeFile(cert, createSandboxCertificates().cert)
  await writeFile(otherKey, createSandboxCertificates().key, { mode: 0o600 })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const target = ['--issuer', 'https://as.test/', '--client-id', 'c1']

describe('--client-cert with a key that is not its own', () => {
  it.each([
    ['login', [...target, '--client-auth', 'tls_client_auth']],
    ['par', [...target, '--client-auth', 'self_signed_tls_client_auth']],
    ['refresh', [...target, '--refresh-token-file', '/nonexistent']],
  ])('%s: exit 2 with one document, no request', async (command, args) => {
    const ctx = testCtx()
    const code = await main(
      [command, ...args, '--client-cert', cert, '--client-key', otherKey, '--json'],
      ctx,
    )
    expect(code).toBe(2)
    const doc = JSON.parse(ctx.stdout()) as {
      ok: boolean
      error: { code: string; message: string }
    }
    expect(doc.ok).toBe(false)
    expect(doc.error.code).toBe('usage_error')
    expect(doc.error.message).toBe(
      `--client-key ${otherKey} is not the key of the certificate in --client-cert ${cert} (CN=127.0.0.1)`,
    )
  })

  it('login --client-auth tls_client_auth without --client-cert: exit 2 naming the flags', async () => {
    const ctx = testCtx()
    const code = await main(['login', ...target, '--client-auth', 'tls_client_auth', '--json'], ctx)
    expect(code).toBe(2)
    expect(JSON.parse(ctx.stdout())).toMatchObject({
      ok: false,
      error: {
        code: 'usage_error',
        message: '--client-auth tls_client_auth needs a client certificate',
        hint: 'pass --client-cert <pem> and --client-key <pem>',
      },
    })
  })
})
