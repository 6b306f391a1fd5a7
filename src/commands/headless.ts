import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Page, Request } from 'playwright-core'
import type { Ctx } from '../context.js'
import { CliError, isCliError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import { sanitize } from '../sanitize.js'
import type { LoginOptions, LoginResult } from './login.js'

/** `login --headless`: who signs in, and how the browser is driven. */
export interface HeadlessOptions {
  chromium: string | undefined
  username: string | undefined
  password: string | undefined
  consent: 'accept' | 'deny'
  loginScript: string | undefined
  screenshotDir: string | undefined
  /** Each page must show something to do within this long (docs/security.md FS-5: never a hang). */
  stepTimeoutMs: number
}

/** What the page shows, read in one evaluation. */
export interface PageSnapshot {
  url: string
  title: string
  text: string
  username: boolean
  password: boolean
  consent: boolean
  alert: string
  challenge: 'mfa' | 'captcha' | null
}

/** What the driver does next with a page. */
export type PageAction =
  | { kind: 'classic' }
  | { kind: 'identifier' }
  | { kind: 'password' }
  | { kind: 'consent' }
  | { kind: 'fail'; code: ErrorCode; message: string }
  | { kind: 'wait' }

const TEXT_LIMIT = 600

// Runs in the page (a string, so that no DOM types reach the build). Visible fields only: Auth0's
// pages keep hidden inputs for the other step.
const SNAPSHOT = `(() => {
  const visible = (el) => !!el && el.offsetParent !== null && el.type !== 'hidden'
  const any = (selector) => [...document.querySelectorAll(selector)].some(visible)
  const text = (document.body ? document.body.innerText : '').trim()
  const alerts = [...document.querySelectorAll('[role=alert], .error, .ulp-input-error-message, #error-element-password, #error-element-username, [data-error-code]')]
    .filter(visible).map((el) => el.innerText.trim()).filter((t) => t !== '')
  const buttons = [...document.querySelectorAll('button, input[type=submit]')].filter(visible)
  const label = (b) => ((b.value || '') + ' ' + (b.innerText || '')).trim().toLowerCase()
  const consent = buttons.some((b) => /^(accept|allow|authorize)\\b/.test(label(b)) || b.value === 'accept')
    && buttons.some((b) => /\\b(deny|decline|cancel)\\b/.test(label(b)))
  const mfa = any('input[autocomplete=one-time-code], input[name=otp], input[name=code], input[name=totp]')
    || /verification code|one-time (pass)?code|authenticator app|multi-factor|two-factor|2fa/i.test(text)
  const captcha = any('iframe[src*=captcha], iframe[src*=turnstile], [class*=captcha], [id*=captcha], input[name=captcha]')
    || /captcha|verify you are human|i'm not a robot/i.test(text)
  return {
    url: location.href,
    title: document.title,
    text: text.slice(0, ${TEXT_LIMIT * 2}),
    username: any('input[name=username], input[name=email], input[type=email], input[autocomplete=username], input[name=identifier], input[id=username]'),
    password: any('input[type=password]'),
    consent,
    alert: alerts.join(' '),
    challenge: captcha ? 'captcha' : mfa ? 'mfa' : null,
  }
})()`

/** One line of a page's text for an error message: control characters escaped, whitespace folded. */
export function pageText(text: string): string {
  const folded = sanitize(text.replace(/\s+/gu, ' ').trim())
  return folded.length > TEXT_LIMIT ? `${folded.slice(0, TEXT_LIMIT)}…` : folded
}

/**
 * Decides what to do with a page, given what has been submitted already. A form the driver has
 * filled coming back means the server refused it.
 */
export function classifyPage(
  page: PageSnapshot,
  status: number,
  done: ReadonlySet<'identifier' | 'password' | 'consent'>,
): PageAction {
  const where = `${page.title === '' ? page.url.split('?')[0] : page.title}`
  const shown = pageText(page.alert === '' ? page.text : page.alert)
  if (page.challenge !== null) {
    return {
      kind: 'fail',
      code: 'login_challenge',
      message: `the login asks for ${page.challenge === 'mfa' ? 'a multi-factor code' : 'a CAPTCHA'}, which a headless login cannot answer (${where}): ${pageText(page.text)}`,
    }
  }
  if (page.password && done.has('password')) {
    return {
      kind: 'fail',
      code: 'login_rejected',
      message: `the login page refused the username or password: ${shown || 'the password page came back'}`,
    }
  }
  if (page.password) return { kind: page.username ? 'classic' : 'password' }
  if (page.username) {
    if (done.has('identifier')) {
      return {
        kind: 'fail',
        code: 'login_rejected',
        message: `the login page refused the username: ${shown || 'the username page came back'}`,
      }
    }
    return { kind: 'identifier' }
  }
  if (page.consent) {
    if (done.has('consent')) {
      return {
        kind: 'fail',
        code: 'login_page_unrecognised',
        message: 'the consent page came back after it was answered',
      }
    }
    return { kind: 'consent' }
  }
  if (status >= 400) {
    return {
      kind: 'fail',
      code: 'login_page_error',
      message: `the authorization server showed an error page (HTTP ${status}) instead of redirecting: ${pageText(page.text)}`,
    }
  }
  return { kind: 'wait' }
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  login_rejected: 'check --username and the password in --password-file',
  login_page_error:
    "if it says the callback URL does not match, add the redirect URI to the application's Allowed Callback URLs, exactly",
  login_challenge:
    'turn MFA and bot detection off for the test user, or drive it with --login-script',
  login_page_unrecognised:
    'pass --login-script <file> for a custom login page; --screenshot-dir shows what the browser saw',
}

function failure(code: ErrorCode, message: string, cause?: unknown): CliError {
  return new CliError(code, message, { stage: 'authorize', hint: HINTS[code], cause })
}

/** A user's `--login-script`: its default (or `login`) export, called with the page. */
type LoginScript = (
  page: Page,
  user: { username: string | undefined; password: string | undefined },
) => Promise<void>

async function loadLoginScript(file: string): Promise<LoginScript> {
  let module: { default?: unknown; login?: unknown }
  try {
    module = (await import(pathToFileURL(resolve(file)).href)) as typeof module
  } catch (cause) {
    throw new CliError('usage_error', `cannot load the login script ${file}: ${String(cause)}`, {
      cause,
    })
  }
  const fn = typeof module.default === 'function' ? module.default : module.login
  if (typeof fn !== 'function') {
    throw new CliError(
      'usage_error',
      `the login script ${file} exports no function (export default async function (page) { … })`,
    )
  }
  return fn as LoginScript
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

const delay = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms))

