import { access, constants, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import type { BrowserContext } from 'playwright-core'
import type * as PlaywrightCore from 'playwright-core'
import { CliError } from '../errors.js'

// The system's Chromium driven by playwright-core (issue 17). Nothing is downloaded: a browser is
// found, or the run stops with how to install one.

const PATH_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']

const USUAL_LOCATIONS: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/snap/bin/chromium',
    '/opt/google/chrome/chrome',
  ],
  darwin: [
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  ],
}

const INSTALL_HINT =
  'install Chromium (Debian and Ubuntu: sudo apt-get install -y chromium; macOS: brew install --cask chromium), or pass --chromium <path> or set PKCE_CHROMIUM'

export interface FindChromiumInput {
  /** `--chromium <path>`: used as given, never searched for. */
  given: string | undefined
  env: Readonly<Record<string, string | undefined>>
  platform: NodeJS.Platform
  /** Whether a file exists and is executable; injectable for tests. */
  isExecutable?: (path: string) => Promise<boolean>
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The Chromium to drive: `--chromium`, else `$PKCE_CHROMIUM`, else the first of `chromium`,
 * `chromium-browser`, `google-chrome` on `PATH`, else the usual Linux and macOS locations.
 */
export async function findChromium(input: FindChromiumInput): Promise<string> {
  const isExecutable = input.isExecutable ?? executable
  const explicit =
    input.given ?? (input.env.PKCE_CHROMIUM === '' ? undefined : input.env.PKCE_CHROMIUM)
  if (explicit !== undefined) {
    if (await isExecutable(explicit)) return explicit
    throw new CliError('browser_not_found', `no executable Chromium at ${explicit}`, {
      hint: INSTALL_HINT,
    })
  }
  const dirs = (input.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '')
  for (const name of PATH_NAMES) {
    for (const dir of dirs) {
      const candidate = join(dir, name)
      if (await isExecutable(candidate)) return candidate
    }
  }
  for (const candidate of USUAL_LOCATIONS[input.platform] ?? []) {
    if (await isExecutable(candidate)) return candidate
  }
  throw new CliError(
    'browser_not_found',
    `login --headless needs Chromium, and none was found on PATH (${PATH_NAMES.join(', ')}) or in the usual places`,
    { hint: INSTALL_HINT },
  )
}

/**
 * The flags a sandboxed CI runner needs. Chromium's own sandbox cannot start as root, so
 * `--no-sandbox` is added then and only then (docs/security.md FS-5).
 */
export function chromiumArgs(uid: number | undefined): string[] {
  return [
    '--headless',
    ...(uid === 0 ? ['--no-sandbox'] : []),
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ]
}

export interface HeadlessBrowser {
  context: BrowserContext
  /** Closes Chromium and deletes its profile. */
  close(): Promise<void>
}

/**
 * Starts Chromium with a fresh profile in a private (0700) temporary directory, deleted by
 * `close()` (FS-5). playwright-core is loaded here only.
 */
export async function launchChromium(
  executablePath: string,
  uid: number | undefined,
  timeoutMs: number,
  extraArgs: string[] = [],
): Promise<HeadlessBrowser> {
  let playwright: typeof PlaywrightCore
  try {
    playwright = await import('playwright-core')
  } catch (cause) {
    throw new CliError('browser_not_found', 'login --headless needs the package playwright-core', {
      hint: 'it is an optional dependency of pkce: npm install playwright-core (no browser download)',
      cause,
    })
  }
  const profile = await mkdtemp(join(tmpdir(), 'pkce-chromium-'))
  let context: BrowserContext
  try {
    context = await playwright.chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      chromiumSandbox: uid !== 0,
      args: [...chromiumArgs(uid), ...extraArgs],
      timeout: timeoutMs,
      // Playwright's own handlers would keep the process alive; pkce handles its signals itself.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      viewport: { width: 800, height: 720 },
      acceptDownloads: false,
    })
  } catch (cause) {
    await rm(profile, { recursive: true, force: true })
    throw new CliError(
      'browser_not_found',
      `Chromium at ${executablePath} did not start: ${firstLine(cause)}`,
      { hint: INSTALL_HINT, cause },
    )
  }
  return {
    context,
    async close() {
      try {
        await context.close()
      } finally {
        await rm(profile, { recursive: true, force: true })
      }
    },
  }
}

/**
 * Chromium trusts only the system's CAs. For a server whose certificate comes from `--ca-file` or
 * `NODE_EXTRA_CA_CERTS` (the sandbox's throw-away CA), Node verifies the chain against that CA
 * first (name included); the verified leaf's public key is then pinned for Chromium with
 * `--ignore-certificate-errors-spki-list`, so nothing unverified is ever accepted.
 */
export async function pinVerifiedCertificate(
  origin: URL,
  ca: string,
  timeoutMs: number,
): Promise<string> {
  const { connect, rootCertificates } = await import('node:tls')
  const { createHash } = await import('node:crypto')
  const { isIP } = await import('node:net')
  const { bareHost } = await import('../oauth/endpoint.js')
  const host = bareHost(origin.hostname)
  return new Promise<string>((resolve, reject) => {
    const socket = connect({
      host,
      port: Number(origin.port || 443),
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ca: [...rootCertificates, ca],
      rejectUnauthorized: true,
      timeout: timeoutMs,
    })
    socket.once('secureConnect', () => {
      const spki = socket
        .getPeerX509Certificate()
        ?.publicKey.export({ type: 'spki', format: 'der' })
      socket.destroy()
      if (spki === undefined) reject(new Error(`${origin.origin} sent no certificate`))
      else resolve(createHash('sha256').update(spki).digest('base64'))
    })
    socket.once('timeout', () => {
      socket.destroy()
      reject(new Error(`${origin.origin} did not answer within ${timeoutMs / 1000}s`))
    })
    socket.once('error', reject)
  })
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.split('\n')[0] ?? text
}
