import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose'
import type { JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { authenticatedPost, clientCredentials } from '../../src/oauth/client-auth.js'
import type { Client } from '../../src/oauth/client-auth.js'
import type { HttpRequest } from '../../src/oauth/http.js'

const NOW = new Date('2026-11-24T12:00:00Z')
const ISSUER = 'https://tenant.example.com/'

const basic = (clientId: string, secret: string): Client => ({
  client_id: clientId,
  auth: { method: 'client_secret_basic', secret },
})

/** The user:password pair inside a Basic header, base64-decoded but not form-decoded. */
function basicPair(headers: Record<string, string>): string {
  const value = headers.authorization ?? ''
  expect(value).toMatch(/^Basic [A-Za-z0-9+/]+=*$/u)
  return Buffer.from(value.slice('Basic '.length), 'base64').toString('utf8')
}

describe('clientCredentials() client_secret_basic', () => {
  it('https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1', async () => {
    // The example of RFC 6749 §2.3.1.
    await expect(
      clientCredentials(basic('s6BhdRkqt3', '7Fjfp0ZBr1KtDRbnfVdmIw'), ISSUER, NOW, 'jti'),
    ).resolves.toEqual({
      form: [],
      headers: { authorization: 'Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3' },
    })
  })

  it('TR-2: form-urlencodes id and secret before base64, so ":", "%", "+" and spaces survive', async () => {
    const { headers, form } = await clientCredentials(
      basic('my client', 'a:b%c+d e'),
      ISSUER,
      NOW,
      'jti',
    )
    expect(form).toEqual([])
    expect(headers).toEqual({ authorization: 'Basic bXkrY2xpZW50OmElM0FiJTI1YyUyQmQrZQ==' })
    expect(basicPair(headers)).toBe('my+client:a%3Ab%25c%2Bd+e')
    // What a server does with it (RFC 6749 Appendix B): split at the one raw ":", then form-decode.
    const [user, password] = basicPair(headers).split(':')
    expect(new URLSearchParams(`u=${user}&p=${password}`).get('u')).toBe('my client')
    expect(new URLSearchParams(`u=${user}&p=${password}`).get('p')).toBe('a:b%c+d e')
  })

  it('TR-2: non-ASCII is UTF-8 and then percent-encoded', async () => {
    const { headers } = await clientCredentials(basic('client', 'sécret€'), ISSUER, NOW, 'jti')
    expect(headers).toEqual({ authorization: 'Basic Y2xpZW50OnMlQzMlQTljcmV0JUUyJTgyJUFD' })
    expect(basicPair(headers)).toBe('client:s%C3%A9cret%E2%82%AC')
  })

  it('TR-2: a ":" in the client id is encoded too, so the pair splits at the right place', async () => {
    const { headers } = await clientCredentials(basic('urn:client:1', 'secret'), ISSUER, NOW, 'j')
    expect(basicPair(headers)).toBe('urn%3Aclient%3A1:secret')
  })

  it('leaves the characters encodeURIComponent keeps as they are (a form decoder reads them the same)', async () => {
    const { headers } = await clientCredentials(basic('c', "~!*()'._-"), ISSUER, NOW, 'jti')
    expect(basicPair(headers)).toBe("c:~!*()'._-")
  })
})

describe('clientCredentials() other methods', () => {
  it('client_secret_post: client_id and client_secret in the form, no header', async () => {
    const client: Client = {
      client_id: 'my client',
      auth: { method: 'client_secret_post', secret: 'a:b%c+d e' },
    }
    await expect(clientCredentials(client, ISSUER, NOW, 'jti')).resolves.toEqual({
      form: [
        ['client_id', 'my client'],
        ['client_secret', 'a:b%c+d e'],
      ],
      headers: {},
    })
  })

  it.each(['tls_client_auth', 'self_signed_tls_client_auth'] as const)(
    '%s: only client_id; the certificate is the transport’s (RFC 8705 §2)',
    async (method) => {
      await expect(
        clientCredentials({ client_id: 'c1', auth: { method } }, ISSUER, NOW, 'jti'),
      ).resolves.toEqual({ form: [['client_id', 'c1']], headers: {} })
    },
  )

  it('none: only client_id (a public client)', async () => {
    const client: Client = { client_id: 'public-app', auth: { method: 'none' } }
    await expect(clientCredentials(client, ISSUER, NOW, 'jti')).resolves.toEqual({
      form: [['client_id', 'public-app']],
      headers: {},
    })
  })
})

describe('clientCredentials() private_key_jwt https://www.rfc-editor.org/rfc/rfc7523#section-3', () => {
  async function keyClient(kid?: string): Promise<{ client: Client; publicJwk: JWK }> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const key = await exportJWK(privateKey)
    if (kid !== undefined) key.kid = kid
    return {
      client: {
        client_id: 'confidential-app',
        auth: { method: 'private_key_jwt', key, alg: 'ES256' },
      },
      publicJwk: await exportJWK(publicKey),
    }
  }

  it('TR-3: a signed assertion with aud = the issuer string, iss = sub = client_id, 60 s, the jti', async () => {
    const { client, publicJwk } = await keyClient('key-1')
    const { form, headers } = await clientCredentials(client, ISSUER, NOW, 'jti-0001')
    expect(headers).toEqual({})
    expect(form.map(([name]) => name)).toEqual([
      'client_id',
      'client_assertion_type',
      'client_assertion',
    ])
    expect(form[0]).toEqual(['client_id', 'confidential-app'])
    expect(form[1]).toEqual([
      'client_assertion_type',
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    ])
    const assertion = form[2]![1]
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'ES256', kid: 'key-1' })
    const { payload } = await jwtVerify(assertion, publicJwk, {
      algorithms: ['ES256'],
      currentDate: NOW,
    })
    const iat = NOW.getTime() / 1000
    expect(payload).toEqual({
      iss: 'confidential-app',
      sub: 'confidential-app',
      aud: ISSUER, // one string, not an array (draft-ietf-oauth-rfc7523bis)
      iat,
      exp: iat + 60,
      jti: 'jti-0001',
    })
  })

  it('TR-3: no kid header when the key has none', async () => {
    const { client } = await keyClient()
    const { form } = await clientCredentials(client, ISSUER, NOW, 'jti-0001')
    expect(decodeProtectedHeader(form[2]![1])).toEqual({ alg: 'ES256' })
  })

  it('TR-3: every call signs a new assertion with its own jti', async () => {
    const { client, publicJwk } = await keyClient()
    const jtis: unknown[] = []
    for (const jti of ['jti-a', 'jti-b']) {
      const { form } = await clientCredentials(client, ISSUER, NOW, jti)
      jtis.push((await jwtVerify(form[2]![1], publicJwk, { currentDate: NOW })).payload.jti)
    }
    expect(jtis).toEqual(['jti-a', 'jti-b'])
  })

  it('the signature does not verify with another key', async () => {
    const { client } = await keyClient()
    const { publicJwk: other } = await keyClient()
    const { form } = await clientCredentials(client, ISSUER, NOW, 'jti')
    await expect(jwtVerify(form[2]![1], other, { currentDate: NOW })).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    })
  })
})

