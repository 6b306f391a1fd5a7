import { generateKeyPairSync, sign as rawSign } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CompactEncrypt, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import type { JWK, JWTHeaderParameters } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/main.js'
import { testCtx } from '../helpers/test-ctx.js'
import type { TestCtxOptions } from '../helpers/test-ctx.js'

// testCtx's clock: 2026-11-24T12:00:00Z.
const NOW_S = 1_795_521_600
const ISSUER = 'https://acme.eu.auth0.com/'
const API = 'https://api.acme.test/'
const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I'

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>

const CLAIMS = {
  iss: ISSUER,
  sub: 'auth0|42',
  aud: [API, `${ISSUER}userinfo`],
  iat: NOW_S - 60,
  exp: NOW_S + 86_340,
  azp: 'abc123',
  scope: 'openid profile read:orders',
  permissions: ['read:orders', 'delete:orders'],
  org_id: 'org_123',
  'https://example.com/roles': ['admin'],
  cnf: { jkt: JKT },
}

const keys = {} as Record<'rsa' | 'other' | 'pss' | 'ec' | 'ed', KeyPair>
const jwks: Record<string, JWK> = {}
let dir = ''
let rs256 = ''

function sign(
  payload: Record<string, unknown>,
  key: KeyPair | Uint8Array,
  header: JWTHeaderParameters,
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader(header)
    .sign(key instanceof Uint8Array ? key : key.privateKey)
}

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  )
}

function unsecured(payload: Record<string, unknown>): string {
  return `${b64({ alg: 'none' })}.${b64(payload)}.`
}

function file(name: string): string {
  return join(dir, name)
}

async function run(argv: string[], options: TestCtxOptions = {}) {
  const ctx = testCtx(options)
  const code = await main(argv, ctx)
  return { code, stdout: ctx.stdout(), stderr: ctx.stderr(), events: ctx.events }
}

async function json(argv: string[], options: TestCtxOptions = {}) {
  const result = await run(['--json', ...argv], options)
  return { ...result, doc: JSON.parse(result.stdout) as Record<string, unknown> }
}

beforeAll(async () => {
  keys.rsa = await generateKeyPair('RS256', { extractable: true })
  keys.other = await generateKeyPair('RS256', { extractable: true })
  keys.pss = await generateKeyPair('PS256', { extractable: true })
  keys.ec = await generateKeyPair('ES256', { extractable: true })
  keys.ed = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  for (const [name, pair] of Object.entries(keys)) {
    jwks[name] = { ...(await exportJWK(pair.publicKey)), kid: `${name}-1` }
  }
  rs256 = await sign(CLAIMS, keys.rsa, { alg: 'RS256', typ: 'JWT', kid: 'rsa-1' })
  dir = await mkdtemp(join(tmpdir(), 'pkce-decode-'))
  await writeFile(
    file('jwks.json'),
    JSON.stringify({ keys: [jwks.rsa, jwks.pss, jwks.ec, jwks.ed] }),
  )
  await writeFile(file('rsa.pub.pem'), await exportSPKI(keys.rsa.publicKey))
  await writeFile(file('rsa.key.pem'), await exportPKCS8(keys.rsa.privateKey))
  await writeFile(file('rsa.jwk.json'), JSON.stringify(jwks.rsa))
  await writeFile(file('ec.jwk.json'), JSON.stringify(jwks.ec))
  await writeFile(file('other.pub.pem'), await exportSPKI(keys.other.publicKey))
  await writeFile(
    file('private.jwk.json'),
    JSON.stringify({ ...(await exportJWK(keys.rsa.privateKey)), kid: 'rsa-1' }),
  )
  await writeFile(file('oct.jwk.json'), JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }))
  await writeFile(file('garbage.pem'), 'not a key')
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const RS256_HUMAN = `
JWS (signed JWT)
  token      eyJhbGciOiJS… (895 chars)
  signature  RS256, 256 bytes, not verified (add --verify)
  status     expires in 23h 59m

Header
  alg  RS256  # signature algorithm: RSA PKCS#1 v1.5 with SHA-256
  typ  JWT    # a JWT
  kid  rsa-1  # key id: which of the issuer keys signed it

Payload
  iss                        https://acme.eu.auth0.com/         # issuer: who made the token
  sub                        auth0|42                           # subject: the user (or client) it is about
  aud                        ["https://api.acme.test/","https://acme.eu.auth0.com/userinfo"]  # audience: who it is for
  iat                        2026-11-24T11:59:00Z (1m ago)      # issued at
  exp                        2026-11-25T11:59:00Z (in 23h 59m)  # expiration time
  azp                        abc123                             # authorized party: the client the token was issued to
  scope                      openid profile read:orders         # granted scopes, space-separated
  permissions                ["read:orders","delete:orders"]    # Auth0 RBAC permissions granted for this API
  org_id                     org_123                            # Auth0 organization id
  https://example.com/roles  ["admin"]                          # namespaced custom claim
  cnf                        {"jkt":"${JKT}"}  # confirmation: DPoP-bound; cnf.jkt is the SHA-256 thumbprint of the client DPoP key
`

const NOT_VERIFIED =
  'warning: signature not verified: the claims are what the token says, not proven (add --verify) (signature_not_verified)\n'

