import { CompactEncrypt, generateKeyPair } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  claimGloss,
  explainMalformed,
  headerGloss,
  isNamespaced,
} from '../../src/commands/decode-explain.js'
import { CliError } from '../../src/errors.js'
import {
  b64,
  CLAIMS,
  generateTestKeys,
  ISSUER,
  NOT_VERIFIED,
  RS256_HUMAN,
  runCli,
  runCliJson,
  signJwt,
  unsecured,
} from '../helpers/jwt-fixtures.js'
import type { TestKeys } from '../helpers/jwt-fixtures.js'

let keys: TestKeys
let rs256 = ''

beforeAll(async () => {
  keys = await generateTestKeys()
  rs256 = keys.rs256
})

describe('pkce decode: what it recognises', () => {
  it('JWS: header, payload with times and glosses, signature and status; warns it is not verified', async () => {
    const { code, stdout, stderr } = await runCli(['decode', rs256])
    expect(code).toBe(0)
    expect(stdout).toBe(RS256_HUMAN)
    expect(stderr).toBe(NOT_VERIFIED)
  })

  it('JWS --json: one document with the exact shape', async () => {
    const { code, doc, stderr } = await runCliJson(['decode', rs256])
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
      const token = await signJwt({ sub: 'x' }, keys.pairs[key], { alg })
      const { doc } = await runCliJson(['decode', token])
      expect([doc.kind, doc.signature]).toEqual(['jws', { alg, bytes }])
    }
  })

  it('alg none: decoded, with a loud warning that it proves nothing', async () => {
    const token = unsecured({ sub: 'admin', role: 'root' })
    const { code, stdout, stderr } = await runCli(['decode', token])
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
    const { doc } = await runCliJson(['decode', token])
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
    const { code, stdout, stderr } = await runCli(['decode', jwe])
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
    const { doc } = await runCliJson(['decode', jwe])
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
    const { stdout, stderr } = await runCli(['decode', jwe])
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
    const { code, stdout, stderr } = await runCli(['decode', 'KBSxkmG-OcpA6-cg'])
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
    const { doc } = await runCliJson(['decode', 'KBSxkmG-OcpA6-cg'])
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
      const { code, doc, stderr } = await runCliJson(['decode', token])
      expect(code).toBe(4)
      expect(doc.ok).toBe(false)
      expect((doc.error as { code: string; message: string }).code).toBe('token_malformed')
      expect((doc.error as { message: string }).message).toBe(message)
      expect(stderr).not.toMatch(/^\s+at /mu)
    })
  }

  it('human: the section names the reason, stderr has error and hint, no stack trace', async () => {
    const { code, stdout, stderr } = await runCli(['decode', `${header}.${payload}`])
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
    const { doc } = await runCliJson(['decode', `${header}.eyJz*dWIi.c2ln`])
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
    const { code, doc } = await runCliJson(['decode', token])
    expect(code).toBe(4)
    expect(doc.error).toEqual({
      code: 'token_malformed',
      message: 'the payload nests deeper than 64 levels',
      stage: 'decode',
    })
  })

  it('JD-2: more than 64 KiB is token_too_large', async () => {
    const { code, doc } = await runCliJson(['decode', `${header}.${'A'.repeat(70_000)}.c2ln`])
    expect(code).toBe(4)
    expect((doc.error as { code: string }).code).toBe('token_too_large')
  })

  it('JD-7: UTF-8 only; the segment that is not is named', async () => {
    const bad = Buffer.concat([Buffer.from('{"sub":"a'), Buffer.from([0xff]), Buffer.from('"}')])
    const inPayload = await runCliJson(['decode', `${header}.${bad.toString('base64url')}.c2ln`])
    expect(inPayload.code).toBe(4)
    expect(inPayload.doc.error).toEqual({
      code: 'token_malformed',
      message: 'the payload segment is not valid UTF-8',
      hint: 'check the token was copied whole',
      stage: 'decode',
    })
    const inHeader = await runCliJson(['decode', `eyJ${bad.toString('base64url')}.${payload}.c2ln`])
    expect((inHeader.doc.error as { message: string }).message).toBe(
      'the header segment is not valid UTF-8',
    )
  })
})

