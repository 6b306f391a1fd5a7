import { exportPKCS8, generateKeyPair } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { toClientAuth } from '../../../src/cli/options/client-auth.js'
import { rejection } from '../../helpers/cli-error.js'
import { withTempFiles } from '../../helpers/temp-files.js'
import { testCtx } from '../../helpers/test-ctx.js'

const files = withTempFiles('pkce-client-auth-')
let secretFile: string

beforeAll(async () => {
  secretFile = await files.file('secret', 'the-client-secret\n')
})

describe('toClientAuth()', () => {
  it('refuses --client-secret: secrets never come from argv (docs/security.md SO-1)', async () => {
    const ctx = testCtx()
    const error = await rejection(
      toClientAuth({ clientSecret: 's3cr3t-value', clientSecretFile: secretFile }, ctx),
    )
    expect(error.code).toBe('secret_on_argv')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(
      'secrets are not accepted as flag values: other users see them in ps and shell history',
    )
    expect(error.hint).toBe(
      'use --client-secret-file <path>, or --client-secret-file - to read it from stdin',
    )
    expect(error.message).not.toContain('s3cr3t-value')
  })

  it('is none without a secret or key', async () => {
    expect(await toClientAuth({}, testCtx())).toEqual({ method: 'none' })
  })

  it('reads the secret file and sends it with client_secret_post by default', async () => {
    const ctx = testCtx()
    expect(await toClientAuth({ clientSecretFile: secretFile }, ctx)).toEqual({
      method: 'client_secret_post',
      secret: 'the-client-secret',
    })
    expect(ctx.secrets.redact('the-client-secret')).toBe('[redacted 17 chars]')
    expect(ctx.stderr()).toBe('')
  })

  it('uses client_secret_basic when asked', async () => {
    expect(
      await toClientAuth(
        { clientSecretFile: secretFile, clientAuth: 'client_secret_basic' },
        testCtx(),
      ),
    ).toEqual({ method: 'client_secret_basic', secret: 'the-client-secret' })
  })

  it('uses client_secret_jwt when asked: the secret keys an HS256 assertion', async () => {
    const ctx = testCtx()
    expect(
      await toClientAuth({ clientSecretFile: secretFile, clientAuth: 'client_secret_jwt' }, ctx),
    ).toEqual({ method: 'client_secret_jwt', secret: 'the-client-secret' })
    expect(ctx.secrets.redact('the-client-secret')).toBe('[redacted 17 chars]')
  })

  it.each(['tls_client_auth', 'self_signed_tls_client_auth'] as const)(
    '%s: the certificate authenticates; no secret is read (RFC 8705 §2)',
    async (method) => {
      expect(
        await toClientAuth({ clientAuth: method, clientCert: 'client.pem' }, testCtx()),
      ).toEqual({ method })
      await expect(toClientAuth({ clientAuth: method }, testCtx())).rejects.toMatchObject({
        code: 'usage_error',
        exitCode: 2,
        message: `--client-auth ${method} needs a client certificate`,
        hint: 'pass --client-cert <pem> and --client-key <pem>',
      })
      await expect(
        toClientAuth(
          { clientAuth: method, clientCert: 'client.pem', clientSecretFile: secretFile },
          testCtx(),
        ),
      ).rejects.toMatchObject({
        code: 'usage_error',
        message: `--client-auth ${method} sends no secret or assertion: the TLS client certificate authenticates`,
      })
    },
  )

  it('reads the secret from stdin with -', async () => {
    expect(
      await toClientAuth({ clientSecretFile: '-' }, testCtx({ stdin: 'from-stdin-secret\n' })),
    ).toEqual({ method: 'client_secret_post', secret: 'from-stdin-secret' })
  })

  it('ignores --client-auth without a secret', async () => {
    expect(await toClientAuth({ clientAuth: 'client_secret_basic' }, testCtx())).toEqual({
      method: 'none',
    })
  })

  it('reads a PEM private key for private_key_jwt', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const path = await files.file('key.pem', await exportPKCS8(privateKey))
    const auth = await toClientAuth({ privateKeyFile: path }, testCtx())
    expect(auth.method).toBe('private_key_jwt')
    if (auth.method !== 'private_key_jwt') return
    expect(auth.alg).toBe('ES256')
    expect([auth.key.kty, auth.key.crv, typeof auth.key.d]).toEqual(['EC', 'P-256', 'string'])
  })
})