describe('pkce decode: what it recognises', () => {
  it('JWS: header, payload with times and glosses, signature and status; warns it is not verified', async () => {
    const { code, stdout, stderr } = await run(['decode', rs256])
    expect(code).toBe(0)
    expect(stdout).toBe(RS256_HUMAN)
    expect(stderr).toBe(NOT_VERIFIED)
  })

  it('JWS --json: one document with the exact shape', async () => {
    const { code, doc, stderr } = await json(['decode', rs256])
    expect(code).toBe(0)
    expect(doc).toEqual({
      ok: true,
      kind: 'jws',
      header: { alg: 'RS256', typ: 'JWT', kid: 'rsa-1' },
      payload: CLAIMS,
      signature: { alg: 'RS256', bytes: 256 },
      checks: [],
      warnings: [
        {
          code: 'signature_not_verified',
          message:
            'signature not verified: the claims are what the token says, not proven (add --verify)',
        },
      ],
    })
    expect(Object.keys(doc)).toEqual([
      'ok',
      'kind',
      'header',
      'payload',
      'signature',
      'checks',
      'warnings',
    ])
    expect(stderr).toBe(NOT_VERIFIED)
  })

  it('PS256, ES256 and EdDSA: signature algorithm and length', async () => {
    const cases = [
      ['pss', 'PS256', 256],
      ['ec', 'ES256', 64],
      ['ed', 'EdDSA', 64],
    ] as const
    for (const [key, alg, bytes] of cases) {
      const token = await sign({ sub: 'x' }, keys[key], { alg })
      const { doc } = await json(['decode', token])
      expect([doc.kind, doc.signature]).toEqual(['jws', { alg, bytes }])
    }
  })

  it('status: expired, not yet valid, no exp', async () => {
    const status = async (payload: Record<string, unknown>) => {
      const { stdout, stderr } = await run(['decode', unsecured(payload)])
      return [/status +(.*)\n/u.exec(stdout)?.[1], stderr.split('\n').slice(1, -1)]
    }
    expect(await status({ exp: NOW_S - 300 })).toEqual([
      'expired 5m ago',
      ['warning: the token expired 5m ago (token_expired)'],
    ])
    expect(await status({ exp: NOW_S + 7200, nbf: NOW_S + 300 })).toEqual([
      'not yet valid (valid in 5m; expires in 2h)',
      ['warning: the token is not yet valid (nbf in 5m) (token_not_yet_valid)'],
    ])
    expect(await status({ sub: 'x' })).toEqual(['no exp: never expires', []])
    expect(await status({ exp: NOW_S })).toEqual([
      'expired just now',
      ['warning: the token expired just now (token_expired)'],
    ])
  })

  it('JD-3: impossible dates are shown raw with a warning, never crash', async () => {
    const { code, stdout, stderr } = await run([
      'decode',
      unsecured({ exp: 1e20, iat: 'yesterday', nbf: -1e300 }),
    ])
    expect(code).toBe(0)
    expect(stdout).toContain(
      '\nPayload\n' +
        '  exp  100000000000000000000  # not a valid NumericDate\n' +
        '  iat  yesterday              # issued at\n' +
        '  nbf  -1e+300                # not a valid NumericDate\n',
    )
    expect(stdout).toContain('  status     exp is not a valid date\n')
    expect(stderr).toContain(
      'warning: exp is not a valid NumericDate: 100000000000000000000 (claim_time_invalid)\n',
    )
    expect(stderr).toContain(
      'warning: iat is not a valid NumericDate: "yesterday" (claim_time_invalid)\n',
    )
    expect(stderr).toContain(
      'warning: nbf is not a valid NumericDate: -1e+300 (claim_time_invalid)\n',
    )
  })

  it('alg none: decoded, with a loud warning that it proves nothing', async () => {
    const token = unsecured({ sub: 'admin', role: 'root' })
    const { code, stdout, stderr } = await run(['decode', token])
    expect(code).toBe(0)
    expect(stdout).toBe(`
Unsecured JWT (alg none)
  token      eyJhbGciOiJu… (60 chars)
  signature  none: this token proves nothing
  status     no exp: never expires

Header
  alg  none  # NO signature: anyone can write this token

Payload
  sub   admin  # subject: the user (or client) it is about
  role  root
`)
    expect(stderr).toBe(
      'warning: alg is "none": the token has no signature and proves nothing; anyone can write one (token_unsecured)\n',
    )
    const { doc } = await json(['decode', token])
    expect(doc).toEqual({
      ok: true,
      kind: 'unsecured',
      header: { alg: 'none' },
      payload: { sub: 'admin', role: 'root' },
      signature: { alg: 'none', bytes: 0 },
      checks: [],
      warnings: [
        {
          code: 'token_unsecured',
          message:
            'alg is "none": the token has no signature and proves nothing; anyone can write one',
        },
      ],
    })
  })

  it("JWE dir/A256GCM: Auth0's encrypted access token, the tenant from the header, and the fix", async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode('{"sub":"secret"}'))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', iss: ISSUER })
      .encrypt(new Uint8Array(32))
    expect(jwe.split('.')[1]).toBe('')
    const { code, stdout, stderr } = await run(['decode', jwe])
    expect(code).toBe(0)
    expect(stdout).toBe(`
JWE (encrypted)
  token       eyJhbGciOiJk… (150 chars)
  encryption  dir / A256GCM
  issuer      https://acme.eu.auth0.com/ (from the header)

  An encrypted (JWE) access token, alg dir / enc A256GCM: on Auth0 this is the token issued when no
  audience is sent (tenant https://acme.eu.auth0.com/). Only Auth0 can read it and it is good only
  for /userinfo. Send --audience <your API identifier> to get a JWT access token.

Header
  alg  dir                         # key management: direct encryption with a shared key
  enc  A256GCM                     # content encryption algorithm
  iss  https://acme.eu.auth0.com/  # issuer, readable without decrypting (on Auth0: the tenant)
`)
    const warning =
      'the token is encrypted (JWE dir/A256GCM): on Auth0, the /userinfo-only access token issued when no audience is sent; send --audience <your API identifier> to get a JWT access token'
    expect(stderr).toBe(`warning: ${warning} (token_encrypted)\n`)
    const { doc } = await json(['decode', jwe])
    expect(doc).toEqual({
      ok: true,
      kind: 'jwe',
      header: { alg: 'dir', enc: 'A256GCM', iss: ISSUER },
      payload: null,
      signature: null,
      checks: [],
      warnings: [{ code: 'token_encrypted', message: warning }],
    })
  })

  it('JWE for a resource server (RSA-OAEP-256): only the key holder can read it', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode('{}'))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'api-enc' })
      .encrypt((await generateKeyPair('RSA-OAEP-256')).publicKey)
    const { stdout, stderr } = await run(['decode', jwe])
    expect(stdout).toContain(
      '\n  An encrypted token (JWE): only the holder of the decryption key can read its claims, and pkce does\n  not decrypt.\n',
    )
    expect(stdout).toContain(
      '  alg  RSA-OAEP-256  # key management: key encrypted to an RSA public key (RSA-OAEP-256)\n',
    )
    expect(stderr).toBe(
      'warning: the token is encrypted (JWE): its claims cannot be read without the decryption key (token_encrypted)\n',
    )
  })

  it('opaque: says so, with the length and what to do instead', async () => {
    const { code, stdout, stderr } = await run(['decode', 'KBSxkmG-OcpA6-cg'])
    expect(code).toBe(0)
    expect(stdout).toBe(`
Opaque token (not a JWT)
  token   KBSxk… (16 chars)
  length  16 characters

  Not a JWT: an opaque token (16 characters). Only the authorization server can read it: call the
  UserInfo endpoint with it, or introspect it (RFC 7662) where the server offers that. On Auth0,
  send --audience <your API identifier> to get a JWT access token.
`)
    const warning =
      'the token is opaque, not a JWT (16 characters): call /userinfo or introspection with it, or on Auth0 send --audience <your API identifier> to get a JWT access token'
    expect(stderr).toBe(`warning: ${warning} (token_opaque)\n`)
    const { doc } = await json(['decode', 'KBSxkmG-OcpA6-cg'])
    expect(doc).toEqual({
      ok: true,
      kind: 'opaque',
      header: null,
      payload: null,
      signature: null,
      checks: [],
      warnings: [{ code: 'token_opaque', message: warning }],
    })
  })

  it('SO-4: claims cannot drive the terminal or forge lines', async () => {
    const token = unsecured({
      sub: 'x\u001b[31my',
      bel: 'a\u0007b',
      note: 'a\nwarning: fake',
      x: '::set-output',
      bidi: 'txt\u202eexe.pdf',
    })
    const { stdout } = await run(['decode', token])
    expect(stdout).toContain(
      '\nPayload\n' +
        '  sub   xy  # subject: the user (or client) it is about\n' +
        '  bel   a\\x07b\n' +
        '  note  a\\nwarning: fake\n' +
        '  x     \\::set-output\n' +
        '  bidi  txt\\u202eexe.pdf\n',
    )
    for (const raw of ['\u001b', '\u0007', '\u202e']) expect(stdout).not.toContain(raw)
  })

  it('JD-2: long values are cut in human output, whole in --json', async () => {
    const token = unsecured({ blob: 'x'.repeat(2000) })
    const { stdout } = await run(['decode', token])
    expect(stdout).toContain(
      `  blob  ${'x'.repeat(500)}… (truncated, 2000 chars; --json shows it whole)\n`,
    )
    const { doc } = await json(['decode', token])
    expect((doc.payload as { blob: string }).blob).toHaveLength(2000)
  })

  it('colour only on a TTY, and never with --no-color', async () => {
    expect((await run(['decode', rs256], { tty: true })).stdout).toContain('\u001b[')
    expect((await run(['--no-color', 'decode', rs256], { tty: true })).stdout).toBe(RS256_HUMAN)
  })
})