/** Drives one page through login and consent to the callback; resolves with the callback page's text. */
class Driver {
  readonly #page: Page
  readonly #opts: HeadlessOptions
  readonly #callback: URL
  readonly #ctx: Ctx
  #shots = 0
  #status = 200
  #navigations = 0
  #callbackRequest: Request | undefined
  readonly #done = new Set<'identifier' | 'password' | 'consent'>()

  constructor(page: Page, opts: HeadlessOptions, callback: URL, ctx: Ctx) {
    this.#page = page
    this.#opts = opts
    this.#callback = callback
    this.#ctx = ctx
    page.on('response', (response) => {
      if (response.frame() === page.mainFrame() && response.request().isNavigationRequest())
        this.#status = response.status()
    })
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.#navigations += 1
    })
    page.on('request', (request) => {
      if (request.isNavigationRequest() && this.#isCallback(request.url()))
        this.#callbackRequest = request
    })
  }

  #isCallback(href: string): boolean {
    const url = new URL(href)
    // Port 0 (and a pushed request, whose URL has no redirect_uri) leave the port to the listener.
    const port = this.#callback.port === '0' || url.port === this.#callback.port
    return (
      url.protocol === this.#callback.protocol &&
      url.hostname === this.#callback.hostname &&
      port &&
      url.pathname === this.#callback.pathname
    )
  }

  async screenshot(name: string): Promise<void> {
    const dir = this.#opts.screenshotDir
    if (dir === undefined) return
    try {
      const png = await this.#page.screenshot({ timeout: 10_000 })
      this.#shots += 1
      const file = join(dir, `${String(this.#shots).padStart(2, '0')}-${name}.png`)
      // docs/security.md FS-5: screenshots show user data.
      await writeFile(file, png, { mode: 0o600, flag: 'wx' })
      this.#ctx.reporter.step(`headless: screenshot ${file}`)
    } catch (error) {
      this.#ctx.reporter.warn(
        'screenshot_failed',
        `could not save a screenshot: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      )
    }
  }

  async #snapshot(): Promise<PageSnapshot> {
    return this.#page.evaluate<PageSnapshot>(SNAPSHOT)
  }

  /** Until the callback: reads each page, acts on it, and waits for the next. */
  async run(url: URL, callbackTimeoutMs: number): Promise<string> {
    const step = this.#opts.stepTimeoutMs
    await this.#page.goto(url.href, { timeout: step, waitUntil: 'commit' }).catch((cause) => {
      if (this.#callbackRequest === undefined) {
        throw failure(
          'login_page_unrecognised',
          `could not load ${url.origin}${url.pathname}: ${String(cause).split('\n')[0]}`,
          cause,
        )
      }
    })
    if (this.#opts.loginScript !== undefined) {
      const script = await loadLoginScript(this.#opts.loginScript)
      await this.#settle(step)
      await this.screenshot('login-script')
      await withTimeout(
        script(this.#page, { username: this.#opts.username, password: this.#opts.password }),
        step,
        () =>
          failure(
            'login_page_unrecognised',
            `the login script did not finish within ${step / 1000}s`,
          ),
      ).catch((cause: unknown) => {
        if (isCliError(cause)) throw cause
        throw failure(
          'login_page_unrecognised',
          `the login script failed: ${sanitize(String(cause))}`,
          cause,
        )
      })
    }
    for (;;) {
      if (this.#callbackRequest !== undefined) return this.#finish(callbackTimeoutMs)
      await this.#settle(step)
      if (this.#callbackRequest !== undefined) return this.#finish(callbackTimeoutMs)
      const action = await this.#waitForAction(step)
      if (action.kind === 'fail') throw failure(action.code, action.message)
      await this.screenshot(action.kind)
      const before = this.#navigations
      await this.#act(action.kind)
      await this.#waitForNavigation(before, step)
    }
  }

  async #settle(timeoutMs: number): Promise<void> {
    await this.#page.waitForLoadState('load', { timeout: timeoutMs }).catch(() => undefined)
  }

  /** Polls the page until it shows a form or an error; a page that never does fails the step. */
  async #waitForAction(timeoutMs: number): Promise<Exclude<PageAction, { kind: 'wait' }>> {
    const deadline = Date.now() + timeoutMs
    let last: PageSnapshot | undefined
    for (;;) {
      if (this.#callbackRequest !== undefined) return { kind: 'consent' }
      try {
        last = await this.#snapshot()
        const action = classifyPage(last, this.#status, this.#done)
        if (action.kind !== 'wait') return action
      } catch {
        // The page navigated while it was read: read the new one.
      }
      if (Date.now() >= deadline) {
        const text = last === undefined ? '' : `: ${pageText(last.text) || 'the page is empty'}`
        return {
          kind: 'fail',
          code: 'login_page_unrecognised',
          message: `no login form, consent page or error appeared within ${Math.round(timeoutMs / 1000)}s at ${last?.url.split('?')[0] ?? 'the authorization URL'}${text}`,
        }
      }
      await delay(200)
    }
  }

  async #act(kind: 'classic' | 'identifier' | 'password' | 'consent'): Promise<void> {
    const page = this.#page
    const step = this.#opts.stepTimeoutMs
    const field = (selector: string) => page.locator(selector).filter({ visible: true }).first()
    const username =
      'input[name=username], input[name=email], input[type=email], input[autocomplete=username], input[name=identifier], input[id=username]'
    if (kind === 'consent') {
      const deny = this.#opts.consent === 'deny'
      const button = page
        .locator('button, input[type=submit]')
        .filter({ visible: true })
        .filter({ hasText: deny ? /deny|decline|cancel/iu : /accept|allow|authorize/iu })
        .first()
      const byValue = field(deny ? '[value=deny], [value=decline]' : '[value=accept]')
      this.#done.add('consent')
      this.#ctx.reporter.step(`headless: consent page: ${deny ? 'Deny' : 'Accept'}`)
      await ((await byValue.count()) > 0 ? byValue : button).click({ timeout: step })
      return
    }
    if (kind === 'classic' || kind === 'identifier') {
      await field(username).fill(this.#requireUsername(), { timeout: step })
    }
    if (kind === 'classic' || kind === 'password') {
      await field('input[type=password]').fill(this.#requirePassword(), { timeout: step })
      this.#done.add('password')
    }
    if (kind === 'identifier') this.#done.add('identifier')
    this.#ctx.reporter.step(
      `headless: ${kind === 'classic' ? 'login page: username and password' : kind === 'identifier' ? 'username page' : 'password page'}`,
    )
    await page.keyboard.press('Enter')
  }

  #requireUsername(): string {
    if (this.#opts.username === undefined) {
      throw new CliError(
        'usage_error',
        'the login page asks for a username: pass --username <name>',
      )
    }
    return this.#opts.username
  }

  #requirePassword(): string {
    if (this.#opts.password === undefined) {
      throw new CliError(
        'usage_error',
        'the login page asks for a password: pass --password-file <path> (- for stdin)',
      )
    }
    return this.#opts.password
  }

  async #waitForNavigation(before: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.#navigations === before && this.#callbackRequest === undefined) {
      if (Date.now() >= deadline) {
        // An in-page error (Auth0 shows some without a reload) is read on the next round.
        return
      }
      await delay(100)
    }
  }

  /** The callback page is answered once pkce has exchanged the code: waits for it, then reads it. */
  async #finish(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs
    while (!this.#isCallback(this.#page.url()) || this.#navigations === 0) {
      if (Date.now() >= deadline) return ''
      await delay(100)
    }
    await this.#settle(Math.max(1, deadline - Date.now()))
    await this.screenshot('callback')
    const snapshot = await this.#snapshot().catch(() => undefined)
    return pageText(snapshot?.text ?? '')
  }
}

/** Pins the issuer's certificate for Chromium when it chains to `--ca-file` or NODE_EXTRA_CA_CERTS. */
async function trustArgs(opts: LoginOptions, timeoutMs: number, ctx: Ctx): Promise<string[]> {
  const issuer = new URL(opts.target.issuer)
  if (issuer.protocol !== 'https:') return []
  let ca = opts.http.ca
  const extra = ctx.env.NODE_EXTRA_CA_CERTS
  if (ca === undefined && extra !== undefined && extra !== '') {
    const { readFile } = await import('node:fs/promises')
    ca = await readFile(extra, 'utf8').catch(() => undefined)
  }
  if (ca === undefined) return []
  const { pinVerifiedCertificate } = await import('../net/headless-browser.js')
  try {
    const hash = await pinVerifiedCertificate(issuer, ca, timeoutMs)
    ctx.reporter.step(
      `headless: Chromium trusts ${issuer.origin}'s certificate, verified against the extra CA`,
    )
    return [`--ignore-certificate-errors-spki-list=${hash}`]
  } catch {
    // Not from that CA (or unreachable): Chromium judges it by the system's CAs, as usual.
    return []
  }
}

