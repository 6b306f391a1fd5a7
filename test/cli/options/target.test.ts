import { describe, expect, it } from 'vitest'
import { toClient, toExpectedIssuer, toIssuer } from '../../../src/cli/options/target.js'
import { rejection } from '../../helpers/cli-error.js'
import { withTempFiles } from '../../helpers/temp-files.js'
import { testCtx } from '../../helpers/test-ctx.js'

const files = withTempFiles('pkce-target-')

describe('toIssuer()', () => {
  it.each([
    ['acme.us.auth0.com', 'https://acme.us.auth0.com/'],
    ['login.acme.test:8443', 'https://login.acme.test:8443/'],
    ['ACME.test', 'https://acme.test/'],
  ])('--domain %s → %s', async (domain, issuer) => {
    expect(await toIssuer({ domain })).toBe(issuer)
  })

  it('refuses a URL in --domain', async () => {
    const error = await rejection(toIssuer({ domain: 'https://acme.us.auth0.com' }))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--domain takes a host name, not a URL: https://acme.us.auth0.com')
    expect(error.hint).toBe('use --issuer <url> for a full URL')
  })

  it('refuses a path in --domain', async () => {
    const error = await rejection(toIssuer({ domain: 'acme.test/tenant' }))
    expect(error.message).toBe('--domain takes a host name, not a URL: acme.test/tenant')
  })

  it('refuses a --domain that is not a host name', async () => {
    const error = await rejection(toIssuer({ domain: 'acme test' }))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--domain acme test is not a host name')
  })

  it('asks for a server when neither --domain nor --issuer is given', async () => {
    const error = await rejection(toIssuer({}))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('say which server: --domain <tenant>.auth0.com or --issuer <url>')
  })

  it.each([
    // RFC 8414 §3.3: compared exactly, so no "/" is added to a bare origin.
    'https://accounts.google.com',
    'https://acme.us.auth0.com/',
    'https://login.microsoftonline.com/tenant-id/v2.0',
    'http://127.0.0.1:3000/',
    'http://localhost:3000',
    'http://[::1]:3000/',
  ])('--issuer %s is kept exactly as typed', async (issuer) => {
    expect(await toIssuer({ issuer })).toBe(issuer)
  })

  it('prefers --domain when both reach it (commander refuses the pair before)', async () => {
    expect(await toIssuer({ domain: 'acme.test', issuer: 'https://other.test/' })).toBe(
      'https://acme.test/',
    )
  })

  it.each(['https://acme.test/?tenant=1', 'https://acme.test/#top'])(
    'refuses an issuer with a query or fragment: %s',
    async (issuer) => {
      const error = await rejection(toIssuer({ issuer }))
      expect(error.code).toBe('usage_error')
      expect(error.message).toBe('an issuer has no query or fragment')
    },
  )

  it('refuses plain http to a host that is not loopback (docs/security.md TL-3)', async () => {
    const error = await rejection(toIssuer({ issuer: 'http://idp.acme.test/' }))
    expect(error.code).toBe('insecure_not_loopback')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(
      '--issuer: plain http is only accepted for a loopback host, not idp.acme.test',
    )
    expect(error.hint).toBe('use https')
  })

  it('refuses another scheme', async () => {
    const error = await rejection(toIssuer({ issuer: 'ftp://acme.test/' }))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--issuer must be an https URL, not ftp:')
  })

  it('refuses what is not a URL', async () => {
    const error = await rejection(toIssuer({ issuer: 'acme.test' }))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--issuer acme.test is not a URL')
  })
})

describe('toExpectedIssuer()', () => {
  it('applies the same checks as --issuer', async () => {
    expect(await toExpectedIssuer('https://accounts.google.com')).toBe(
      'https://accounts.google.com',
    )
    expect((await rejection(toExpectedIssuer('http://idp.acme.test/'))).code).toBe(
      'insecure_not_loopback',
    )
  })
})

describe('toClient()', () => {
  it.each([{}, { clientId: '' }])('requires --client-id: %j', async (raw) => {
    const error = await rejection(toClient(raw, testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--client-id <id> is required')
    expect(error.hint).toBe("the application's Client ID")
  })

  it('is a public client without client authentication flags', async () => {
    expect(await toClient({ clientId: 'abc' }, testCtx())).toEqual({
      client_id: 'abc',
      auth: { method: 'none' },
    })
  })

  it('carries the client authentication', async () => {
    const path = await files.file('secret', 'the-client-secret\n')
    expect(await toClient({ clientId: 'abc', clientSecretFile: path }, testCtx())).toEqual({
      client_id: 'abc',
      auth: { method: 'client_secret_post', secret: 'the-client-secret' },
    })
  })

  it('checks --client-id first, then refuses a secret on argv', async () => {
    const error = await rejection(toClient({ clientSecret: 's3cr3t-value' }, testCtx()))
    expect(error.code).toBe('usage_error')
    const withId = await rejection(
      toClient({ clientId: 'abc', clientSecret: 's3cr3t-value' }, testCtx()),
    )
    expect(withId.code).toBe('secret_on_argv')
  })
})
