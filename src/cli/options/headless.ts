import { Option } from 'commander'
import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { HeadlessOptions } from '../../commands/headless.js'
import { integer, withDefault } from './values.js'

// `login --headless` (issue 17): a real headless Chromium signs in as a test user, for CI.

const DEFAULT_STEP_TIMEOUT_SECONDS = 30

export interface RawHeadlessOptions {
  headless?: boolean
  chromium?: string
  username?: string
  passwordFile?: string
  denyConsent?: boolean
  loginScript?: string
  screenshotDir?: string
  stepTimeout?: number
}

export function addHeadlessOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--headless',
        'sign in with the system Chromium, headless, as --username (for CI; needs playwright-core)',
      ).conflicts(['browser', 'paste', 'remote']),
    )
    .option('--chromium <path>', 'the Chromium to drive (default: $PKCE_CHROMIUM, then PATH)')
    .option('--username <name>', 'with --headless: the test user to type into the login page')
    .option(
      '--password-file <path>',
      "with --headless: a file holding the user's password (- for stdin)",
    )
    .option('--deny-consent', 'with --headless: press Deny on the consent page (negative tests)')
    .option(
      '--login-script <file>',
      'with --headless: a module whose default export (async (page) => …) signs in on a custom page',
    )
    .option(
      '--screenshot-dir <dir>',
      'with --headless: save a PNG of each page (0600), always one on failure',
    )
    .addOption(
      new Option(
        '--step-timeout <seconds>',
        withDefault('with --headless: how long each page may take', DEFAULT_STEP_TIMEOUT_SECONDS),
      ).argParser(integer(1, 3600)),
    )
}

/** The headless settings, the password read (and added to the redactor) before any request. */
export async function toHeadlessOptions(
  raw: RawHeadlessOptions,
  ctx: Ctx,
): Promise<HeadlessOptions | undefined> {
  if (raw.headless !== true) {
    const given = (
      [
        ['chromium', '--chromium'],
        ['username', '--username'],
        ['passwordFile', '--password-file'],
        ['denyConsent', '--deny-consent'],
        ['loginScript', '--login-script'],
        ['screenshotDir', '--screenshot-dir'],
        ['stepTimeout', '--step-timeout'],
      ] as const
    ).find(([key]) => raw[key] !== undefined)
    if (given !== undefined) {
      throw new CliError('usage_error', `${given[1]} works only with --headless`, {
        hint: 'add --headless to sign in with a headless Chromium',
      })
    }
    return undefined
  }
  const { readSecret } = await import('../../commands/inputs.js')
  return {
    chromium: raw.chromium,
    username: raw.username,
    password:
      raw.passwordFile === undefined
        ? undefined
        : await readSecret(raw.passwordFile, 'the password', ctx),
    consent: raw.denyConsent === true ? 'deny' : 'accept',
    loginScript: raw.loginScript,
    screenshotDir: raw.screenshotDir,
    stepTimeoutMs: (raw.stepTimeout ?? DEFAULT_STEP_TIMEOUT_SECONDS) * 1000,
  }
}
