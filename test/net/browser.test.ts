import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import open from 'open'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { CliError } from '../../src/errors.js'
import { openBrowser, splitCommand } from '../../src/net/browser.js'

// Never start a real browser: the system-browser path gets a stub.
vi.mock('open', () => ({ default: vi.fn(() => Promise.resolve()) }))

function thrown(run: () => unknown): CliError {
  try {
    run()
  } catch (error) {
    return error as CliError
  }
  throw new Error('expected a failure')
}

describe('splitCommand() (security.md AR-2: no shell)', () => {
  it.each([
    ['firefox', ['firefox']],
    ['  firefox   --new-window\t-P  work ', ['firefox', '--new-window', '-P', 'work']],
    [
      '"/Applications/Google Chrome.app" --incognito',
      ['/Applications/Google Chrome.app', '--incognito'],
    ],
    ["chromium '--user-data-dir=/tmp/a b'", ['chromium', '--user-data-dir=/tmp/a b']],
    ['a"b c"d', ['ab cd']],
    [`say '"quoted"' "it's"`, ['say', '"quoted"', "it's"]],
    ['browser "" x', ['browser', '', 'x']],
    ['C:\\Tools\\browser.exe \\n', ['C:\\Tools\\browser.exe', '\\n']],
    ['sh -c $(touch CANARY);`id`|x&y', ['sh', '-c', '$(touch', 'CANARY);`id`|x&y']],
  ])('%j → %j', (command, words) => {
    expect(splitCommand(command)).toEqual(words)
  })

  it.each([
    ['firefox "--new-window', 'unbalanced " in the browser command'],
    ["firefox '", "unbalanced ' in the browser command"],
    ['', 'the browser command is empty'],
    [' \t ', 'the browser command is empty'],
  ])('%j is a usage error: %s', (command, message) => {
    const error = thrown(() => splitCommand(command))
    expect(error.code).toBe('usage_error')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(message)
  })
})

describe('openBrowser()', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkce-browser-'))
    vi.mocked(open).mockClear()
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it.each(['file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,x', 'ftp://as.test/'])(
    'AR-2: refuses %s before starting anything',
    async (href) => {
      const url = new URL(href)
      await expect(openBrowser(url, { command: undefined, env: {} })).rejects.toMatchObject({
        code: 'unsafe_authorization_endpoint',
        exitCode: 4,
        message: `refusing to open a ${url.protocol} URL`,
      })
      await expect(
        openBrowser(url, { command: [process.execPath], env: {} }),
      ).rejects.toMatchObject({ code: 'unsafe_authorization_endpoint' })
      expect(open).not.toHaveBeenCalled()
    },
  )

  it('hands the URL to the system browser (open) when there is no --browser command', async () => {
    const url = new URL('https://tenant.example.com/authorize?client_id=app&state=abc')
    await openBrowser(url, { command: undefined, env: { CLIENT_SECRET: 'x' } })
    expect(open).toHaveBeenCalledTimes(1)
    expect(open).toHaveBeenCalledWith(url.href)
  })

  /** Runs `node -e <record>` as the --browser command; it writes what it got to a file. */
  async function runRecorder(
    url: URL,
    env: Record<string, string | undefined>,
  ): Promise<{ argv: string[]; env: string[] }> {
    const out = join(dir, 'seen.json')
    const record =
      "const fs = require('node:fs');" +
      'const [file, ...rest] = process.argv.slice(1);' +
      "fs.writeFileSync(file + '.tmp', JSON.stringify({ argv: rest, env: Object.keys(process.env).sort() }));" +
      "fs.renameSync(file + '.tmp', file)"
    await openBrowser(url, { command: [process.execPath, '-e', record, out], env })
    for (let waited = 0; !existsSync(out) && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return JSON.parse(readFileSync(out, 'utf8')) as { argv: string[]; env: string[] }
  }

  it('AR-2: runs the --browser command without a shell, the URL its last argument, verbatim', async () => {
    const canary = join(dir, 'CANARY')
    const url = new URL(
      `https://as.test/a"&calc&"?x=$(touch\${IFS}${canary});touch\${IFS}${canary}&y=|id`,
    )
    const seen = await runRecorder(url, { PATH: process.env.PATH })
    expect(seen.argv).toEqual([url.href])
    expect(url.href).toContain('$(touch${IFS}') // still there for a shell to expand
    expect(existsSync(canary)).toBe(false)
  })

  it('AR-4: the --browser command gets no credential-like variables', async () => {
    const seen = await runRecorder(new URL('https://as.test/authorize'), {
      PATH: process.env.PATH,
      HOME: '/home/user',
      LANG: 'C.UTF-8',
      DISPLAY: ':0',
      CLIENT_SECRET: 'x',
      GITHUB_TOKEN: 'x',
      npm_config__authToken: 'x',
      DB_PASSWORD: 'x',
      FTP_PASSWD: 'x',
      GOOGLE_APPLICATION_CREDENTIALS: 'x',
      PKCE_PRIVATE_KEY: 'x',
      OPENAI_API_KEY: 'x',
      STRIPE_APIKEY: 'x',
      UNSET: undefined,
    })
    expect(seen.env).toEqual(['DISPLAY', 'HOME', 'LANG', 'PATH'])
  })

  it('rejects with the spawn error when the command does not exist', async () => {
    await expect(
      openBrowser(new URL('https://as.test/'), {
        command: [join(dir, 'no-such-browser')],
        env: { PATH: process.env.PATH },
      }),
    ).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