describe('explainMalformed()', () => {
  const malformed = (message: string): CliError =>
    new CliError('token_malformed', message, { stage: 'decode' })
  const notUtf8 = Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')

  it('https://www.rfc-editor.org/rfc/rfc8725#section-3.7 a segment that is not UTF-8 is named as such', () => {
    const payload = explainMalformed(
      malformed('the payload segment is not a base64url-encoded JSON object'),
      `eyJhbGciOiJSUzI1NiJ9.${notUtf8}.c2ln`,
    )
    expect([payload.code, payload.message, payload.hint, payload.stage]).toEqual([
      'token_malformed',
      'the payload segment is not valid UTF-8',
      'check the token was copied whole',
      'decode',
    ])
    const header = explainMalformed(
      malformed('the header segment is not a base64url-encoded JSON object'),
      `eyJ${notUtf8}.e30.c2ln`,
    )
    expect(header.message).toBe('the header segment is not valid UTF-8')
  })

  it('UTF-8 that is not JSON keeps the message', () => {
    const error = explainMalformed(
      malformed('the payload segment is not a base64url-encoded JSON object'),
      `eyJhbGciOiJSUzI1NiJ9.${b64('{"sub":')}.c2ln`,
    )
    expect([error.message, error.hint]).toEqual([
      'the payload segment is not a base64url-encoded JSON object',
      'check the token was copied whole',
    ])
  })

  it('a hint per reason; none for nesting, which copying again cannot fix (security.md JD-3)', () => {
    const hint = (message: string): string | undefined =>
      explainMalformed(malformed(message), 'x.y').hint
    expect(hint('the token has 4 segments; a JWS has 3 and a JWE 5')).toBe(
      'a JWS is header.payload.signature and a JWE has 5 parts; check the token was copied whole',
    )
    expect(hint('the header segment (#1) is not base64url')).toBe(
      'a JWT holds only A-Z a-z 0-9 - _ and dots; check for spaces, padding (=) or cut lines',
    )
    expect(hint('the payload nests deeper than 64 levels')).toBeUndefined()
  })
})

describe('headerGloss()', () => {
  it('https://www.rfc-editor.org/rfc/rfc7515#section-4.1.2 each key header is marked untrusted (security.md IT-3)', () => {
    const gloss = headerGloss(false)
    for (const name of ['jku', 'x5u', 'jwk', 'x5c']) {
      expect(gloss(name, 'x')).toBe(
        'a key the token names for itself: never fetched or trusted by pkce',
      )
    }
    expect(gloss('x5t', 'x')).toBeUndefined()
  })

  it('alg and kid read differently in a JWE header', () => {
    expect(headerGloss(true)('alg', 'dir')).toBe(
      'key management: direct encryption with a shared key',
    )
    expect(headerGloss(false)('alg', 'ES256')).toBe(
      'signature algorithm: ECDSA on P-256 with SHA-256',
    )
    expect(headerGloss(true)('kid', 'k')).toBe('id of the decryption key')
    expect(headerGloss(false)('alg', 'none')).toBe('NO signature: anyone can write this token')
  })
})

describe('claimGloss()', () => {
  it('https://www.rfc-editor.org/rfc/rfc9449#section-6.1 cnf: DPoP, mTLS or another binding', () => {
    expect(claimGloss('cnf', { jkt: 'x' })).toBe(
      'confirmation: DPoP-bound; cnf.jkt is the SHA-256 thumbprint of the client DPoP key',
    )
    expect(claimGloss('cnf', { 'x5t#S256': 'x' })).toBe(
      'confirmation: bound to a client certificate (mTLS)',
    )
    expect(claimGloss('cnf', ['jkt'])).toBe('confirmation: the key the token is bound to')
  })

  it('gty client-credentials, and namespaced custom claims', () => {
    expect(claimGloss('gty', 'client-credentials')).toBe(
      'Auth0 grant type: machine to machine, no user',
    )
    expect(claimGloss('https://example.com/roles', [])).toBe('namespaced custom claim')
    expect(claimGloss('roles', [])).toBeUndefined()
    expect([isNamespaced('urn:acme:roles'), isNamespaced('acme.roles')]).toEqual([true, false])
  })
})
