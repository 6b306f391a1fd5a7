import { describe, expect, it } from 'vitest'
import { internalAddressKind } from '../../src/oauth/endpoint.js'

describe('internalAddressKind() (security.md MD-6)', () => {
  it.each([
    ['169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.100.100.200', 'private'],
    ['fd00::1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['172.32.0.1', undefined],
    ['8.8.8.8', undefined],
    ['2606:4700::1111', undefined],
    ['auth.example.com', undefined],
  ])('%s → %s', (address, kind) => {
    expect(internalAddressKind(address)).toBe(kind)
  })
})