describe('pkce decode: malformed input, exit 4 token_malformed', () => {
  const header = b64({ alg: 'RS256' })
  const payload = b64({ sub: 'x' })
  const cases: [string, string, string][] = [
    ['two segments', `${header}.${payload}`, 'the token has 2 segments; a JWS has 3 and a JWE 5'],
    [
      'four segments',
      `${header}.${payload}.c2ln.eHg`,
      'the token has 4 segments; a JWS has 3 and a JWE 5',
    ],
    [
      'a header that is not base64url',
      `eyJh!!bGc.${payload}.c2ln`,
      'the header segment (#1) is not base64url',
    ],
    [
      'a payload that is not base64url',
      `${header}.eyJz*dWIi.c2ln`,
      'the payload segment (#2) is not base64url',
    ],
    [
      'a payload with padding',
      `${header}.${payload}=.c2ln`,
      'the payload segment (#2) is not base64url',
    ],
    [
      'a signature that is not base64url',
      `${header}.${payload}.c2ln+/`,
      'the signature segment (#3) is not base64url',
    ],
    [
      'a header that is not JSON',
      `${b64('{"alg":')}.${payload}.c2ln`,
      'the header segment is not a base64url-encoded JSON object',
    ],
    [
      'a payload that is not JSON',
      `${header}.${b64('{"sub":')}.c2ln`,
      'the payload segment is not a base64url-encoded JSON object',
    ],
    [
      'a payload that is a JSON array',
      `${header}.${b64('[1]')}.c2ln`,
      'the payload segment is not a base64url-encoded JSON object',
    ],
    [
      'an empty signature with alg RS256',
      `${header}.${payload}.`,
      'the signature segment is empty although alg is "RS256"',
    ],
    [
      'alg none with a signature',
      `${b64({ alg: 'none' })}.${payload}.c2ln`,
      'an alg "none" token must have an empty signature',
    ],
    [
      'a JWE without enc',
      `${b64({ alg: 'dir' })}..aXY.Y3Q.dGFn`,
      'the 5-segment token has no "enc" in its header',
    ],
  ]
  for (const [label, token, message] of cases) {
    it(`JD-1: ${label}`, async () => {
      const { code, doc, stderr } = await json(['decode', token])
      expect(code).toBe(4)
      expect(doc.ok).toBe(false)
      expect((doc.error as { code: string; message: string }).code).toBe('token_malformed')
      expect((doc.error as { message: string }).message).toBe(message)
      expect(stderr).not.toMatch(/^\s+at /mu)
    })
  }

  it('human: the section names the reason, stderr has error and hint, no stack trace', async () => {
    const { code, stdout, stderr } = await run(['decode', `${header}.${payload}`])
    expect(code).toBe(4)
    expect(stdout).toBe(`
Malformed token
  token  eyJhbGciOiJS… (36 chars)
  error  the token has 2 segments; a JWS has 3 and a JWE 5
`)
    expect(stderr).toBe(
      'error: the token has 2 segments; a JWS has 3 and a JWE 5\n' +
        'hint: a JWS is header.payload.signature and a JWE has 5 parts; check the token was copied whole\n',
    )
  })

  it('--json: the failure document', async () => {
    const { doc } = await json(['decode', `${header}.eyJz*dWIi.c2ln`])
    expect(doc).toEqual({
      ok: false,
      error: {
        code: 'token_malformed',
        message: 'the payload segment (#2) is not base64url',
        hint: 'a JWT holds only A-Z a-z 0-9 - _ and dots; check for spaces, padding (=) or cut lines',
        stage: 'decode',
      },
      kind: null,
      header: null,
      payload: null,
      signature: null,
      checks: [],
      warnings: [],
    })
  })

  it('JD-3: nesting JSON.stringify cannot print is refused, not a crash', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
    const token = `${header}.${b64(`{"a":${deep}}`)}.c2ln`
    const { code, doc } = await json(['decode', token])
    expect(code).toBe(4)
    expect(doc.error).toEqual({
      code: 'token_malformed',
      message: 'the payload nests deeper than 64 levels',
      stage: 'decode',
    })
  })

  it('JD-2: more than 64 KiB is token_too_large', async () => {
    const { code, doc } = await json(['decode', `${header}.${'A'.repeat(70_000)}.c2ln`])
    expect(code).toBe(4)
    expect((doc.error as { code: string }).code).toBe('token_too_large')
  })

  it('JD-7: UTF-8 only; the segment that is not is named', async () => {
    const bad = Buffer.concat([Buffer.from('{"sub":"a'), Buffer.from([0xff]), Buffer.from('"}')])
    const inPayload = await json(['decode', `${header}.${bad.toString('base64url')}.c2ln`])
    expect(inPayload.code).toBe(4)
    expect(inPayload.doc.error).toEqual({
      code: 'token_malformed',
      message: 'the payload segment is not valid UTF-8',
      hint: 'check the token was copied whole',
      stage: 'decode',
    })
    const inHeader = await json(['decode', `eyJ${bad.toString('base64url')}.${payload}.c2ln`])
    expect((inHeader.doc.error as { message: string }).message).toBe(
      'the header segment is not valid UTF-8',
    )
  })
})

