import { spawn } from 'node:child_process'
import { CliError } from '../errors.js'

/**
 * Splits a `--browser` command line into argv without a shell: whitespace separates words, single
 * or double quotes group them. No expansion of any kind happens (security.md AR-2).
 */
export function splitCommand(command: string): string[] {
  const words: string[] = []
  let current: string | undefined
  let quote: string | undefined
  for (const char of command) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined
      else current = (current ?? '') + char
    } else if (char === '"' || char === "'") {
      quote = char
      current ??= ''
    } else if (/\s/u.test(char)) {
      if (current !== undefined) words.push(current)
      current = undefined
    } else {
      current = (current ?? '') + char
    }
  }
  if (quote !== undefined)
    throw new CliError('usage_error', `unbalanced ${quote} in the browser command`)
  if (current !== undefined) words.push(current)
  if (words.length === 0) throw new CliError('usage_error', 'the browser command is empty')
  return words
}

// security.md AR-4: the browser does not need our credentials.
const CREDENTIAL_VARIABLE = /SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_?KEY/iu

export interface OpenBrowserOptions {
  command: readonly string[] | undefined
  env: Readonly<Record<string, string | undefined>>
}

/**
 * Starts the system browser on the URL (`open`), or the user's command with the URL as its last
 * argument, never through a shell. Only `http:`/`https:` URLs are ever handed over (AR-2).
 */
export async function openBrowser(url: URL, options: OpenBrowserOptions): Promise<void> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CliError('unsafe_authorization_endpoint', `refusing to open a ${url.protocol} URL`)
  }
  if (options.command === undefined) {
    const { default: open } = await import('open')
    await open(url.href)
    return
  }
  const [file, ...args] = options.command
  const env = Object.fromEntries(
    Object.entries(options.env).filter(([name]) => !CREDENTIAL_VARIABLE.test(name)),
  )
  await new Promise<void>((resolve, reject) => {
    const child = spawn(file ?? '', [...args, url.href], {
      shell: false,
      stdio: 'ignore',
      env,
      detached: true,
    })
    child.once('error', reject)
    child.once('spawn', () => {
      child.unref()
      resolve()
    })
  })
}
