import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { toDecodeOptions, toDecodeOutput } from '../../../src/cli/options/decode.js'
import type { RawDecodeOptions } from '../../../src/cli/options/decode.js'
import { buildProgram } from '../../../src/cli/program.js'
import type { HttpSettings } from '../../../src/commands/http-settings.js'
import { main } from '../../../src/main.js'
import { rejection } from '../../helpers/cli-error.js'
import { testCtx } from '../../helpers/test-ctx.js'

const HTTP_DEFAULTS: HttpSettings = {
  timeoutMs: 30_000,
  ca: undefined,
  verbose: false,
  showSecrets: false,
  showTokens: false,
  allowTlsVerificationDisabled: false,
}

const NO_ASSERTIONS = { claims: [], scopes: [], validForSeconds: undefined }

/** Parses argv through the real program, capturing what the decode action would get. */
async function parse(
  argv: string[],
): Promise<{ code: number; command?: string; options?: RawDecodeOptions; args?: unknown[] }> {
  let captured: { command: string; options: RawDecodeOptions; args: unknown[] } | undefined
  const code = await main(argv, testCtx(), {
    run: (command, options, args) => {
      captured = { command, options: options as RawDecodeOptions, args }
      return Promise.resolve()
    },
  })
  return { code, ...captured }
}

/** A command of the whole program, every command with its flags (no `only`). */
async function commandNamed(name: string): Promise<Command | undefined> {
  const program = await buildProgram(testCtx())
  return program.commands.find((c) => c.name() === name)
}

describe('toDecodeOptions()', () => {
  it('without flags: decode only, no verification, no assertions', async () => {
    expect(await toDecodeOptions({}, ['t1', 't2'])).toStrictEqual({
      inputs: ['t1', 't2'],
      verify: undefined,
      assertions: NO_ASSERTIONS,
    })
  })

  it('--verify alone: keys from discovery, 60 s tolerance, HTTP defaults', async () => {
    expect(await toDecodeOptions({ verify: true }, [])).toStrictEqual({
      inputs: [],
      verify: {
        keys: { kind: 'discovery' },
        issuer: undefined,
        audience: undefined,
        clockToleranceSeconds: 60,
        http: HTTP_DEFAULTS,
      },
      assertions: NO_ASSERTIONS,
    })
  })

  it('--verify: false is no verification', async () => {
    expect((await toDecodeOptions({ verify: false }, ['t'])).verify).toBeUndefined()
  })

  it.each(['https://acme.test/.well-known/jwks.json', 'http://127.0.0.1:3000/jwks'])(
    '--jwks-uri %s implies --verify',
    async (jwksUri) => {
      const verify = (await toDecodeOptions({ jwksUri }, ['t'])).verify
      expect(verify?.keys).toStrictEqual({ kind: 'jwks_uri', url: new URL(jwksUri) })
      expect(verify?.keys.kind === 'jwks_uri' ? verify.keys.url.href : undefined).toBe(jwksUri)
      expect(verify?.clockToleranceSeconds).toBe(60)
    },
  )

  it.each([
    ['http://keys.acme.test/jwks', 'keys.acme.test'],
    ['http://keys.acme.test:8080/jwks', 'keys.acme.test:8080'],
  ])('refuses plain http --jwks-uri %s to a host that is not loopback', async (jwksUri, host) => {
    const error = await rejection(toDecodeOptions({ jwksUri, verify: true }, ['t']))
    expect(error.code).toBe('insecure_not_loopback')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(
      `--jwks-uri: plain http is only accepted for a loopback host, not ${host}`,
    )
    expect(error.hint).toBe('use https')
  })

  it('refuses a --jwks-uri that is not a URL', async () => {
    const error = await rejection(toDecodeOptions({ jwksUri: 'keys.json' }, ['t']))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--jwks-uri keys.json is not a URL')
  })

  it('--jwks-file implies --verify', async () => {
    expect((await toDecodeOptions({ jwksFile: 'keys.json' }, ['t'])).verify?.keys).toStrictEqual({
      kind: 'jwks_file',
      path: 'keys.json',
    })
  })

  it('--key-file implies --verify', async () => {
    expect((await toDecodeOptions({ keyFile: 'public.pem' }, ['t'])).verify?.keys).toStrictEqual({
      kind: 'key_file',
      path: 'public.pem',
    })
  })

  it.each<RawDecodeOptions>([
    { issuer: 'https://acme.test/' },
    { audience: 'https://api.acme.test/' },
    { issuer: 'https://acme.test/', audience: 'https://api.acme.test/', verify: false },
  ])('refuses %j without verification', async (raw) => {
    const error = await rejection(toDecodeOptions(raw, ['t']))
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe('--issuer and --audience are checked only when verifying')
    expect(error.hint).toBe('add --verify')
  })

  it('accepts --issuer and --audience with a key flag, which implies --verify', async () => {
    const verify = (
      await toDecodeOptions(
        { keyFile: 'public.pem', issuer: 'https://acme.test/', audience: 'https://api/' },
        ['t'],
      )
    ).verify
    expect(verify?.issuer).toBe('https://acme.test/')
    expect(verify?.audience).toBe('https://api/')
  })

  it.each(['https://accounts.google.com', 'https://acme.us.auth0.com/', 'http://localhost:3000'])(
    '--issuer %s is kept exactly as typed',
    async (issuer) => {
      expect((await toDecodeOptions({ verify: true, issuer }, ['t'])).verify?.issuer).toBe(issuer)
    },
  )

  it('refuses an --issuer with a query', async () => {
    const error = await rejection(
      toDecodeOptions({ verify: true, issuer: 'https://acme.test/?tenant=1' }, ['t']),
    )
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('an issuer has no query or fragment')
  })

  it('refuses a plain http --issuer to a host that is not loopback', async () => {
    const error = await rejection(
      toDecodeOptions({ verify: true, issuer: 'http://idp.acme.test/' }, ['t']),
    )
    expect(error.code).toBe('insecure_not_loopback')
    expect(error.message).toBe(
      '--issuer: plain http is only accepted for a loopback host, not idp.acme.test',
    )
  })

  it.each([
    [undefined, 60],
    [0, 0],
    [5, 5],
    [3600, 3600],
  ])('--clock-tolerance %s → %i s', async (clockTolerance, seconds) => {
    const raw: RawDecodeOptions =
      clockTolerance === undefined ? { verify: true } : { verify: true, clockTolerance }
    expect((await toDecodeOptions(raw, ['t'])).verify?.clockToleranceSeconds).toBe(seconds)
  })

  it('carries the HTTP flags and --show-tokens into the HTTP settings', async () => {
    expect(
      (
        await toDecodeOptions(
          {
            verify: true,
            httpTimeout: 5,
            verbose: true,
            showSecrets: true,
            showTokens: true,
            allowTlsVerificationDisabled: true,
          },
          ['t'],
        )
      ).verify?.http,
    ).toStrictEqual({
      timeoutMs: 5000,
      ca: undefined,
      verbose: true,
      showSecrets: true,
      showTokens: true,
      allowTlsVerificationDisabled: true,
    })
  })

  it('carries the assertions, with or without verification', async () => {
    const raw: RawDecodeOptions = { requireScope: ['read:orders'], expectValidFor: 300 }
    expect((await toDecodeOptions(raw, ['t'])).assertions).toStrictEqual({
      claims: [],
      scopes: ['read:orders'],
      validForSeconds: 300,
    })
  })
})

