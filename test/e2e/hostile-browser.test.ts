import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSandboxCertificates } from '../../src/sandbox/ca.js'
import { loginAgainst } from '../helpers/hostile-server.js'

// AR-2's example, made live for a POSIX shell: URL parsing keeps ", &, $, (, ) and ' in a path,
// and $IFS stands in for the space it would encode, so a shell would run `touch CANARY`.
const INJECTION = `/a"&calc&"$(touch$IFS'CANARY')`

let dir: string
let caFile: string
let tls: { key: string; cert: string }

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pkce-browser-'))
  const certificates = createSandboxCertificates()
  tls = { key: certificates.key, cert: certificates.cert }
  caFile = join(dir, 'ca.pem')
  await writeFile(caFile, certificates.caCert)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe.concurrent('pkce login: the browser command', () => {
  it('the canary is live: a shell given the URL would create CANARY', async () => {
    const cwd = await mkdtemp(join(dir, 'shell-'))
    const url = new URL(`https://127.0.0.1:1${INJECTION}`).href
    await promisify(execFile)('sh', ['-c', `true ${url}`], { cwd }).catch(() => undefined)
    expect(existsSync(join(cwd, 'CANARY'))).toBe(true)
  })

  it('AR-2: an https authorization_endpoint with shell syntax reaches the browser as one argv element, no CANARY', async () => {
    const run = await loginAgainst(
      {
        tls,
        metadata: (m, origin) => ({ ...m, authorization_endpoint: `${origin}${INJECTION}` }),
      },
      [],
      { env: { NODE_EXTRA_CA_CERTS: caFile } },
    )
    expect(run.code).toBe(0)
    expect(run.server.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/u)
    const authorizationUrl = run.doc.authorization_url as string
    expect(new URL(authorizationUrl).pathname).toBe(`/a%22&calc&%22$(touch$IFS'CANARY')`)
    expect(run.browserRuns).toEqual([{ argv: [authorizationUrl] }])
    expect(run.cwdEntries).toEqual([])
  })
})