describe('clientCredentials() client_secret_jwt https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication', () => {
  const SECRET = 'a-client-secret-of-32-characters'
  const client: Client = { client_id: 'c1', auth: { method: 'client_secret_jwt', secret: SECRET } }

  it('TR-3: an HS256 assertion keyed with the secret: aud = the issuer, iss = sub = client_id, 60 s, the jti; no secret sent', async () => {
    const { form, headers } = await clientCredentials(client, ISSUER, NOW, 'jti-1')
    expect(headers).toEqual({})
    expect(form.map(([name]) => name)).toEqual([
      'client_id',
      'client_assertion_type',
      'client_assertion',
    ])
    expect(form[0]).toEqual(['client_id', 'c1'])
    expect(form[1]).toEqual([
      'client_assertion_type',
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    ])
    const assertion = form[2]?.[1] ?? ''
    expect(JSON.stringify(form)).not.toContain(SECRET)
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'HS256' })
    const { payload } = await jwtVerify(assertion, new TextEncoder().encode(SECRET), {
      algorithms: ['HS256'],
      currentDate: NOW,
    })
    const iat = NOW.getTime() / 1000
    expect(payload).toEqual({
      iss: 'c1',
      sub: 'c1',
      aud: ISSUER,
      iat,
      exp: iat + 60,
      jti: 'jti-1',
    })
  })

  it('the assertion does not verify with another secret', async () => {
    const { form } = await clientCredentials(client, ISSUER, NOW, 'jti-1')
    await expect(
      jwtVerify(form[2]?.[1] ?? '', new TextEncoder().encode(`${SECRET}x`), { currentDate: NOW }),
    ).rejects.toThrow('signature verification failed')
  })

  it('TR-3: every call signs a new assertion with its own jti', async () => {
    const first = await clientCredentials(client, ISSUER, NOW, 'jti-1')
    const second = await clientCredentials(client, ISSUER, NOW, 'jti-2')
    expect(first.form[2]?.[1]).not.toBe(second.form[2]?.[1])
  })
})

describe('authenticatedPost() https://www.rfc-editor.org/rfc/rfc6749#section-2.3', () => {
  function recorder(): { http: (request: HttpRequest) => Promise<Response>; sent: HttpRequest[] } {
    const sent: HttpRequest[] = []
    return {
      sent,
      http: (request) => {
        sent.push(request)
        return Promise.resolve(new Response('{}', { status: 200 }))
      },
    }
  }

  it('POSTs the form with the credentials set over it and their headers under the caller’s', async () => {
    const { http, sent } = recorder()
    const params = new URLSearchParams({ grant_type: 'authorization_code', client_id: 'stale' })
    const url = new URL('https://tenant.example.com/oauth/token')
    const response = await authenticatedPost(
      http,
      { url, stage: 'token', params, headers: { dpop: 'proof', authorization: 'DPoP x' } },
      {
        form: [
          ['client_id', 'app'],
          ['client_secret', 's3cret'],
        ],
        headers: { authorization: 'Basic abc', 'x-extra': '1' },
      },
    )
    expect(response.status).toBe(200)
    expect(sent).toHaveLength(1)
    const [request] = sent
    expect(request?.method).toBe('POST')
    expect(request?.url).toBe(url)
    expect(request?.stage).toBe('token')
    expect(request?.headers).toEqual({ authorization: 'DPoP x', 'x-extra': '1', dpop: 'proof' })
    expect(request?.form?.toString()).toBe(
      'grant_type=authorization_code&client_id=app&client_secret=s3cret',
    )
    // The caller's parameters are not changed.
    expect(params.toString()).toBe('grant_type=authorization_code&client_id=stale')
  })
})
