import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'

export interface TempFiles {
  /** The path of `name` in the folder (nothing is written). */
  path: (name: string) => string
  /** Writes `name` in the folder, private (0600) unless `mode` says otherwise; its path. */
  file: (name: string, content: string, mode?: number) => Promise<string>
}

/**
 * A private temporary folder for the tests of the enclosing block: made in `beforeAll`, removed
 * with everything in it in `afterAll`.
 */
export function withTempFiles(prefix = 'pkce-test-'): TempFiles {
  let dir: string | undefined
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix))
  })
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })
  const path = (name: string): string => {
    if (dir === undefined) throw new Error('withTempFiles() used outside the tests of its block')
    return join(dir, name)
  }
  return {
    path,
    file: async (name, content, mode = 0o600) => {
      const target = path(name)
      await writeFile(target, content, { mode })
      return target
    },
  }
}
