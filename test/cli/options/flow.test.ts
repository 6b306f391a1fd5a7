import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { exportJWK, generateKeyPair } from 'jose'
import type { JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addFlowOptions,
  toAuthorizeOptions,
  toLoginOptions,
} from '../../../src/cli/options/flow.js'
import type { RawAuthorizeOptions, RawLoginOptions } from '../../../src/cli/options/flow.js'
import { buildProgram } from '../../../src/cli/program.js'
import type { LoginOptions } from '../../../src/commands/login.js'
import { createSandboxCertificates } from '../../../src/sandbox/ca.js'
import { rejection } from '../../helpers/cli-error.js'
import { testCtx } from '../../helpers/test-ctx.js'

// RFC 7636 Appendix B's code_verifier.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'

let dir: string
let secretFile: string
let caFile: string
let caCert: string
let dpopKeyFile: string
let dpopJwk: JWK

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-flow-options-'))
  secretFile = join(dir, 'secret')
  await writeFile(secretFile, 'the-client-secret\n', { mode: 0o600 })
  caCert = createSandboxCertificates().caCert
  caFile = join(dir, 'ca.pem')
  await writeFile(caFile, caCert)
  const { privateKey } = await generateKeyPair('ES384', { extractable: true })
  dpopJwk = { ...(await exportJWK(privateKey)), alg: 'ES384' }
  dpopKeyFile = join(dir, 'dpop.jwk')
  await writeFile(dpopKeyFile, JSON.stringify(dpopJwk), { mode: 0o600 })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function program(): Command {
  return addFlowOptions(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
}

function parse(argv: string[]): RawLoginOptions {
  return program().parse(argv, { from: 'user' }).opts<RawLoginOptions>()
}

/** A command of the whole program, every command with its flags (no `only`). */
async function commandNamed(name: string): Promise<Command> {
  const whole = await buildProgram(testCtx())
  const command = whole.commands.find((c) => c.name() === name)
  if (command === undefined) throw new Error(`no command ${name}`)
  return command
}

/** Every flag addFlowOptions defines, in order. */
const FLOW_FLAGS = [
  '--domain',
  '--issuer',
  '--client-id',
  '--client-secret-file',
  '--client-auth',
  '--private-key-file',
  '--client-secret',
  '--audience',
  '--scope',
  '--max-age',
  '--nonce',
  '--resource',
  '--organization',
  '--invitation',
  '--connection',
  '--prompt',
  '--login-hint',
  '--response-mode',
  '--authorization-details',
  '--param',
  '--code-verifier',
  '--state',
  '--dpop',
  '--dpop-alg',
  '--dpop-key',
  '--allow-dpop-downgrade',
  '--http-timeout',
  '--ca-file',
  '--verbose',
  '--show-secrets',
  '--header',
  '--client-cert',
  '--client-key',
  '--client-key-passphrase-file',
  '--allow-tls-verification-disabled',
  '--expect-claim',
  '--require-scope',
  '--expect-valid-for',
  '--redirect-uri',
  '--port',
  '--no-browser',
  '--browser',
  '--timeout',
  '--paste',
  '--remote',
  '--clock-tolerance',
  '--show-tokens',
  '--print',
  '--save',
]

function duplicates(longs: (string | undefined)[]): (string | undefined)[] {
  return longs.filter((long, index) => longs.indexOf(long) !== index)
}

/**
 * What commander fills in before parsing: each option's `defaultValue`, and the values it starts
 * with (a negatable `--no-x` alone starts `x` at `true`, without a `defaultValue`).
 */
function commanderDefaults(command: Command): {
  defaultValues: Record<string, unknown>
  initial: Record<string, unknown>
  sources: Record<string, string | undefined>
} {
  const initial = command.opts()
  return {
    defaultValues: Object.fromEntries(
      command.options
        .filter((o) => o.defaultValue !== undefined)
        .map((o) => [o.long ?? o.flags, o.defaultValue as unknown]),
    ),
    initial,
    sources: Object.fromEntries(
      Object.keys(initial).map((key) => [key, command.getOptionValueSource(key)]),
    ),
  }
}

/** The only default: `--no-browser` starts `browser` at `true`. */
const ONLY_NO_BROWSER = {
  defaultValues: {},
  initial: { browser: true },
  sources: { browser: 'default' },
}

describe('toLoginOptions()', () => {
  it('composes every concern from a full flag set', async () => {
    const raw = parse([
      '--issuer',
      'https://acme.test/',
      '--client-id',
      'abc',
      '--client-secret-file',
      secretFile,
      '--client-auth',
      'client_secret_basic',
      '--audience',
      'https://api.acme.test/',
      '--resource',
      'https://r1.test/',
      '--resource',
      'https://r2.test/',
      '--scope',
      'openid offline_access',
      '--organization',
      'org_1',
      '--invitation',
      'inv_1',
      '--connection',
      'github',
      '--prompt',
      'login',
      '--max-age',
      '600',
      '--login-hint',
      'ada@example.com',
      '--response-mode',
      'query',
      '--authorization-details',
      '[ {"type": "payment_initiation"} ]',
      '--param',
      'ext-a=1',
      '--param',
      'screen_hint=signup',
      '--code-verifier',
      VERIFIER,
      '--state',
      'st-1',
      '--nonce',
      'n-1',
      '--dpop',
      '--dpop-alg',
      'ES384',
      '--allow-dpop-downgrade',
      '--http-timeout',
      '10',
      '--ca-file',
      caFile,
      '--verbose',
      '--show-secrets',
      '--allow-tls-verification-disabled',
      '--expect-claim',
      'azp=abc',
      '--require-scope',
      'read:orders',
      '--expect-valid-for',
      '5m',
      '--redirect-uri',
      'http://localhost:9000/cb',
      '--browser',
      'firefox --private',
      '--timeout',
      '60',
      '--clock-tolerance',
      '5',
      '--show-tokens',
      '--print',
      'access_token',
    ])
    const ctx = testCtx()
    const expected: LoginOptions = {
      target: {
        issuer: 'https://acme.test/',
        client: {
          client_id: 'abc',
          auth: { method: 'client_secret_basic', secret: 'the-client-secret' },
        },
      },
      request: {
        scope: 'openid offline_access',
        audience: 'https://api.acme.test/',
        resources: ['https://r1.test/', 'https://r2.test/'],
        organization: 'org_1',
        invitation: 'inv_1',
        connection: 'github',
        prompt: 'login',
        maxAgeSeconds: 600,
        loginHint: 'ada@example.com',
        responseMode: 'query',
        authorizationDetails: '[{"type":"payment_initiation"}]',
        params: [
          ['ext-a', '1'],
          ['screen_hint', 'signup'],
        ],
        codeVerifier: VERIFIER,
        state: 'st-1',
        nonce: 'n-1',
        par: false,
      },
      redirectUri: new URL('http://localhost:9000/cb'),
      dpop: { alg: 'ES384', key: undefined, allowDowngrade: true },
      http: {
        timeoutMs: 10_000,
        ca: caCert,
        verbose: true,
        showSecrets: true,
        showTokens: true,
        allowTlsVerificationDisabled: true,
      },
      listener: {
        browser: { kind: 'command', argv: ['firefox', '--private'] },
        timeoutMs: 60_000,
        receipt: 'listener',
      },
      clockToleranceSeconds: 5,
      assertions: {
        claims: [
          { name: 'azp', path: [{ key: 'azp', quoted: false }], text: 'abc', expected: 'abc' },
        ],
        scopes: ['read:orders'],
        validForSeconds: 300,
      },
      save: false,
    }
    const options = await toLoginOptions(raw, ctx)
    expect(options).toStrictEqual(expected)
    expect(options.redirectUri.href).toBe('http://localhost:9000/cb')
    // The fixed verifier is the one warning; the secret file is private, so no warning for it.
    expect(ctx.events).toEqual(['warn code_verifier_on_argv'])
  })

  it('applies every default when only the target is given', async () => {
    const ctx = testCtx()
    expect(
      await toLoginOptions({ domain: 'acme.eu.auth0.com', clientId: 'abc', browser: true }, ctx),
    ).toStrictEqual({
      target: {
        issuer: 'https://acme.eu.auth0.com/',
        client: { client_id: 'abc', auth: { method: 'none' } },
      },
      request: {
        scope: 'openid profile email',
        audience: undefined,
        resources: [],
        organization: undefined,
        invitation: undefined,
        connection: undefined,
        prompt: undefined,
        maxAgeSeconds: undefined,
        loginHint: undefined,
        responseMode: undefined,
        authorizationDetails: undefined,
        params: [],
        codeVerifier: undefined,
        state: undefined,
        nonce: undefined,
        par: false,
      },
      redirectUri: new URL('http://127.0.0.1:8484/callback'),
      dpop: undefined,
      http: {
        timeoutMs: 30_000,
        ca: undefined,
        verbose: false,
        showSecrets: false,
        showTokens: false,
        allowTlsVerificationDisabled: false,
      },
      listener: { browser: { kind: 'system' }, timeoutMs: 300_000, receipt: 'listener' },
      clockToleranceSeconds: 60,
      assertions: { claims: [], scopes: [], validForSeconds: undefined },
      save: false,
    })
    expect(ctx.events).toEqual([])
  })

  it('--client-secret-file with the default client authentication: client_secret_post', async () => {
    const options = await toLoginOptions(
      { domain: 'acme.test', clientId: 'abc', clientSecretFile: secretFile },
      testCtx(),
    )
    expect(options.target.client.auth).toStrictEqual({
      method: 'client_secret_post',
      secret: 'the-client-secret',
    })
  })

  it('--dpop-key: the private JWK and its alg reach the DPoP options', async () => {
    const options = await toLoginOptions(
      { domain: 'acme.test', clientId: 'abc', dpop: true, dpopKey: dpopKeyFile },
      testCtx(),
    )
    expect(options.dpop).toStrictEqual({ alg: 'ES384', key: dpopJwk, allowDowngrade: false })
  })

  it('--par sets the request to be pushed', async () => {
    const options = await toLoginOptions(
      { domain: 'acme.test', clientId: 'abc', par: true },
      testCtx(),
    )
    expect(options.request.par).toBe(true)
  })

  it('the listener is converted after the authorization options: a missing client id first', async () => {
    const error = await rejection(
      toLoginOptions({ domain: 'acme.test', browser: "'firefox" }, testCtx()),
    )
    expect(error.message).toBe('--client-id <id> is required')
  })

  it('a bad --browser command is a usage error', async () => {
    const error = await rejection(
      toLoginOptions({ domain: 'acme.test', clientId: 'abc', browser: "'firefox" }, testCtx()),
    )
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe("unbalanced ' in the browser command")
  })
})

describe('toAuthorizeOptions()', () => {
  it('is the login options without listener, tolerance and assertions', async () => {
    const raw: RawAuthorizeOptions = {
      issuer: 'http://127.0.0.1:3000/',
      clientId: 'abc',
      port: 0,
      showTokens: true,
    }
    expect(await toAuthorizeOptions(raw, testCtx())).toStrictEqual({
      target: {
        issuer: 'http://127.0.0.1:3000/',
        client: { client_id: 'abc', auth: { method: 'none' } },
      },
      request: {
        scope: 'openid profile email',
        audience: undefined,
        resources: [],
        organization: undefined,
        invitation: undefined,
        connection: undefined,
        prompt: undefined,
        maxAgeSeconds: undefined,
        loginHint: undefined,
        responseMode: undefined,
        authorizationDetails: undefined,
        params: [],
        codeVerifier: undefined,
        state: undefined,
        nonce: undefined,
        par: false,
      },
      redirectUri: new URL('http://127.0.0.1:0/callback'),
      dpop: undefined,
      http: {
        timeoutMs: 30_000,
        ca: undefined,
        verbose: false,
        showSecrets: false,
        showTokens: true,
        allowTlsVerificationDisabled: false,
      },
    })
  })

  it('reports a bad issuer before a missing client id', async () => {
    const error = await rejection(
      toAuthorizeOptions({ issuer: 'http://idp.acme.test/' }, testCtx()),
    )
    expect(error.code).toBe('insecure_not_loopback')
    expect(error.message).toBe(
      '--issuer: plain http is only accepted for a loopback host, not idp.acme.test',
    )
  })

  it('reports a missing server before a missing client id', async () => {
    const error = await rejection(toAuthorizeOptions({}, testCtx()))
    expect(error.message).toBe('say which server: --domain <tenant>.auth0.com or --issuer <url>')
  })

  it('reports a bad request parameter before a missing client id', async () => {
    const error = await rejection(
      toAuthorizeOptions({ domain: 'acme.test', param: [['state', 'x']] }, testCtx()),
    )
    expect(error.code).toBe('protected_parameter')
    expect(error.message).toBe('"state" is set by pkce itself and cannot be passed with --param')
  })

  it('reports a missing client id before a bad redirect URI', async () => {
    const error = await rejection(
      toAuthorizeOptions(
        { domain: 'acme.test', redirectUri: 'https://app.example.com/cb' },
        testCtx(),
      ),
    )
    expect(error.message).toBe('--client-id <id> is required')
  })

  it('reports a bad redirect URI before the DPoP flags', async () => {
    const error = await rejection(
      toAuthorizeOptions(
        {
          domain: 'acme.test',
          clientId: 'abc',
          redirectUri: 'https://app.example.com/cb',
          dpopAlg: 'ES256',
        },
        testCtx(),
      ),
    )
    expect(error.message).toBe(
      'the redirect URI must be http on localhost, 127.0.0.1 or [::1], not https://app.example.com/cb',
    )
  })

  it('reports the DPoP flags before an unreadable --ca-file', async () => {
    const error = await rejection(
      toAuthorizeOptions(
        {
          domain: 'acme.test',
          clientId: 'abc',
          dpopAlg: 'ES256',
          caFile: join(dir, 'missing.pem'),
        },
        testCtx(),
      ),
    )
    expect(error.message).toBe('--dpop-alg, --dpop-key and --allow-dpop-downgrade need --dpop')
  })

  it('reads and checks --ca-file before any request', async () => {
    const path = join(dir, 'missing.pem')
    const error = await rejection(
      toAuthorizeOptions({ domain: 'acme.test', clientId: 'abc', caFile: path }, testCtx()),
    )
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(`cannot read --ca-file ${path} (ENOENT)`)
  })
})

describe('addFlowOptions()', () => {
  it('defines every flag of the flow once, in this order', () => {
    const longs = program().options.map((o) => o.long)
    expect(longs).toEqual(FLOW_FLAGS)
    expect(duplicates(longs)).toEqual([])
  })

  it('gives no commander default but --no-browser’s, so the converters apply them', () => {
    expect(commanderDefaults(program())).toEqual(ONLY_NO_BROWSER)
    expect(parse([])).toEqual({ browser: true })
  })

  it('login: the flow flags, --par and the headless flags, each once, no defaults but --no-browser’s', async () => {
    const login = await commandNamed('login')
    const longs = login.options.map((o) => o.long)
    expect(duplicates(longs)).toEqual([])
    expect([...longs].sort()).toEqual(
      [
        ...FLOW_FLAGS,
        '--par',
        '--headless',
        '--chromium',
        '--username',
        '--password-file',
        '--deny-consent',
        '--login-script',
        '--screenshot-dir',
        '--step-timeout',
      ].sort(),
    )
    expect(commanderDefaults(login)).toEqual(ONLY_NO_BROWSER)
  })

  it('par: the flow flags, --response-type and --open, each once, no defaults but --no-browser’s', async () => {
    const par = await commandNamed('par')
    const longs = par.options.map((o) => o.long)
    expect(duplicates(longs)).toEqual([])
    expect([...longs].sort()).toEqual([...FLOW_FLAGS, '--response-type', '--open'].sort())
    expect(commanderDefaults(par)).toEqual(ONLY_NO_BROWSER)
  })
})
