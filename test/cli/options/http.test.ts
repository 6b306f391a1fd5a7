import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addHttpOptions, toHttpSettings } from '../../../src/cli/options/http.js'
import type { RawHttpOptions } from '../../../src/cli/options/http.js'
import { createSandboxCertificates } from '../../../src/sandbox/ca.js'
import { rejection } from '../../helpers/cli-error.js'

let dir: string
let caCert: string
let caFile: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-http-'))
  caCert = createSandboxCertificates().caCert
  caFile = join(dir, 'ca.pem')
  await writeFile(caFile, caCert)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function program(): Command {
  return addHttpOptions(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
}

function parse(argv: string[]): RawHttpOptions {
  return program().parse(argv, { from: 'user' }).opts<RawHttpOptions>()
}

describe('toHttpSettings()', () => {
  it('defaults: 30 s per request, system trust only, no trace', async () => {
    expect(await toHttpSettings({}, false)).toStrictEqual({
      timeoutMs: 30_000,
      ca: undefined,
      verbose: false,
      showSecrets: false,
      showTokens: false,
      allowTlsVerificationDisabled: false,
    })
  })

  it('carries every flag, the timeout in milliseconds, and showTokens from the output flags', async () => {
    expect(
      await toHttpSettings(
        {
          httpTimeout: 600,
          verbose: true,
          showSecrets: true,
          allowTlsVerificationDisabled: true,
        },
        true,
      ),
    ).toStrictEqual({
      timeoutMs: 600_000,
      ca: undefined,
      verbose: true,
      showSecrets: true,
      showTokens: true,
      allowTlsVerificationDisabled: true,
    })
  })

  it('--ca-file: the PEM is read now, whole', async () => {
    expect(caCert.startsWith('-----BEGIN CERTIFICATE-----')).toBe(true)
    const settings = await toHttpSettings({ caFile }, false)
    expect(settings.ca).toBe(caCert)
  })

  it('--ca-file with two certificates keeps both', async () => {
    const path = join(dir, 'two.pem')
    const second = createSandboxCertificates().caCert
    await writeFile(path, `${caCert}${second}`)
    expect((await toHttpSettings({ caFile: path }, false)).ca).toBe(`${caCert}${second}`)
  })

  it('issue 11: a --ca-file with no certificate is exit 2 naming the file, before any request', async () => {
    const path = join(dir, 'not-a-ca.pem')
    await writeFile(path, 'just some text\n')
    const error = await rejection(toHttpSettings({ caFile: path }, false))
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(
      `--ca-file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    )
  })

  it('a --ca-file holding a private key only is refused the same way', async () => {
    const path = join(dir, 'key.pem')
    await writeFile(path, createSandboxCertificates().key)
    const error = await rejection(toHttpSettings({ caFile: path }, false))
    expect(error.message).toBe(
      `--ca-file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    )
  })

  it('a --ca-file whose second certificate does not parse is refused, naming which', async () => {
    const path = join(dir, 'broken.pem')
    await writeFile(path, `${caCert}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`)
    const error = await rejection(toHttpSettings({ caFile: path }, false))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(
      `--ca-file ${path}: certificate 2 of 2 is not a valid X.509 certificate`,
    )
  })

  it('a --ca-file that cannot be read is exit 2 naming the file', async () => {
    const path = join(dir, 'missing.pem')
    const error = await rejection(toHttpSettings({ caFile: path }, false))
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(`cannot read --ca-file ${path} (ENOENT)`)
  })
})

describe('addHttpOptions()', () => {
  it('gives no defaults, so the converter applies them; help names the timeout default', () => {
    expect(parse([])).toEqual({})
    const options = program().options
    expect(options.map((o) => o.long)).toEqual([
      '--http-timeout',
      '--ca-file',
      '--verbose',
      '--show-secrets',
      '--header',
      '--client-cert',
      '--client-key',
      '--client-key-passphrase-file',
      '--allow-tls-verification-disabled',
    ])
    expect(options.map((o) => o.defaultValue as unknown)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ])
    expect(options[0]?.description).toBe('timeout for each HTTP request (default: 30)')
  })

  it('parses every flag', () => {
    expect(
      parse([
        '--http-timeout',
        '1',
        '--ca-file',
        'ca.pem',
        '--verbose',
        '--show-secrets',
        '--allow-tls-verification-disabled',
      ]),
    ).toEqual({
      httpTimeout: 1,
      caFile: 'ca.pem',
      verbose: true,
      showSecrets: true,
      allowTlsVerificationDisabled: true,
    })
    expect(parse(['--http-timeout', '600'])).toEqual({ httpTimeout: 600 })
  })

  it.each(['0', '601', '1.5', '30s'])('refuses --http-timeout %s', (value) => {
    expect(() => parse(['--http-timeout', value])).toThrow(
      `option '--http-timeout <seconds>' argument '${value}' is invalid. expected a whole number from 1 to 600`,
    )
  })

  it('--header is repeatable, split at the first colon, names lower-cased, values trimmed', () => {
    expect(
      parse([
        '--header',
        'Client-Certificate: MIIB:abc',
        '--header',
        'x-empty:',
        '--header',
        'X-Api-Key:k1',
      ]),
    ).toEqual({
      header: [
        ['client-certificate', 'MIIB:abc'],
        ['x-empty', ''],
        ['x-api-key', 'k1'],
      ],
    })
  })

  it.each(['no-colon', ': value', 'two words: v', 'x-a: line\r\nx-b: injected'])(
    'refuses --header %j',
    (value) => {
      expect(() => parse(['--header', value])).toThrow(
        `option '--header <"name: value">' argument '${value}' is invalid. expected "<name>: <value>", a header name without spaces`,
      )
    },
  )

  it.each(['Authorization: Basic x', 'dpop: x', 'Content-Type: text/plain', 'host: a'])(
    'refuses --header %j: pkce sets it itself',
    (value) => {
      const name = value.slice(0, value.indexOf(':')).toLowerCase()
      expect(() => parse(['--header', value])).toThrow(
        `option '--header <"name: value">' argument '${value}' is invalid. pkce sets ${name} itself (client authentication, DPoP, the body); it cannot be added`,
      )
    },
  )

  it('toHttpSettings() carries --header only when given', async () => {
    expect(await toHttpSettings({ header: [['x-a', '1']] }, false)).toMatchObject({
      headers: [['x-a', '1']],
    })
    expect(await toHttpSettings({ header: [] }, false)).not.toHaveProperty('headers')
  })

  it.each([
    [{ clientCert: 'c.pem' }, '--client-cert needs --client-key'],
    [{ clientKey: 'k.pem' }, '--client-key needs --client-cert'],
    [{ clientKeyPassphraseFile: 'p' }, '--client-key-passphrase-file needs --client-key'],
  ] as const)('%j: a usage error before any request', async (raw, message) => {
    await expect(toHttpSettings(raw, false)).rejects.toMatchObject({
      code: 'usage_error',
      exitCode: 2,
      message,
    })
  })
})