describe('toDecodeOutput()', () => {
  it.each<[RawDecodeOptions, string]>([
    [{}, 'human'],
    [{ json: false, claims: false }, 'human'],
    [{ json: true }, 'json'],
    [{ claims: true }, 'claims'],
    [{ claims: true, json: true }, 'claims'],
    [{ claims: false, json: true }, 'json'],
  ])('%j → %s', (raw, output) => {
    expect(toDecodeOutput(raw)).toBe(output)
  })
})

describe('pkce decode argv → options', () => {
  it('no commander defaults: only the global --no-color default', async () => {
    const { code, command, options, args } = await parse(['decode', 'tok'])
    expect(code).toBe(0)
    expect(command).toBe('decode')
    expect(options).toEqual({ color: true })
    expect(args).toEqual([['tok']])
  })

  it('--verify --issuer --audience --clock-tolerance reach the converter', async () => {
    const { code, options } = await parse([
      'decode',
      '--verify',
      '--issuer',
      'https://accounts.google.com',
      '--audience',
      'https://api.acme.test/',
      '--clock-tolerance',
      '5',
      '--show-tokens',
      'tok',
    ])
    expect(code).toBe(0)
    expect(options).toEqual({
      color: true,
      verify: true,
      issuer: 'https://accounts.google.com',
      audience: 'https://api.acme.test/',
      clockTolerance: 5,
      showTokens: true,
    })
    expect((await toDecodeOptions(options as RawDecodeOptions, ['tok'])).verify).toStrictEqual({
      keys: { kind: 'discovery' },
      issuer: 'https://accounts.google.com',
      audience: 'https://api.acme.test/',
      clockToleranceSeconds: 5,
      http: { ...HTTP_DEFAULTS, showTokens: true },
    })
  })

  it('--jwks-uri with --key-file is a usage error, exit 2', async () => {
    const { code, command } = await parse([
      'decode',
      '--jwks-uri',
      'https://acme.test/jwks',
      '--key-file',
      'k.pem',
      'tok',
    ])
    expect(code).toBe(2)
    expect(command).toBeUndefined()
  })

  it.each(['--issuer', '--audience', '--clock-tolerance'])(
    '%s is the same flag in decode and login',
    async (long) => {
      const find = async (name: string) =>
        (await commandNamed(name))?.options.filter((o) => o.long === long) ?? []
      const [decode, ...moreDecode] = await find('decode')
      const [login, ...moreLogin] = await find('login')
      expect(moreDecode).toEqual([])
      expect(moreLogin).toEqual([])
      expect(decode?.long).toBe(long)
      expect(login?.long).toBe(long)
      expect(decode?.flags).toBe(login?.flags)
      expect(decode?.description).toBe(login?.description)
      expect(decode?.defaultValue).toBeUndefined()
      expect(login?.defaultValue).toBeUndefined()
    },
  )

  it('the shared flags read as documented', async () => {
    const decode = await commandNamed('decode')
    const text = (long: string) => decode?.options.find((o) => o.long === long)?.description ?? ''
    expect(text('--issuer')).toBe(
      'issuer URL of any OpenID Connect provider (exact, trailing slash included); tokens must carry it as iss',
    )
    expect(text('--audience')).toBe(
      "API identifier (Auth0 audience): asked for, and expected in the access token's aud",
    )
    expect(text('--clock-tolerance')).toBe('allowed clock skew for exp, nbf and iat (default: 60)')
  })
})
