import { readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Agent, fetch } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { startSandboxTenant, type RunningSandbox } from '../../src/commands/sandbox.js'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'

const running: RunningSandbox[] = []

async function start(...args: Parameters<typeof startSandboxTenant>): Promise<RunningSandbox> {
  const tenant = await startSandboxTenant(...args)
  running.push(tenant)
  return tenant
}

afterEach(async () => {
  for (const { sandbox, info } of running.splice(0)) {
    await sandbox.close()
    rmSync(info.files_dir, { recursive: true, force: true })
  }
})

describe('startSandboxTenant()', () => {
  it('writes each credential to a mode-0600 file beside the ready document', async () => {
    const { sandbox, info } = await start()
    expect(info.issuer).toBe(sandbox.issuer)
    expect(info.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(info.ca_file).toBeNull()
    const secret = sandbox.client(DEFAULT_CLIENT_IDS.confidential).client_secret!
    const key = sandbox.client(DEFAULT_CLIENT_IDS.privateKeyJwt).private_jwk!
    expect(info.clients).toStrictEqual([
      { client_id: DEFAULT_CLIENT_IDS.public, token_endpoint_auth_method: 'none' },
      {
        client_id: DEFAULT_CLIENT_IDS.confidential,
        token_endpoint_auth_method: 'client_secret_post',
        client_secret: secret,
        client_secret_file: join(info.files_dir, `${DEFAULT_CLIENT_IDS.confidential}.secret`),
      },
      {
        client_id: DEFAULT_CLIENT_IDS.privateKeyJwt,
        token_endpoint_auth_method: 'private_key_jwt',
        private_jwk: key,
        private_key_file: join(info.files_dir, `${DEFAULT_CLIENT_IDS.privateKeyJwt}.jwk.json`),
      },
    ])
    const [, secretFile, keyFile] = info.clients.map((client) =>
      String(client.client_secret_file ?? client.private_key_file),
    )
    expect(readFileSync(secretFile!, 'utf8')).toBe(`${secret}\n`)
    expect(JSON.parse(readFileSync(keyFile!, 'utf8'))).toStrictEqual(key)
    expect(statSync(secretFile!).mode & 0o777).toBe(0o600)
    expect(statSync(keyFile!).mode & 0o777).toBe(0o600)
  })

  it('with https, writes the throw-away CA that a client trusts the tenant with', async () => {
    const { sandbox, info } = await start({ https: true })
    expect(info.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    expect(info.ca_file).toBe(join(info.files_dir, 'ca.pem'))
    expect(readFileSync(info.ca_file!, 'utf8')).toBe(sandbox.caCert)
    const dispatcher = new Agent({ connect: { ca: readFileSync(info.ca_file!, 'utf8') } })
    try {
      const response = await fetch(`${sandbox.url}/.well-known/openid-configuration`, {
        dispatcher,
      })
      expect(response.status).toBe(200)
      expect(((await response.json()) as { issuer: string }).issuer).toBe(info.issuer)
    } finally {
      await dispatcher.close()
    }
  })

  it('logs one line per request through the given function', async () => {
    const lines: string[] = []
    const { sandbox } = await start({}, (line) => lines.push(line))
    await fetch(`${sandbox.url}/.well-known/openid-configuration`).then((r) => r.text())
    expect(lines).toStrictEqual(['GET /.well-known/openid-configuration 200'])
  })

  it('LL-2: a busy port is port_in_use (exit 5), naming the port and what to pass', async () => {
    const squatter = createServer()
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve))
    const { port } = squatter.address() as AddressInfo
    try {
      await expect(startSandboxTenant({ port })).rejects.toMatchObject({
        code: 'port_in_use',
        exitCode: 5,
        message: `cannot start the sandbox on 127.0.0.1:${port}: the port is in use`,
        hint: 'pass --port <n>, or --port 0 for a free one',
      })
    } finally {
      await new Promise((resolve) => squatter.close(resolve))
    }
  })

  it('a config file that cannot be read is a usage error (exit 2) naming it', async () => {
    await expect(
      startSandboxTenant({ configFile: '/nonexistent/tenant.json' }),
    ).rejects.toMatchObject({
      code: 'usage_error',
      exitCode: 2,
      message: 'could not read sandbox config /nonexistent/tenant.json',
    })
  })
})
