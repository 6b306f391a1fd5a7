import { exportJWK, generateKeyPair } from 'jose'
import type { JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { toDpopOptions } from '../../../src/cli/options/dpop.js'
import type { RawDpopOptions } from '../../../src/cli/options/dpop.js'
import { rejection } from '../../helpers/cli-error.js'
import { withTempFiles } from '../../helpers/temp-files.js'
import { testCtx } from '../../helpers/test-ctx.js'

const files = withTempFiles('pkce-dpop-')
let keyFile: string
let jwk: JWK

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('ES384', { extractable: true })
  jwk = { ...(await exportJWK(privateKey)), alg: 'ES384' }
  keyFile = await files.file('dpop.jwk', JSON.stringify(jwk))
})

describe('toDpopOptions()', () => {
  it('is undefined without --dpop', async () => {
    expect(await toDpopOptions({}, testCtx())).toBeUndefined()
    expect(
      await toDpopOptions({ dpop: false, allowDpopDowngrade: false }, testCtx()),
    ).toBeUndefined()
  })

  it.each<RawDpopOptions>([
    { dpopAlg: 'ES256' },
    { dpopKey: 'key.jwk' },
    { allowDpopDowngrade: true },
  ])('refuses %j without --dpop', async (raw) => {
    const error = await rejection(toDpopOptions(raw, testCtx()))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--dpop-alg, --dpop-key and --allow-dpop-downgrade need --dpop')
  })

  it('--dpop alone: a fresh key, its algorithm chosen later', async () => {
    expect(await toDpopOptions({ dpop: true }, testCtx())).toStrictEqual({
      alg: undefined,
      key: undefined,
      allowDowngrade: false,
    })
  })

  it('--dpop-alg and --allow-dpop-downgrade', async () => {
    expect(
      await toDpopOptions({ dpop: true, dpopAlg: 'RS256', allowDpopDowngrade: true }, testCtx()),
    ).toStrictEqual({ alg: 'RS256', key: undefined, allowDowngrade: true })
  })

  it('--dpop-key: the private JWK, with its own alg when --dpop-alg is not given', async () => {
    const options = await toDpopOptions({ dpop: true, dpopKey: keyFile }, testCtx())
    expect(options?.alg).toBe('ES384')
    expect(options?.key).toEqual(jwk)
    expect(options?.allowDowngrade).toBe(false)
  })
})