/**
 * `pkce login --headless`: the login flow with the system's Chromium as the user's browser. The
 * test user signs in and answers the consent page; a page it cannot get past stops the run at
 * once with that page's text, instead of waiting for the callback's timeout.
 */
export async function runHeadlessLogin(
  opts: LoginOptions,
  headless: HeadlessOptions,
  ctx: Ctx,
): Promise<LoginResult> {
  const { findChromium, launchChromium } = await import('../net/headless-browser.js')
  const { runLogin } = await import('./login.js')
  const executable = await findChromium({
    given: headless.chromium,
    env: ctx.env,
    platform: ctx.platform,
  })
  if (headless.screenshotDir !== undefined)
    await mkdir(headless.screenshotDir, { recursive: true, mode: 0o700 })
  ctx.reporter.step(`headless: starting ${executable}`)
  const browser = await launchChromium(
    executable,
    ctx.uid,
    headless.stepTimeoutMs,
    await trustArgs(opts, headless.stepTimeoutMs, ctx),
  )
  const stop = new AbortController()
  let driverError: unknown
  let driving: Promise<string> | undefined
  let driver: Driver | undefined
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage())
    page.setDefaultTimeout(headless.stepTimeoutMs)
    const signal = AbortSignal.any([ctx.signal, stop.signal])
    const loginCtx: Ctx = { ...ctx, signal }
    const options: LoginOptions = {
      ...opts,
      listener: {
        ...opts.listener,
        browser: {
          kind: 'agent',
          open: (url) => {
            const callback = new URL(url.searchParams.get('redirect_uri') ?? opts.redirectUri.href)
            driver = new Driver(page, headless, callback, ctx)
            driving = driver.run(url, opts.listener.timeoutMs).catch((error: unknown) => {
              driverError = error
              stop.abort()
              return ''
            })
          },
        },
      },
    }
    let result: LoginResult
    try {
      result = await runLogin(options, loginCtx)
    } catch (error) {
      let text = ''
      if (driverError === undefined && driving !== undefined) {
        // The flow failed after the callback: its page says so; read (and shoot) it for the report.
        text = await withTimeout(driving, 5_000, () => new Error('timeout')).catch(() => '')
        if (text !== '') ctx.reporter.step(`headless: callback page: ${text}`)
      }
      if (text === '') await driver?.screenshot('failure')
      throw driverError ?? error
    }
    const text =
      driving === undefined
        ? ''
        : await withTimeout(driving, 10_000, () => new Error('timeout')).catch(() => '')
    if (text !== '') ctx.reporter.step(`headless: callback page: ${text}`)
    return result
  } finally {
    await browser.close()
  }
}
