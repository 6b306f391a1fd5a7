import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider'

// What revoking a grant destroys, as in oidc-provider's MemoryAdapter.
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken'])

/**
 * Per-tenant storage for oidc-provider. Its own MemoryAdapter shares one module-level LRU between
 * every provider in the process and warns on the console when used.
 *
 * @param maxLifetimes seconds at most an entry of a model lives, whatever oidc-provider asks for
 *   (the sandbox caps `PushedAuthorizationRequest` at Auth0's 30 seconds)
 */
export function memoryAdapter(maxLifetimes: Readonly<Record<string, number>> = {}): AdapterFactory {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>()
  const grants = new Map<string, Set<string>>()
  const sessionsByUid = new Map<string, string>()

  const read = (key: string) => {
    const entry = entries.get(key)
    if (entry && entry.expiresAt <= Date.now()) {
      entries.delete(key)
      return undefined
    }
    return entry?.payload
  }

  return (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`
    const maxLifetime = maxLifetimes[model] ?? Infinity
    return {
      upsert(id, payload, expiresIn) {
        const ttl = Math.min(expiresIn, maxLifetime)
        entries.set(key(id), { payload, expiresAt: Date.now() + ttl * 1000 })
        if (model === 'Session' && payload.uid !== undefined) sessionsByUid.set(payload.uid, id)
        if (GRANTABLE.has(model) && payload.grantId !== undefined) {
          const keys = grants.get(payload.grantId) ?? new Set()
          grants.set(payload.grantId, keys.add(key(id)))
        }
        return Promise.resolve()
      },
      find: (id) => Promise.resolve(read(key(id))),
      findByUid(uid) {
        const id = sessionsByUid.get(uid)
        return Promise.resolve(id === undefined ? undefined : read(key(id)))
      },
      // The device flow is disabled, so nothing has a user code.
      findByUserCode: () => Promise.resolve(undefined),
      consume(id) {
        const payload = read(key(id))
        if (payload) payload.consumed = Math.floor(Date.now() / 1000)
        return Promise.resolve()
      },
      destroy(id) {
        entries.delete(key(id))
        return Promise.resolve()
      },
      revokeByGrantId(grantId) {
        for (const grantKey of grants.get(grantId) ?? []) entries.delete(grantKey)
        grants.delete(grantId)
        return Promise.resolve()
      },
    }
  }
}