describe('pkce decode: forgiving input', () => {
  const pasted: [string, string, string][] = [
    ['a Bearer prefix', `Bearer ${'TOKEN'}`, 'a "Bearer " prefix'],
    ['a DPoP prefix', 'DPoP TOKEN', 'a "DPoP " prefix'],
    [
      'a whole Authorization header line',
      'Authorization: Bearer TOKEN',
      'an "Authorization:" header name and a "Bearer " prefix',
    ],
    [
      'a lower-case header line',
      'authorization:bearer TOKEN',
      'an "Authorization:" header name and a "Bearer " prefix',
    ],
    ['double quotes', '"TOKEN"', 'quotes'],
    ['single quotes and whitespace', "  'TOKEN'\n\n", 'quotes'],
    [
      'a quoted header line',
      '"Authorization: Bearer TOKEN"',
      'quotes, an "Authorization:" header name and a "Bearer " prefix',
    ],
    ['a JSON member', '  "access_token": "TOKEN",', 'a JSON member name and quotes'],
  ]
  for (const [label, text, what] of pasted) {
    it(`strips ${label} and says so`, async () => {
      const { code, doc, stderr } = await json(['decode', text.replace('TOKEN', rs256)])
      expect(code).toBe(0)
      expect(doc.payload).toEqual(CLAIMS)
      expect((doc.warnings as unknown[])[0]).toEqual({
        code: 'input_stripped',
        message: `stripped ${what} from the input`,
      })
      expect(stderr).toContain(`warning: stripped ${what} from the input (input_stripped)\n`)
    })
  }

  it('surrounding whitespace and newlines alone are not worth a warning', async () => {
    const { doc } = await json(['decode', `\n  ${rs256}  \n`])
    expect((doc.warnings as { code: string }[]).map((w) => w.code)).toEqual([
      'signature_not_verified',
    ])
  })

  it('reads stdin when no token is given, or with -', async () => {
    for (const argv of [['decode'], ['decode', '-']]) {
      const { code, doc } = await json(argv, { stdin: `${rs256}\n` })
      expect(code).toBe(0)
      expect(doc.kind).toBe('jws')
    }
  })

  it('several tokens on stdin, one a line: an array under --json, a section each', async () => {
    const stdin = `Bearer ${rs256}\n\nKBSxkmG-OcpA6-cg\r\n`
    const { code, doc, stderr } = await json(['decode'], { stdin })
    expect(code).toBe(0)
    expect(Array.isArray(doc)).toBe(true)
    const docs = doc as unknown as Record<string, unknown>[]
    expect(docs.map((d) => d.kind)).toEqual(['jws', 'opaque'])
    expect(stderr).toBe(
      'warning: token 1: stripped a "Bearer " prefix from the input (input_stripped)\n' +
        'warning: token 1: signature not verified: the claims are what the token says, not proven (add --verify) (signature_not_verified)\n' +
        'warning: token 2: the token is opaque, not a JWT (16 characters): call /userinfo or introspection with it, or on Auth0 send --audience <your API identifier> to get a JWT access token (token_opaque)\n',
    )
    const human = await run(['decode'], { stdin })
    expect(human.stdout).toMatch(/^\nToken 1 of 2: JWS \(signed JWT\)\n/u)
    expect(human.stdout).toContain('\nToken 2 of 2: Opaque token (not a JWT)\n')
  })

  it('several tokens as arguments, or on one line', async () => {
    const args = await json(['decode', rs256, 'KBSxkmG-OcpA6-cg'])
    expect((args.doc as unknown as { kind: string }[]).map((d) => d.kind)).toEqual([
      'jws',
      'opaque',
    ])
    const line = await json(['decode', `${rs256} KBSxkmG-OcpA6-cg`])
    expect((line.doc as unknown as { kind: string }[]).map((d) => d.kind)).toEqual([
      'jws',
      'opaque',
    ])
  })

  it('one malformed token among several: every section, then exit 4 naming the token', async () => {
    const { code, doc } = await json(['decode', rs256, 'eyJhbGc.eyJ.c2ln'])
    expect(code).toBe(4)
    expect(doc.ok).toBe(false)
    expect(doc.error).toEqual({
      code: 'token_malformed',
      message: 'token 2: the header segment is not a base64url-encoded JSON object',
      hint: 'check the token was copied whole',
      stage: 'decode',
    })
    const tokens = doc.tokens as Record<string, unknown>[]
    expect(tokens.map((t) => [t.ok, t.kind])).toEqual([
      [true, 'jws'],
      [false, null],
    ])
    expect(tokens[1]?.error).toEqual({
      code: 'token_malformed',
      message: 'the header segment is not a base64url-encoded JSON object',
      hint: 'check the token was copied whole',
    })
    const human = await run(['decode', rs256, 'eyJhbGc.eyJ.c2ln'])
    expect(human.stdout).toContain('\nToken 2 of 2: Malformed token\n')
    expect(human.stderr).toContain(
      'error: token 2: the header segment is not a base64url-encoded JSON object\n',
    )
  })

  it('a TTY on stdin and no token: usage on stderr, exit 2, no hang', async () => {
    const { code, stdout, stderr } = await run(['decode'], { stdinIsTTY: true })
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^Usage: pkce decode \[options\] \[token\.\.\.\]\n/u)
    expect(stderr).toContain(
      'error: no token given, and stdin is a terminal\nhint: pkce decode <token>, or pipe it: pbpaste | pkce decode\n',
    )
    const doc = await json(['decode'], { stdinIsTTY: true })
    expect(doc.code).toBe(2)
    expect(doc.doc).toEqual({
      ok: false,
      error: {
        code: 'usage_error',
        message: 'no token given, and stdin is a terminal',
        hint: 'pkce decode <token>, or pipe it: pbpaste | pkce decode',
      },
    })
  })

  it('empty stdin, or only wrappers, is a usage error', async () => {
    for (const stdin of ['\n \n', '""\n', "Authorization: ''\n"]) {
      const { code, stderr } = await run(['decode'], { stdin })
      expect(code).toBe(2)
      expect(stderr).toContain('error: no token given\n')
    }
  })
})

