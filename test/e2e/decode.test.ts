import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRs256 } from '../helpers/jwt-fixtures.js'
import { jsonOf, REPO_ROOT, runCli, STACK_FRAME } from '../helpers/spawn-cli.js'

const HOOK = pathToFileURL(
  fileURLToPath(new URL('../helpers/module-hook.mjs', import.meta.url)),
).href

// What a plain decode must never load (README, "Development"), as source paths relative to the
// repository: dist/ is bundled, so each loaded file is read through its source map for the
// sources it holds. A chunk that holds any of these fails the check, whatever else it holds.
const HEAVY: [string, RegExp][] = [
  ['undici', /(?:^|\/)node_modules\/undici\//u],
  ['open', /(?:^|\/)node_modules\/open\//u],
  ['oidc-provider', /(?:^|\/)node_modules\/oidc-provider\//u],
  ['the loopback server', /^src\/net\/loopback\.ts$/u],
  ['jose/jwt/verify', /(?:^|\/)node_modules\/jose\/dist\/[^/]+\/jwt\/verify\.js$/u],
  ['the verify code', /^src\/commands\/decode-verify\.ts$/u],
  ['the JWKS cache', /^src\/jwt\/jwks-source\.ts$/u],
  ['the endpoint rules', /^src\/oauth\/endpoint\.ts$/u],
  ['the sandbox options', /^src\/sandbox\/options\.ts$/u],
  ['the GitHub Actions masks', /^src\/commands\/token-output\.ts$/u],
]

/**
 * The sources behind the module URLs a run resolved: a file of dist/ stands for the sources its
 * source map lists (a file without one fails the test); any other file for itself; built-ins
 * (`node:`) are left out.
 */
async function sourcesOf(urls: string[]): Promise<string[]> {
  const sources = new Set<string>()
  for (const url of new Set(urls)) {
    if (!url.startsWith('file:')) continue
    const file = fileURLToPath(url)
    const local = relative(REPO_ROOT, file).split(sep).join('/')
    if (!local.startsWith('dist/')) {
      sources.add(local)
      continue
    }
    const map = JSON.parse(await readFile(`${file}.map`, 'utf8')) as { sources: string[] }
    for (const source of map.sources) {
      sources.add(
        relative(REPO_ROOT, resolve(dirname(file), source))
          .split(sep)
          .join('/'),
      )
    }
  }
  return [...sources]
}

let dir = ''
let token = ''

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-decode-e2e-'))
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const now = Math.floor(Date.now() / 1000)
  token = signRs256(
    { alg: 'RS256', typ: 'JWT' },
    { iss: 'https://acme.eu.auth0.com/', sub: 'auth0|42', iat: now, exp: now + 3600 },
    privateKey,
  )
  await writeFile(join(dir, 'key.pem'), publicKey.export({ format: 'pem', type: 'spki' }))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The sources of every module a run of the built bin loaded (see `sourcesOf`). */
async function loadedModules(args: string[], name: string): Promise<string[]> {
  const log = join(dir, `${name}.log`)
  const run = await runCli(args, { nodeArgs: ['--import', HOOK], env: { MODULE_HOOK_LOG: log } })
  expect(run.code).toBe(0)
  return sourcesOf((await readFile(log, 'utf8')).split('\n').filter(Boolean))
}

describe('pkce decode, the built bin', () => {
  it('decodes a token: stdout is the report, stderr only the warning, exit 0', async () => {
    const run = await runCli(['decode', token])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^\nJWS \(signed JWT\)\n {2}token {6}eyJhbGciOiJS… \(\d+ chars\)\n/u)
    expect(run.stdout).toMatch(
      /\n {2}sub +auth0\|42 +# subject: the user \(or client\) it is about\n/u,
    )
    expect(run.stderr).toBe(
      'warning: signature not verified: the claims are what the token says, not proven (add --verify) (signature_not_verified)\n',
    )
  })

  it('reads tokens piped on stdin, pasted forms included; --json is an array', async () => {
    const run = await runCli(['--json', 'decode'], {
      stdin: `Authorization: Bearer ${token}\nKBSxkmG-OcpA6-cg\n`,
    })
    expect(run.code).toBe(0)
    const docs = JSON.parse(run.stdout) as { kind: string }[]
    expect(docs.map((doc) => doc.kind)).toEqual(['jws', 'opaque'])
  })

  it('--claims prints only the payload, for jq', async () => {
    const run = await runCli(['decode', '--claims', token])
    expect(run.code).toBe(0)
    expect(jsonOf(run).sub).toBe('auth0|42')
  })

  it('a malformed token exits 4 with the reason, never a stack trace', async () => {
    const run = await runCli(['--json', 'decode', 'eyJhbGciOiJub25lIn0.e!!.'])
    expect(run.code).toBe(4)
    expect(jsonOf(run).error).toEqual({
      code: 'token_malformed',
      message: 'the payload segment (#2) is not base64url',
      hint: 'a JWT holds only A-Z a-z 0-9 - _ and dots; check for spaces, padding (=) or cut lines',
      stage: 'decode',
    })
    expect(run.stderr).not.toMatch(STACK_FRAME)
  })

  it('--verify --key-file: verified, exit 0; a failed assertion exits 4', async () => {
    const key = join(dir, 'key.pem')
    const ok = await runCli(['decode', '--key-file', key, '--expect-valid-for', '5m', token])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('  signature  RS256, 256 bytes, verified\n')
    expect(ok.stdout).toMatch(/\n✓ every check passed\n$/u)
    expect(ok.stderr).toBe('')
    const failed = await runCli(['decode', '--key-file', key, '--expect-valid-for', '2h', token])
    expect(failed.code).toBe(4)
    expect(failed.stderr).toMatch(/^error: assertion failed: token\.expect_valid_for: expires in /u)
  })

  it("a plain decode loads none of undici, open, oidc-provider, the loopback server, jose/jwt/verify or pkce's verify code", async () => {
    const modules = await loadedModules(['decode', token], 'plain')
    expect(modules).toContain('src/commands/decode.ts')
    for (const [name, pattern] of HEAVY) {
      expect(
        modules.filter((source) => pattern.test(source)),
        name,
      ).toEqual([])
    }
  })

  it('the hook sees what --verify loads: jose/jwt/verify, still no undici for a key file', async () => {
    const modules = await loadedModules(
      ['decode', '--key-file', join(dir, 'key.pem'), token],
      'verify',
    )
    expect(modules.some((source) => HEAVY[4]![1].test(source))).toBe(true)
    expect(modules.some((source) => HEAVY[5]![1].test(source))).toBe(true)
    expect(modules.filter((source) => HEAVY[0]![1].test(source))).toEqual([])
  })
})
