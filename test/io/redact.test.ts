import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../src/io/redact.js'

describe('createRedactor() (security.md SO-2, SO-3)', () => {
  it('is enabled by default and replaces every occurrence of a secret', () => {
    const secrets = createRedactor()
    secrets.add('s3cret-value')
    expect(secrets.enabled).toBe(true)
    expect(secrets.redact('a s3cret-value b s3cret-value')).toBe(
      'a [redacted 12 chars] b [redacted 12 chars]',
    )
  })

  it('leaves text without a known secret unchanged', () => {
    const secrets = createRedactor()
    secrets.add('s3cret-value')
    expect(secrets.redact('nothing to hide here')).toBe('nothing to hide here')
    expect(createRedactor().redact('no secrets known')).toBe('no secrets known')
  })

  it('ignores secrets under 8 characters, which would redact ordinary words, and undefined', () => {
    const secrets = createRedactor()
    secrets.add('1234567')
    secrets.add(undefined)
    secrets.add('')
    secrets.add('12345678')
    expect(secrets.redact('1234567 / 12345678')).toBe('1234567 / [redacted 8 chars]')
  })

  it('replaces the longest secret first, so a secret containing another goes whole', () => {
    const secrets = createRedactor()
    secrets.add('password')
    secrets.add('password-and-more')
    expect(secrets.redact('password-and-more, password')).toBe(
      '[redacted 17 chars], [redacted 8 chars]',
    )
  })

  it('the order secrets are added in does not matter', () => {
    const secrets = createRedactor()
    secrets.add('password-and-more')
    secrets.add('password')
    expect(secrets.redact('password-and-more')).toBe('[redacted 17 chars]')
  })

  it('matches secrets literally, regular-expression characters included', () => {
    const secrets = createRedactor()
    secrets.add('a.b*c+d?(e)$')
    expect(secrets.redact('xa.b*c+d?(e)$y aXbbbcd')).toBe('x[redacted 12 chars]y aXbbbcd')
  })

  it('adding the same secret twice redacts it once per occurrence', () => {
    const secrets = createRedactor()
    secrets.add('s3cret-value')
    secrets.add('s3cret-value')
    expect(secrets.redact('s3cret-value')).toBe('[redacted 12 chars]')
  })

  it('counts characters, not bytes', () => {
    const secrets = createRedactor()
    secrets.add('pässwörd-ünïcode')
    expect(secrets.redact('pässwörd-ünïcode')).toBe('[redacted 16 chars]')
  })

  it('--show-secrets: a disabled redactor says so and returns text unchanged', () => {
    const secrets = createRedactor(false)
    secrets.add('s3cret-value')
    expect(secrets.enabled).toBe(false)
    expect(secrets.redact('a s3cret-value')).toBe('a s3cret-value')
  })

  it('redactors do not share secrets', () => {
    const one = createRedactor()
    const two = createRedactor()
    one.add('s3cret-value')
    expect(two.redact('s3cret-value')).toBe('s3cret-value')
  })
})