describe('pkce decode --claims', () => {
  it('prints just the payload JSON, one document a token', async () => {
    const { code, stdout } = await run(['decode', '--claims', rs256])
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual(CLAIMS)
    const two = await run(['decode', '--claims', rs256, unsecured({ sub: 'b' })])
    expect(two.stdout).toBe(`${JSON.stringify(CLAIMS, null, 2)}\n{\n  "sub": "b"\n}\n`)
  })

  it('an opaque or encrypted token has no claims: exit 4, nothing on stdout', async () => {
    const { code, stdout, stderr } = await run(['decode', '--claims', 'KBSxkmG-OcpA6-cg'])
    expect(code).toBe(4)
    expect(stdout).toBe('')
    expect(stderr).toContain('error: the token has no readable claims: it is opaque\n')
  })
})

function checkList(doc: Record<string, unknown>): string[] {
  return (doc.checks as { name: string; ok: boolean; detail: string }[]).map(
    (check) => `${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}`,
  )
}

const PASSING = [
  '✓ token.alg: RS256 is allowed',
  "✓ token.signature: verified with the issuer's RS256 key (kid rsa-1)",
  '✓ token.exp: 2026-11-25T11:59:00Z is in the future (tolerance 60s)',
  '✓ token.iat: 2026-11-24T11:59:00Z',
]

