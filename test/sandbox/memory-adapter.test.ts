import type { AdapterPayload } from 'oidc-provider'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { memoryAdapter } from '../../src/sandbox/memory-adapter.js'

const NOW = new Date('2026-01-01T00:00:00Z')

afterEach(() => {
  vi.useRealTimers()
})

function at(seconds: number): void {
  vi.setSystemTime(NOW.getTime() + seconds * 1000)
}

describe('memoryAdapter()', () => {
  it('keeps an entry for the lifetime oidc-provider gives, and no longer', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW })
    const codes = memoryAdapter()('AuthorizationCode')
    const payload: AdapterPayload = { jti: 'c1', kind: 'AuthorizationCode' }
    await codes.upsert('c1', payload, 60)
    at(59.999)
    expect(await codes.find('c1')).toBe(payload)
    at(60)
    expect(await codes.find('c1')).toBeUndefined()
  })

  it('caps a model at its maximum lifetime: Auth0 keeps a pushed request 30 s', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW })
    const adapter = memoryAdapter({ PushedAuthorizationRequest: 30 })
    const pushed = adapter('PushedAuthorizationRequest')
    const sessions = adapter('Session')
    await pushed.upsert('p1', { jti: 'p1' }, 600)
    await sessions.upsert('s1', { jti: 's1' }, 600)
    at(29)
    expect(await pushed.find('p1')).toEqual({ jti: 'p1' })
    at(30)
    expect(await pushed.find('p1')).toBeUndefined()
    expect(await sessions.find('s1')).toEqual({ jti: 's1' })
  })

  it('keeps models apart: the same id in two models is two entries', async () => {
    const adapter = memoryAdapter()
    await adapter('AccessToken').upsert('x', { jti: 'x', kind: 'AccessToken' }, 60)
    await adapter('RefreshToken').upsert('x', { jti: 'x', kind: 'RefreshToken' }, 60)
    expect(await adapter('AccessToken').find('x')).toEqual({ jti: 'x', kind: 'AccessToken' })
    expect(await adapter('RefreshToken').find('x')).toEqual({ jti: 'x', kind: 'RefreshToken' })
    expect(await adapter('Grant').find('x')).toBeUndefined()
  })

  it('keeps tenants apart, unlike oidc-provider’s shared MemoryAdapter', async () => {
    await memoryAdapter()('Session').upsert('s1', { jti: 's1' }, 60)
    expect(await memoryAdapter()('Session').find('s1')).toBeUndefined()
  })

  it('finds a session by its uid, and nothing by a user code', async () => {
    const sessions = memoryAdapter()('Session')
    await sessions.upsert('s1', { jti: 's1', uid: 'u1' }, 60)
    expect(await sessions.findByUid('u1')).toEqual({ jti: 's1', uid: 'u1' })
    expect(await sessions.findByUid('u2')).toBeUndefined()
    expect(await sessions.findByUserCode('ABCD-EFGH')).toBeUndefined()
  })

  it('marks a consumed entry with the time in seconds, and destroys one', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW })
    const codes = memoryAdapter()('AuthorizationCode')
    await codes.upsert('c1', { jti: 'c1' }, 60)
    await codes.consume('c1')
    expect(await codes.find('c1')).toEqual({ jti: 'c1', consumed: NOW.getTime() / 1000 })
    await codes.destroy('c1')
    expect(await codes.find('c1')).toBeUndefined()
  })

  it('revoking a grant destroys its codes and tokens, not other grants’ or other models’', async () => {
    const adapter = memoryAdapter()
    await adapter('AuthorizationCode').upsert('c1', { jti: 'c1', grantId: 'g1' }, 60)
    await adapter('AccessToken').upsert('a1', { jti: 'a1', grantId: 'g1' }, 60)
    await adapter('RefreshToken').upsert('r1', { jti: 'r1', grantId: 'g1' }, 60)
    await adapter('AccessToken').upsert('a2', { jti: 'a2', grantId: 'g2' }, 60)
    await adapter('Grant').upsert('g1', { jti: 'g1', grantId: 'g1' }, 60)

    await adapter('AccessToken').revokeByGrantId('g1')

    expect(await adapter('AuthorizationCode').find('c1')).toBeUndefined()
    expect(await adapter('AccessToken').find('a1')).toBeUndefined()
    expect(await adapter('RefreshToken').find('r1')).toBeUndefined()
    expect(await adapter('AccessToken').find('a2')).toEqual({ jti: 'a2', grantId: 'g2' })
    expect(await adapter('Grant').find('g1')).toEqual({ jti: 'g1', grantId: 'g1' })
  })
})
