import { generateKeyPairSync } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  API,
  checkList,
  CLAIMS,
  generateTestKeys,
  ISSUER,
  NOW_S,
  RS256_HUMAN,
  runCli,
  runCliJson,
  signJwt,
  signRs256,
  unsecured,
  writeKeyFiles,
} from '../helpers/jwt-fixtures.js'
import type { KeyFiles, TestKeys } from '../helpers/jwt-fixtures.js'

let keys: TestKeys
let files: KeyFiles
let rs256 = ''

function file(name: string): string {
  return files.file(name)
}

beforeAll(async () => {
  keys = await generateTestKeys()
  rs256 = keys.rs256
  files = await writeKeyFiles(keys)
})

afterAll(async () => {
  await files.remove()
})

const PASSING = [
  '✓ token.alg: RS256 is allowed',
  "✓ token.signature: verified with the issuer's RS256 key (kid rsa-1)",
  '✓ token.exp: 2026-11-25T11:59:00Z is in the future (tolerance 60s)',
  '✓ token.iat: 2026-11-24T11:59:00Z',
]

describe('pkce decode --verify with local keys', () => {
  it('--jwks-file: every check passes; no "not verified" warning', async () => {
    const { code, doc, stderr } = await runCliJson([
      'decode',
      '--jwks-file',
      file('jwks.json'),
      rs256,
    ])
    expect(code).toBe(0)
    expect(doc.ok).toBe(true)
    expect(checkList(doc)).toEqual(PASSING)
    expect(doc.warnings).toEqual([])
    expect(stderr).toBe('')
  })

  it('--jwks-file: human output shows the verdict and every check', async () => {
    const { code, stdout } = await runCli([
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
      const token = await signJwt(CLAIMS, keys.pairs[key], { alg, kid: `${key}-1` })
      const { code, doc } = await runCliJson(['decode', '--jwks-file', file('jwks.json'), token])
      expect(code).toBe(0)
      expect(checkList(doc)[1]).toBe(
        `✓ token.signature: verified with the issuer's ${alg} key (kid ${key}-1)`,
      )
    }
  })

  it('--key-file: a PEM public key, a PEM private key (its public half) and a JWK', async () => {
    for (const name of ['rsa.pub.pem', 'rsa.key.pem', 'rsa.jwk.json', 'private.jwk.json']) {
      const { code, doc } = await runCliJson(['decode', '--key-file', file(name), rs256])
      expect(code).toBe(0)
      expect(checkList(doc)[1]).toMatch(/^✓ token\.signature: verified/u)
    }
  })

  it('a token signed by another key: signature check fails, exit 4, token_invalid', async () => {
    const { code, doc, stderr } = await runCliJson([
      'decode',
      '--key-file',
      file('other.pub.pem'),
      rs256,
    ])
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
    const { code, stdout, stderr } = await runCli([
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
    const token = await signJwt(CLAIMS, keys.pairs.rsa, { alg: 'RS256', kid: 'unknown' })
    const { code, doc } = await runCliJson(['decode', '--jwks-file', file('jwks.json'), token])
    expect(code).toBe(4)
    expect((doc.error as { code: string }).code).toBe('no_matching_key')
  })

  it('IT-2: an ES256 key does not allow RS256, nor HS256, nor none', async () => {
    const ec = file('ec.jwk.json')
    const rsa = await runCliJson(['decode', '--key-file', ec, rs256])
    expect(rsa.code).toBe(4)
    expect(checkList(rsa.doc)).toEqual(['✗ token.alg: "RS256" is not one of ES256'])
    const hmac = await signJwt(CLAIMS, new TextEncoder().encode('s'.repeat(32)), { alg: 'HS256' })
    const hs = await runCliJson(['decode', '--key-file', file('rsa.pub.pem'), hmac])
    expect(checkList(hs.doc)).toEqual([
      '✗ token.alg: "HS256" is not one of RS256, RS384, RS512, PS256, PS384, PS512',
    ])
    expect((hs.doc.error as { hint: string }).hint).toBe(
      'RFC 8725 §3.1: the algorithm comes from the metadata, never the token',
    )
    const none = await runCliJson(['decode', '--key-file', file('rsa.pub.pem'), unsecured(CLAIMS)])
    expect(none.code).toBe(4)
    expect(checkList(none.doc)).toEqual([
      '✗ token.alg: alg "none": the token has no signature, so nothing can be verified',
    ])
  })

  it('a typ that is not a string fails the typ check', async () => {
    const token = await signJwt(CLAIMS, keys.pairs.rsa, {
      alg: 'RS256',
      typ: 7 as unknown as string,
    })
    const { code, doc } = await runCliJson(['decode', '--key-file', file('rsa.pub.pem'), token])
    expect(code).toBe(4)
    expect(checkList(doc)).toEqual(['✗ token.typ: typ is not a string'])
  })

  it('a JWK with its own alg allows only that alg', async () => {
    await writeFile(file('alg.jwk.json'), JSON.stringify({ ...keys.jwks.rsa, alg: 'PS256' }))
    const { doc } = await runCliJson(['decode', '--key-file', file('alg.jwk.json'), rs256])
    expect(checkList(doc)).toEqual(['✗ token.alg: "RS256" is not one of PS256'])
  })

  it('exp with --clock-tolerance (default 60 s), nbf, --issuer and --audience', async () => {
    const key = ['--key-file', file('rsa.pub.pem')]
    const recent = await signJwt({ ...CLAIMS, exp: NOW_S - 30 }, keys.pairs.rsa, { alg: 'RS256' })
    expect((await runCliJson(['decode', ...key, recent])).code).toBe(0)
    const strict = await runCliJson(['decode', ...key, '--clock-tolerance', '0', recent])
    expect(strict.code).toBe(4)
    expect(checkList(strict.doc).at(-1)).toBe(
      '✗ token.exp: expired at 2026-11-24T11:59:30Z (now 2026-11-24T12:00:00.000Z, tolerance 0s)',
    )
    const early = await signJwt({ ...CLAIMS, nbf: NOW_S + 600 }, keys.pairs.rsa, { alg: 'RS256' })
    expect(checkList((await runCliJson(['decode', ...key, early])).doc).at(-1)).toBe(
      '✗ token.nbf: nbf is 1795522200',
    )
    const iss = await runCliJson(['decode', ...key, '--issuer', 'https://other.example/', rs256])
    expect(iss.code).toBe(4)
    expect(checkList(iss.doc).at(-1)).toBe(
      '✗ token.iss: iss is "https://acme.eu.auth0.com/" (expected https://other.example/)',
    )
    const aud = await runCliJson(['decode', ...key, '--audience', 'https://other.api/', rs256])
    expect(aud.code).toBe(4)
    expect(checkList(aud.doc).at(-1)).toBe(
      '✗ token.aud: aud is ["https://api.acme.test/","https://acme.eu.auth0.com/userinfo"] (expected to contain https://other.api/)',
    )
  })

  it('IT-3: jku, x5u, jwk and x5c in the token are never followed, and said so', async () => {
    const token = await signJwt(CLAIMS, keys.pairs.rsa, {
      alg: 'RS256',
      kid: 'rsa-1',
      jku: 'https://evil.example/jwks',
      jwk: keys.jwks.other,
    })
    const { code, doc } = await runCliJson(['decode', '--jwks-file', file('jwks.json'), token])
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
    const human = await runCli(['decode', token])
    expect(human.stdout).toContain(
      '  jku  https://evil.example/jwks  # a key the token names for itself: never fetched or trusted by pkce\n',
    )
  })

  it('MD-5: a key jose refuses (RSA 1024) fails the key check instead of crashing', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const token = signRs256({ alg: 'RS256' }, { sub: 'x' }, privateKey)
    await writeFile(file('weak.pem'), publicKey.export({ format: 'pem', type: 'spki' }))
    const { code, doc } = await runCliJson(['decode', '--key-file', file('weak.pem'), token])
    expect(code).toBe(4)
    expect((doc.error as { code: string }).code).toBe('weak_key')
    expect(checkList(doc).at(-1)).toBe('✗ token.key_size: the RSA key is shorter than 2048 bits')
  })

  it('opaque and encrypted tokens cannot be verified: exit 4', async () => {
    const { code, doc } = await runCliJson([
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
      const { code, doc } = await runCliJson(['decode', ...flags, rs256])
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
    fixture.jwks = { keys: [keys.jwks.rsa] }
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
    const { code, doc, stderr } = await runCliJson(['decode', '--jwks-uri', uri, rs256, rs256])
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
    const token = await signJwt({ ...CLAIMS, iss: issuer }, keys.pairs.rsa, {
      alg: 'RS256',
      kid: 'rsa-1',
    })
    const { code, doc, stderr } = await runCliJson(['decode', '--verify', token])
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
    const token = await signJwt({ ...CLAIMS, iss: issuer }, keys.pairs.rsa, {
      alg: 'RS256',
      kid: 'rsa-1',
    })
    const { code, doc } = await runCliJson(['decode', '--verify', '--issuer', issuer, token])
    expect(code).toBe(0)
    expect((doc.warnings as { code: string }[]).map((w) => w.code)).toEqual([
      'insecure_loopback_issuer',
    ])
    const other = await runCliJson(['decode', '--verify', '--issuer', issuer, rs256])
    expect(other.code).toBe(4)
    expect(checkList(other.doc).at(-1)).toBe(
      `✗ token.iss: iss is "https://acme.eu.auth0.com/" (expected ${issuer})`,
    )
  })

  it('a token whose iss cannot be discovered fails the iss check', async () => {
    const noIss = await signJwt({ sub: 'x' }, keys.pairs.rsa, { alg: 'RS256' })
    const none = await runCliJson(['decode', '--verify', noIss])
    expect(none.code).toBe(4)
    expect(checkList(none.doc)).toEqual([
      '✗ token.iss: the token has no iss, so its keys cannot be discovered',
    ])
    const http = await signJwt({ iss: 'http://evil.example/' }, keys.pairs.rsa, { alg: 'RS256' })
    expect(checkList((await runCliJson(['decode', '--verify', http])).doc)).toEqual([
      '✗ token.iss: iss "http://evil.example/" is not an https URL, so its keys cannot be discovered',
    ])
  })
})