describe('pkce decode --verify with local keys', () => {
  it('--jwks-file: every check passes; no "not verified" warning', async () => {
    const { code, doc, stderr } = await json(['decode', '--jwks-file', file('jwks.json'), rs256])
    expect(code).toBe(0)
    expect(doc.ok).toBe(true)
    expect(checkList(doc)).toEqual(PASSING)
    expect(doc.warnings).toEqual([])
    expect(stderr).toBe('')
  })

  it('--jwks-file: human output shows the verdict and every check', async () => {
    const { code, stdout } = await run([
      'decode',
      '--verify',
      '--jwks-file',
      file('jwks.json'),
      '--issuer',
      ISSUER,
      '--audience',
      API,
      rs256,
    ])
    expect(code).toBe(0)
    expect(stdout).toBe(
      RS256_HUMAN.replace('not verified (add --verify)', 'verified') +
        `
Checks
  ✓ token.alg        RS256 is allowed
  ✓ token.signature  verified with the issuer's RS256 key (kid rsa-1)
  ✓ token.iss        equals https://acme.eu.auth0.com/
  ✓ token.aud        contains https://api.acme.test/
  ✓ token.exp        2026-11-25T11:59:00Z is in the future (tolerance 60s)
  ✓ token.iat        2026-11-24T11:59:00Z

✓ every check passed
`,
    )
  })

  it('PS256, ES256 and EdDSA verify against the same JWKS', async () => {
    for (const [key, alg] of [
      ['pss', 'PS256'],
      ['ec', 'ES256'],
      ['ed', 'EdDSA'],
    ] as const) {
      const token = await sign(CLAIMS, keys[key], { alg, kid: `${key}-1` })
      const { code, doc } = await json(['decode', '--jwks-file', file('jwks.json'), token])
      expect(code).toBe(0)
      expect(checkList(doc)[1]).toBe(
        `✓ token.signature: verified with the issuer's ${alg} key (kid ${key}-1)`,
      )
    }
  })

  it('--key-file: a PEM public key, a PEM private key (its public half) and a JWK', async () => {
    for (const name of ['rsa.pub.pem', 'rsa.key.pem', 'rsa.jwk.json', 'private.jwk.json']) {
      const { code, doc } = await json(['decode', '--key-file', file(name), rs256])
      expect(code).toBe(0)
      expect(checkList(doc)[1]).toMatch(/^✓ token\.signature: verified/u)
    }
  })

  it('a token signed by another key: signature check fails, exit 4, token_invalid', async () => {
    const { code, doc, stderr } = await json(['decode', '--key-file', file('other.pub.pem'), rs256])
    expect(code).toBe(4)
    expect(doc.error).toEqual({
      code: 'token_invalid',
      message: 'token: signature check failed: the signature does not verify with the issuer key',
      stage: 'validate',
    })
    expect(checkList(doc)).toEqual([
      '✓ token.alg: RS256 is allowed',
      '✗ token.signature: the signature does not verify with the issuer key',
    ])
    expect(doc.warnings).toEqual([
      {
        code: 'signature_not_verified',
        message: 'signature not verified: the claims are what the token says, not proven',
      },
    ])
    expect(stderr).toBe(
      'warning: signature not verified: the claims are what the token says, not proven (signature_not_verified)\n',
    )
  })

  it('human output of a failed verification: the checks, the verdict, then the error', async () => {
    const { code, stdout, stderr } = await run([
      'decode',
      '--key-file',
      file('other.pub.pem'),
      rs256,
    ])
    expect(code).toBe(4)
    expect(stdout).toContain('  signature  RS256, 256 bytes, NOT verified\n')
    expect(stdout).toMatch(
      /\nChecks\n {2}✓ token\.alg {8}RS256 is allowed\n {2}✗ token\.signature {2}the signature does not verify with the issuer key\n\n✗ 1 of 2 checks failed\n$/u,
    )
    expect(stderr).toContain(
      'error: token: signature check failed: the signature does not verify with the issuer key\n',
    )
  })

  it('a kid the keys do not have: no_matching_key', async () => {
    const token = await sign(CLAIMS, keys.rsa, { alg: 'RS256', kid: 'unknown' })
    const { code, doc } = await json(['decode', '--jwks-file', file('jwks.json'), token])
    expect(code).toBe(4)
    expect((doc.error as { code: string }).code).toBe('no_matching_key')
  })

  it('IT-2: an ES256 key does not allow RS256, nor HS256, nor none', async () => {
    const ec = file('ec.jwk.json')
    const rsa = await json(['decode', '--key-file', ec, rs256])
    expect(rsa.code).toBe(4)
    expect(checkList(rsa.doc)).toEqual(['✗ token.alg: "RS256" is not one of ES256'])
    const hmac = await sign(CLAIMS, new TextEncoder().encode('s'.repeat(32)), { alg: 'HS256' })
    const hs = await json(['decode', '--key-file', file('rsa.pub.pem'), hmac])
    expect(checkList(hs.doc)).toEqual([
      '✗ token.alg: "HS256" is not one of RS256, RS384, RS512, PS256, PS384, PS512',
    ])
    expect((hs.doc.error as { hint: string }).hint).toBe(
      'RFC 8725 §3.1: the algorithm comes from the metadata, never the token',
    )
    const none = await json(['decode', '--key-file', file('rsa.pub.pem'), unsecured(CLAIMS)])
    expect(none.code).toBe(4)
    expect(checkList(none.doc)).toEqual([
      '✗ token.alg: alg "none": the token has no signature, so nothing can be verified',
    ])
  })

  it('a typ that is not a string fails the typ check', async () => {
    const token = await sign(CLAIMS, keys.rsa, { alg: 'RS256', typ: 7 as unknown as string })
    const { code, doc } = await json(['decode', '--key-file', file('rsa.pub.pem'), token])
    expect(code).toBe(4)
    expect(checkList(doc)).toEqual(['✗ token.typ: typ is not a string'])
  })

  it('a JWK with its own alg allows only that alg', async () => {
    await writeFile(file('alg.jwk.json'), JSON.stringify({ ...jwks.rsa, alg: 'PS256' }))
    const { doc } = await json(['decode', '--key-file', file('alg.jwk.json'), rs256])
    expect(checkList(doc)).toEqual(['✗ token.alg: "RS256" is not one of PS256'])
  })

  it('exp with --clock-tolerance (default 60 s), nbf, --issuer and --audience', async () => {
    const key = ['--key-file', file('rsa.pub.pem')]
    const recent = await sign({ ...CLAIMS, exp: NOW_S - 30 }, keys.rsa, { alg: 'RS256' })
    expect((await json(['decode', ...key, recent])).code).toBe(0)
    const strict = await json(['decode', ...key, '--clock-tolerance', '0', recent])
    expect(strict.code).toBe(4)
    expect(checkList(strict.doc).at(-1)).toBe(
      '✗ token.exp: expired at 2026-11-24T11:59:30Z (now 2026-11-24T12:00:00.000Z, tolerance 0s)',
    )
    const early = await sign({ ...CLAIMS, nbf: NOW_S + 600 }, keys.rsa, { alg: 'RS256' })
    expect(checkList((await json(['decode', ...key, early])).doc).at(-1)).toBe(
      '✗ token.nbf: nbf is 1795522200',
    )
    const iss = await json(['decode', ...key, '--issuer', 'https://other.example/', rs256])
    expect(iss.code).toBe(4)
    expect(checkList(iss.doc).at(-1)).toBe(
      '✗ token.iss: iss is "https://acme.eu.auth0.com/" (expected https://other.example/)',
    )
    const aud = await json(['decode', ...key, '--audience', 'https://other.api/', rs256])
    expect(aud.code).toBe(4)
    expect(checkList(aud.doc).at(-1)).toBe(
      '✗ token.aud: aud is ["https://api.acme.test/","https://acme.eu.auth0.com/userinfo"] (expected to contain https://other.api/)',
    )
  })

  it('IT-3: jku, x5u, jwk and x5c in the token are never followed, and said so', async () => {
    const token = await sign(CLAIMS, keys.rsa, {
      alg: 'RS256',
      kid: 'rsa-1',
      jku: 'https://evil.example/jwks',
      jwk: jwks.other!,
    })
    const { code, doc } = await json(['decode', '--jwks-file', file('jwks.json'), token])
    expect(code).toBe(0)
    expect(doc.warnings).toEqual([
      {
        code: 'key_header_ignored',
        message:
          "the token's jku header was ignored: keys come only from --jwks-uri, --jwks-file, --key-file or discovery",
      },
      {
        code: 'key_header_ignored',
        message:
          "the token's jwk header was ignored: keys come only from --jwks-uri, --jwks-file, --key-file or discovery",
      },
    ])
    const human = await run(['decode', token])
    expect(human.stdout).toContain(
      '  jku  https://evil.example/jwks  # a key the token names for itself: never fetched or trusted by pkce\n',
    )
  })

  it('MD-5: a key jose refuses (RSA 1024) fails the key check instead of crashing', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const input = `${b64({ alg: 'RS256' })}.${b64({ sub: 'x' })}`
    const token = `${input}.${rawSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
    await writeFile(file('weak.pem'), publicKey.export({ format: 'pem', type: 'spki' }))
    const { code, doc } = await json(['decode', '--key-file', file('weak.pem'), token])
    expect(code).toBe(4)
    expect((doc.error as { code: string }).code).toBe('weak_key')
    expect(checkList(doc).at(-1)).toBe('✗ token.key_size: the RSA key is shorter than 2048 bits')
  })

  it('opaque and encrypted tokens cannot be verified: exit 4', async () => {
    const { code, doc } = await json([
      'decode',
      '--key-file',
      file('rsa.pub.pem'),
      'KBSxkmG-OcpA6-cg',
    ])
    expect(code).toBe(4)
    expect(checkList(doc)).toEqual([
      '✗ token.format: the token is opaque, not a JWT: there is no signature to verify',
    ])
  })

  it('bad key inputs are usage errors (exit 2)', async () => {
    const cases: [string[], string][] = [
      [
        ['--key-file', file('missing.pem')],
        `cannot read --key-file ${file('missing.pem')} (ENOENT)`,
      ],
      [
        ['--key-file', file('garbage.pem')],
        `--key-file ${file('garbage.pem')} is not a PEM key, a certificate or a JWK`,
      ],
      [
        ['--key-file', file('oct.jwk.json')],
        `--key-file ${file('oct.jwk.json')} is a symmetric (oct) key`,
      ],
      [
        ['--jwks-file', file('rsa.jwk.json')],
        `--jwks-file ${file('rsa.jwk.json')} has no "keys" array`,
      ],
      [
        ['--jwks-uri', 'http://example.com/jwks'],
        '--jwks-uri: plain http is only accepted for a loopback host, not example.com',
      ],
      [['--issuer', ISSUER], '--issuer and --audience are checked only when verifying'],
      [
        ['--jwks-file', 'a', '--key-file', 'b'],
        "option '--jwks-file <path>' cannot be used with option '--key-file <pem|jwk>'",
      ],
    ]
    for (const [flags, message] of cases) {
      const { code, doc } = await json(['decode', ...flags, rs256])
      expect([code, (doc.error as { message: string }).message]).toEqual([2, message])
    }
  })
})

interface Fixture {
  server: Server
  origin: string
  requests: string[]
  jwks: { keys: JWK[] }
}

const fixture = {} as Fixture

describe('pkce decode --verify with remote keys (a tiny loopback server)', () => {
  beforeAll(async () => {
    fixture.requests = []
    fixture.jwks = { keys: [jwks.rsa!] }
    fixture.server = createServer((request, response) => {
      fixture.requests.push(`${request.method} ${request.url}`)
      const send = (status: number, body: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(JSON.stringify(body))
      }
      if (request.url === '/.well-known/openid-configuration') {
        send(200, {
          issuer: `${fixture.origin}/`,
          authorization_endpoint: `${fixture.origin}/authorize`,
          token_endpoint: `${fixture.origin}/oauth/token`,
          jwks_uri: `${fixture.origin}/.well-known/jwks.json`,
        })
      } else if (request.url === '/.well-known/jwks.json') {
        send(200, fixture.jwks)
      } else {
        send(404, { error: 'not_found' })
      }
    })
    await new Promise<void>((resolve) => fixture.server.listen(0, '127.0.0.1', resolve))
    fixture.origin = `http://127.0.0.1:${(fixture.server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    fixture.server.closeAllConnections()
    await new Promise((resolve) => fixture.server.close(resolve))
  })

  it('--jwks-uri: fetched once, every check passes, http on loopback is marked', async () => {
    fixture.requests.length = 0
    const uri = `${fixture.origin}/.well-known/jwks.json`
    const { code, doc, stderr } = await json(['decode', '--jwks-uri', uri, rs256, rs256])
    expect(code).toBe(0)
    const docs = doc as unknown as Record<string, unknown>[]
    expect(checkList(docs[0]!)).toEqual(PASSING)
    expect(checkList(docs[1]!)).toEqual(PASSING)
    expect(fixture.requests).toEqual(['GET /.well-known/jwks.json'])
    expect(stderr).toBe(
      `warning: token 1: keys come over plain http from the loopback host ${uri} (insecure_loopback_issuer)\n` +
        `• fetching the JWKS from ${uri}\n` +
        `warning: token 2: keys come over plain http from the loopback host ${uri} (insecure_loopback_issuer)\n`,
    )
  })

  it("discovery through the token's iss: metadata, then jwks_uri; warns the issuer was not pinned", async () => {
    fixture.requests.length = 0
    const issuer = `${fixture.origin}/`
    const token = await sign({ ...CLAIMS, iss: issuer }, keys.rsa, { alg: 'RS256', kid: 'rsa-1' })
    const { code, doc, stderr } = await json(['decode', '--verify', token])
    expect(code).toBe(0)
    expect(checkList(doc)).toEqual([
      PASSING[0],
      PASSING[1],
      `✓ token.iss: equals ${issuer}`,
      PASSING[2],
      PASSING[3],
    ])
    expect(fixture.requests).toEqual([
      'GET /.well-known/openid-configuration',
      'GET /.well-known/jwks.json',
    ])
    expect(doc.warnings).toEqual([
      {
        code: 'insecure_loopback_issuer',
        message: `keys come over plain http from the loopback host ${issuer}`,
      },
      {
        code: 'issuer_from_token',
        message: `the keys were found through the token's own iss (${issuer}); pass --issuer to pin the issuer you trust`,
      },
    ])
    expect(stderr).toContain(`• discovering ${issuer}\n`)
    expect(stderr).toContain(`• fetching the JWKS from ${fixture.origin}/.well-known/jwks.json\n`)
  })

  it('--issuer pins discovery and is compared with iss', async () => {
    const issuer = `${fixture.origin}/`
    const token = await sign({ ...CLAIMS, iss: issuer }, keys.rsa, { alg: 'RS256', kid: 'rsa-1' })
    const { code, doc } = await json(['decode', '--verify', '--issuer', issuer, token])
    expect(code).toBe(0)
    expect((doc.warnings as { code: string }[]).map((w) => w.code)).toEqual([
      'insecure_loopback_issuer',
    ])
    const other = await json(['decode', '--verify', '--issuer', issuer, rs256])
    expect(other.code).toBe(4)
    expect(checkList(other.doc).at(-1)).toBe(
      `✗ token.iss: iss is "https://acme.eu.auth0.com/" (expected ${issuer})`,
    )
  })

  it('a token whose iss cannot be discovered fails the iss check', async () => {
    const noIss = await sign({ sub: 'x' }, keys.rsa, { alg: 'RS256' })
    const none = await json(['decode', '--verify', noIss])
    expect(none.code).toBe(4)
    expect(checkList(none.doc)).toEqual([
      '✗ token.iss: the token has no iss, so its keys cannot be discovered',
    ])
    const http = await sign({ iss: 'http://evil.example/' }, keys.rsa, { alg: 'RS256' })
    expect(checkList((await json(['decode', '--verify', http])).doc)).toEqual([
      '✗ token.iss: iss "http://evil.example/" is not an https URL, so its keys cannot be discovered',
    ])
  })
})

