import { link, mkdtemp, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { JWK } from 'jose'
import type { Ctx } from '../context.js'
import { CliError } from '../errors.js'
import type { ClientAuthMethod } from '../oauth/client-auth.js'
import { isPlainObject } from '../oauth/response.js'
import type { ParReport } from './flow.js'
import type { CacheKeyFields } from './token-store.js'

/**
 * What `pkce authorize` leaves for `pkce exchange`: everything the second leg needs to finish the
 * flow on this machine. Client secrets and client keys are referenced by path, never copied
 * (docs/security.md FS-2); the DPoP private key is the one exception, since it exists nowhere else.
 */
export interface FlowState {
  version: 1
  issuer: string
  client_id: string
  client_auth: {
    method: ClientAuthMethod
    /** `--client-secret-file` or `--private-key-file`, as given. */
    file?: string
  }
  redirect_uri: string
  code_verifier: string
  code_challenge: string
  state: string
  nonce: string | null
  scope: string
  audience: string | null
  max_age: number | null
  /** The authorization request's parameters as sent, in order. */
  parameters: [string, string][]
  authorization_url: string
  par: ParReport | null
  dpop: { alg: string; jwk: JWK } | null
  /** What names the tokens in the token store, for `exchange --save`. */
  store_key: CacheKeyFields
  created_at: string
}

/**
 * Writes the state file: created new (an existing file or symlink is an error, never followed),
 * mode 0600, written completely before it appears under its name. Without `--state-file` it goes in
 * a fresh private directory under the OS temp dir (docs/security.md FS-1).
 */
export async function writeStateFile(
  path: string | undefined,
  state: FlowState,
  ctx: Ctx,
): Promise<string> {
  const privateDir = path === undefined ? await mkdtemp(join(tmpdir(), 'pkce-flow-')) : undefined
  const target = path ?? join(privateDir ?? '', 'state.json')
  const temporary = join(
    dirname(target),
    `.pkce-state-${Buffer.from(ctx.random(12)).toString('hex')}.tmp`,
  )
  let written = false
  try {
    await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    written = true
    // link() refuses an existing name, file or symlink alike: the exclusive, atomic step.
    await link(temporary, target)
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error)
    if (privateDir !== undefined) await rm(privateDir, { recursive: true, force: true })
    throw new CliError(
      'usage_error',
      written && code === 'EEXIST'
        ? `the state file ${target} already exists; pkce never overwrites one`
        : `cannot write the state file ${target} (${code})`,
      { hint: 'pass --state-file <a new path>, or leave it out for a fresh private file' },
    )
  } finally {
    if (written) await rm(temporary, { force: true })
  }
  return target
}

function invalid(path: string, what: string): CliError {
  return new CliError('usage_error', `the state file ${path} is not one pkce wrote: ${what}`, {
    hint: 'run pkce authorize again; it prints the path of the file it writes',
  })
}

const STRING_FIELDS = [
  'issuer',
  'client_id',
  'redirect_uri',
  'code_verifier',
  'code_challenge',
  'state',
  'scope',
  'authorization_url',
  'created_at',
] as const

/** Reads and checks a state file; anything unexpected is a usage error naming the file. */
export async function readStateFile(path: string, ctx: Ctx): Promise<FlowState> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
    if (((await stat(path)).mode & 0o077) !== 0) {
      ctx.reporter.warn(
        'state_file_readable',
        `${path} can be read by other users (chmod 600 ${path}): it holds the code_verifier`,
      )
    }
  } catch (error) {
    throw new CliError(
      'usage_error',
      `cannot read the state file ${path} (${(error as { code?: string }).code ?? String(error)})`,
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw invalid(path, 'it is not JSON')
  }
  if (!isPlainObject(parsed) || parsed.version !== 1) throw invalid(path, 'no version 1')
  for (const field of STRING_FIELDS) {
    if (typeof parsed[field] !== 'string') throw invalid(path, `"${field}" is missing`)
  }
  if (!isPlainObject(parsed.client_auth) || typeof parsed.client_auth.method !== 'string')
    throw invalid(path, '"client_auth" is missing')
  if (!Array.isArray(parsed.parameters)) throw invalid(path, '"parameters" is missing')
  const { dpop, par } = parsed
  if (
    dpop !== null &&
    !(isPlainObject(dpop) && typeof dpop.alg === 'string' && isPlainObject(dpop.jwk))
  )
    throw invalid(path, '"dpop" is missing')
  if (par !== null && !isPlainObject(par)) throw invalid(path, '"par" is missing')
  if (!isPlainObject(parsed.store_key)) throw invalid(path, '"store_key" is missing')
  const state = parsed as unknown as FlowState
  ctx.secrets.add(state.dpop?.jwk.d)
  return state
}

/**
 * Deletes the state file after a successful exchange: the verifier is spent (FS-2). The private
 * directory `authorize` made for it goes too.
 */
export async function deleteStateFile(path: string): Promise<void> {
  await rm(path, { force: true })
  if (basename(dirname(path)).startsWith('pkce-flow-'))
    await rmdir(dirname(path)).catch(() => undefined)
}
