import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, generateKeyPair } from 'jose'
import type { JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toDpopOptions } from '../../../src/cli/options/dpop.js'
import type { RawDpopOptions } from '../../../src/cli/options/dpop.js'
import { CliError } from '../../../src/errors.js'
import { testCtx } from '../../helpers/test-ctx.js'

let dir: string
let keyFile: string
let jwk: JWK

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-dpop-'))
  const { privateKey } = await generateKeyPair('ES384', { extractable: true })
  jwk = { ...(await exportJWK(privateKey)), alg: 'ES384' }
  keyFile = join(dir, 'dpop.jwk')
  await writeFile(keyFile, JSON.stringify(jwk), { mode: 0o600 })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function rejection(promise: Promise<unknown>): Promise<CliError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => {
      if (!(error instanceof CliError)) throw error
      return error
    },
  )
}

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
