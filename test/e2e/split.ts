import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { expect } from 'vitest'
import { driveAuthorization } from '../../src/sandbox/scripted-agent.js'
import { jsonOf, runCli } from '../helpers/spawn-cli.js'
import type { CliRun } from '../helpers/spawn-cli.js'
import type { TestTenant } from './tenant.js'

/** A port nobody listens on: `authorize` needs a fixed one, as a registered callback has. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** `pkce authorize` on a free port, the scripted browser stopping at the redirect, `pkce exchange`. */
export async function splitFlow(
  tenant: TestTenant,
  clientArgs: string[],
  exchangeArgs: string[],
): Promise<CliRun> {
  const authorized = await runCli(
    [
      'authorize',
      '--issuer',
      tenant.sandbox.issuer,
      ...clientArgs,
      '--port',
      String(await freePort()),
      '--json',
    ],
    { env: tenant.env, timeoutMs: 30_000 },
  )
  expect({ code: authorized.code, stderr: authorized.code === 0 ? '' : authorized.stderr }).toEqual(
    {
      code: 0,
      stderr: '',
    },
  )
  const doc = jsonOf(authorized) as { authorization_url: string; state_file: string }
  const { callbackUrl } = await driveAuthorization(doc.authorization_url, {
    ca: readFileSync(tenant.caFile, 'utf8'),
    stopAtCallback: true,
  })
  return runCli(
    [
      'exchange',
      '--state-file',
      doc.state_file,
      '--callback-url',
      callbackUrl,
      '--json',
      ...exchangeArgs,
    ],
    { env: tenant.env, timeoutMs: 30_000 },
  )
}