describe('pkce decode: CI assertions (exit 4, assertion_failed)', () => {
  const passing: [string, string[]][] = [
    ['--expect-claim with a string', ['--expect-claim', 'azp=abc123']],
    ['--expect-claim with a dotted path', ['--expect-claim', `cnf.jkt=${JKT}`]],
    [
      '--expect-claim with a quoted namespaced name',
      ['--expect-claim', '"https://example.com/roles"=admin'],
    ],
    ['--expect-claim with an array element', ['--expect-claim', 'aud=https://api.acme.test/']],
    ['--expect-claim with a JSON number', ['--expect-claim', `exp=${NOW_S + 86_340}`]],
    ['--require-scope from scope', ['--require-scope', 'read:orders']],
    ['--require-scope from permissions', ['--require-scope', 'delete:orders']],
    ['--expect-valid-for', ['--expect-valid-for', '23h']],
  ]
  for (const [label, flags] of passing) {
    it(`${label} passes`, async () => {
      const { code, doc } = await json(['decode', ...flags, rs256])
      expect(code).toBe(0)
      expect((doc.checks as { ok: boolean }[]).map((c) => c.ok)).toEqual([true])
    })
  }

  const failing: [string, string[], string][] = [
    [
      '--expect-claim',
      ['--expect-claim', 'org_id=org_999'],
      '✗ token.expect_claim:org_id: is "org_123", expected "org_999"',
    ],
    [
      '--expect-claim on a missing claim',
      ['--expect-claim', 'cnf.x5t=abc'],
      '✗ token.expect_claim:cnf.x5t: the claim is missing',
    ],
    [
      '--require-scope',
      ['--require-scope', 'write:orders'],
      '✗ token.require_scope:write:orders: not granted (scope "openid profile read:orders", permissions "read:orders delete:orders")',
    ],
    [
      '--expect-valid-for',
      ['--expect-valid-for', '1d'],
      '✗ token.expect_valid_for: expires in 23h 59m, less than the 1d required',
    ],
  ]
  for (const [label, flags, check] of failing) {
    it(`${label} fails with exit 4`, async () => {
      const { code, doc } = await json(['decode', ...flags, rs256])
      expect(code).toBe(4)
      expect(checkList(doc)).toEqual([check])
      expect(doc.error).toEqual({
        code: 'assertion_failed',
        message: `assertion failed: ${check.slice(2)}`,
        stage: 'validate',
      })
    })
  }

  it('assertions run after verification, each a named check, in the human report too', async () => {
    const { code, stdout, stderr } = await run([
      'decode',
      '--key-file',
      file('rsa.pub.pem'),
      '--expect-claim',
      'azp=abc123',
      '--require-scope',
      'write:orders',
      '--expect-valid-for',
      '5m',
      rs256,
    ])
    expect(code).toBe(4)
    expect(stdout).toContain(`
Checks
  ✓ token.alg                         RS256 is allowed
  ✓ token.signature                   verified with the issuer's RS256 key (kid rsa-1)
  ✓ token.exp                         2026-11-25T11:59:00Z is in the future (tolerance 60s)
  ✓ token.iat                         2026-11-24T11:59:00Z
  ✓ token.expect_claim:azp            equals "abc123"
  ✗ token.require_scope:write:orders  not granted (scope "openid profile read:orders", permissions "read:orders delete:orders")
  ✓ token.expect_valid_for            expires in 23h 59m, at least 5m

✗ 1 of 7 checks failed
`)
    expect(stderr).toBe(
      'error: assertion failed: token.require_scope:write:orders: not granted (scope "openid profile read:orders", permissions "read:orders delete:orders")\n',
    )
  })

  it('assertions on an opaque token fail: it has no claims', async () => {
    const { code, doc } = await json(['decode', '--require-scope', 'read', 'KBSxkmG-OcpA6-cg'])
    expect(code).toBe(4)
    expect(checkList(doc)).toEqual(['✗ token.require_scope:read: the token has no readable claims'])
  })

  it('malformed assertion flags are usage errors (exit 2)', async () => {
    const cases: [string[], string][] = [
      [
        ['--expect-claim', 'azp'],
        `option '--expect-claim <name=value>' argument 'azp' is invalid. --expect-claim azp: expected name=value (e.g. --expect-claim azp=abc123, --expect-claim cnf.jkt=…, --expect-claim '"https://example.com/roles"=admin')`,
      ],
      [
        ['--expect-valid-for', '5x'],
        `option '--expect-valid-for <duration>' argument '5x' is invalid. "5x" is not a duration (use a number with a unit: 90s, 5m, 1h, 2d (or 1h30m))`,
      ],
      [
        ['--require-scope', 'a b'],
        "option '--require-scope <scope>' argument 'a b' is invalid. one scope per --require-scope (repeat the flag)",
      ],
    ]
    for (const [flags, message] of cases) {
      const { code, doc } = await json(['decode', ...flags, rs256])
      expect([code, (doc.error as { message: string }).message]).toEqual([2, message])
    }
  })
})
