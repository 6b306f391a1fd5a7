import { Agent, request } from 'undici'
import type { Dispatcher } from 'undici'
import { isLoopbackHost } from '../oauth/endpoint.js'
import { DEFAULT_USERNAME } from './config.js'

export interface DriveOptions {
  /** Typed into the login form. Default `user@sandbox.test`. */
  username?: string
  /** Typed into the login form; the sandbox takes any non-empty one. Default `sandbox`. */
  password?: string
  /** The button pressed on the consent page. Default `accept`. */
  consent?: 'accept' | 'deny'
  /** PEM CA certificate to trust for an HTTPS sandbox. */
  ca?: string
  /** Requests made before giving up, the callback included. Default 20. */
  maxHops?: number
  /**
   * Stop at the redirect to the callback and return its URL without calling it, as a browser on
   * another machine would leave it in its address bar (the split flow: `authorize`, `exchange`).
   */
  stopAtCallback?: boolean
  signal?: AbortSignal
}

export interface CallbackResult {
  /** The loopback callback URL the authorization server redirected to, query included. */
  callbackUrl: string
  /** Status and body of the callback request itself (0 and empty with `stopAtCallback`). */
  status: number
  body: string
  /**
   * With response_mode=form_post: the fields the server's auto-submitting page posts to the
   * callback (posted as a browser would, or only returned with `stopAtCallback`).
   */
  form?: Record<string, string>
}

const BODY_LIMIT = 1024 * 1024
const USER_AGENT = 'pkce-sandbox-agent'

interface Step {
  url: URL
  method: 'GET' | 'POST'
  form?: URLSearchParams
}

/**
 * Plays the browser through a sandbox authorization: follows redirects with a cookie jar, fills
 * the login and consent forms, and calls the loopback callback the server redirects to.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2 (the authorization response)
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3 (loopback redirect URIs)
 */
export async function driveAuthorization(
  authorizationUrl: string,
  opts: DriveOptions = {},
): Promise<CallbackResult> {
  const maxHops = opts.maxHops ?? 20
  const dispatcher = opts.ca === undefined ? undefined : new Agent({ connect: { ca: opts.ca } })
  const send = (step: Step, headers: Record<string, string> = {}) =>
    fetchStep(step, headers, dispatcher, opts.signal)
  const jar = new CookieJar()
  const authorizationServer = new URL(authorizationUrl).origin
  let step: Step = { url: new URL(authorizationUrl), method: 'GET' }
  let loginSubmitted = false

  try {
    for (let hop = 1; hop <= maxHops; hop++) {
      if (step.url.origin !== authorizationServer) {
        assertLoopbackCallback(step.url)
        const form = step.form === undefined ? {} : { form: Object.fromEntries(step.form) }
        if (opts.stopAtCallback === true)
          return { callbackUrl: step.url.href, status: 0, body: '', ...form }
        // A browser posting a form sends its origin: the server's (OAuth 2.0 Form Post §2).
        const headers: Record<string, string> =
          step.method === 'POST' ? { origin: authorizationServer } : {}
        const response = await send(step, headers).catch((cause: unknown) => {
          throw new Error(`could not call the callback ${describe(step.url)}`, { cause })
        })
        return { callbackUrl: step.url.href, status: response.status, body: response.body, ...form }
      }

      const cookie = jar.header(step.url)
      const response = await send(step, cookie === undefined ? {} : { cookie }).catch(
        (cause: unknown) => {
          throw new Error(`could not reach the authorization server at ${describe(step.url)}`, {
            cause,
          })
        },
      )
      jar.store(step.url, response.setCookie)

      if (response.status >= 300 && response.status < 400) {
        if (response.location === undefined) {
          throw new Error(`${describe(step.url)} answered ${response.status} without a Location`)
        }
        const keepMethod = response.status === 307 || response.status === 308
        step = keepMethod
          ? { ...step, url: new URL(response.location, step.url) }
          : { url: new URL(response.location, step.url), method: 'GET' }
        continue
      }

      const posted = formPostResponse(response.body, step.url)
      if (posted !== undefined) {
        // OAuth 2.0 Form Post Response Mode §2: the page's script would submit this form.
        assertLoopbackCallback(posted.url)
        step = { url: posted.url, method: 'POST', form: posted.form }
        continue
      }
      const form = sandboxForm(response.body)
      if (form?.kind === 'login') {
        if (loginSubmitted) {
          const alert = /<p class="error" role="alert">([^<]*)<\/p>/.exec(response.body)?.[1]
          throw new Error(
            `the sandbox rejected the login: ${decodeEntities(alert ?? 'no reason given')}`,
          )
        }
        loginSubmitted = true
        step = {
          url: formTarget(form.action, step.url, authorizationServer),
          method: 'POST',
          form: new URLSearchParams({
            username: opts.username ?? DEFAULT_USERNAME,
            password: opts.password ?? 'sandbox',
          }),
        }
      } else if (form?.kind === 'consent') {
        step = {
          url: formTarget(form.action, step.url, authorizationServer),
          method: 'POST',
          form: new URLSearchParams({ action: opts.consent ?? 'accept' }),
        }
      } else {
        throw new Error(unexpectedPage(step.url, response))
      }
    }
    throw new Error(
      `no callback after ${maxHops} requests; the next would have gone to ${describe(step.url)}`,
    )
  } finally {
    await dispatcher?.close()
  }
}

interface FetchedPage {
  status: number
  contentType: string
  location: string | undefined
  setCookie: string[]
  body: string
}

async function fetchStep(
  step: Step,
  headers: Record<string, string>,
  dispatcher: Dispatcher | undefined,
  signal: AbortSignal | undefined,
): Promise<FetchedPage> {
  const response = await request(step.url, {
    method: step.method,
    headers: {
      accept: 'text/html',
      'user-agent': USER_AGENT,
      ...headers,
      ...(step.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(step.form ? { body: step.form.toString() } : {}),
    ...(dispatcher ? { dispatcher } : {}),
    ...(signal ? { signal } : {}),
  })
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length
    if (size > BODY_LIMIT) {
      response.body.destroy()
      throw new Error(`${describe(step.url)} sent more than ${BODY_LIMIT} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  const header = (name: string) => response.headers[name]
  const setCookie = header('set-cookie')
  const location = header('location')
  const contentType = header('content-type')
  return {
    status: response.statusCode,
    contentType: typeof contentType === 'string' ? contentType : '',
    location: typeof location === 'string' ? location : undefined,
    setCookie: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
    body: Buffer.concat(chunks).toString('utf8'),
  }
}

function assertLoopbackCallback(url: URL): void {
  if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) {
    throw new Error(
      `refusing to follow a redirect to ${url.origin}: it is neither the authorization server nor a loopback callback`,
    )
  }
}

// Credentials only go back to the server that served the form.
function formTarget(action: string, page: URL, authorizationServer: string): URL {
  const target = new URL(action, page)
  if (target.origin !== authorizationServer) {
    throw new Error(`refusing to submit a form to ${target.origin}, not the authorization server`)
  }
  return target
}

function sandboxForm(html: string): { kind: 'login' | 'consent'; action: string } | undefined {
  for (const [, attributes = ''] of html.matchAll(/<form\b([^>]*)>/gi)) {
    const kind = attribute(attributes, 'data-sandbox-form')
    const action = attribute(attributes, 'action')
    if ((kind === 'login' || kind === 'consent') && action !== undefined) return { kind, action }
  }
  return undefined
}

/**
 * The auto-submitting page of response_mode=form_post: one `method="post"` form whose hidden
 * inputs are the response.
 * @see https://openid.net/specs/oauth-v2-form-post-response-mode-1_0.html#FormPostResponseMode
 */
function formPostResponse(
  html: string,
  page: URL,
): { url: URL; form: URLSearchParams } | undefined {
  const match = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html)
  if (match === null) return undefined
  const [, attributes = '', inner = ''] = match
  if (attribute(attributes, 'method')?.toLowerCase() !== 'post') return undefined
  if (attribute(attributes, 'data-sandbox-form') !== undefined) return undefined
  const action = attribute(attributes, 'action')
  if (action === undefined) return undefined
  const form = new URLSearchParams()
  for (const [, input = ''] of inner.matchAll(/<input\b([^>]*)>/gi)) {
    const name = attribute(input, 'name')
    if (attribute(input, 'type') === 'hidden' && name !== undefined)
      form.append(name, attribute(input, 'value') ?? '')
  }
  return { url: new URL(action, page), form }
}

function unexpectedPage(url: URL, page: FetchedPage): string {
  const error = /data-sandbox-error="([^"]*)"/.exec(page.body)?.[1]
  if (error !== undefined) {
    const description = /<p data-sandbox-error-description="">([^<]*)<\/p>/.exec(page.body)?.[1]
    const reason = description === undefined ? '' : `: ${decodeEntities(description)}`
    return `the authorization server showed an error page (HTTP ${page.status}) at ${describe(url)}: ${decodeEntities(error)}${reason}`
  }
  return `unexpected response from ${describe(url)}: HTTP ${page.status} ${page.contentType || 'without a content type'}; expected a redirect or a sandbox login or consent page`
}

// Origin and path only: a query can carry state, a code or a request_uri.
function describe(url: URL): string {
  return `${url.origin}${url.pathname}`
}

function attribute(attributes: string, name: string): string | undefined {
  const value = new RegExp(`(?:^|\\s)${name}="([^"]*)"`).exec(attributes)?.[1]
  return value === undefined ? undefined : decodeEntities(value)
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
  return text.replace(/&(?:#(\d+)|#x([\da-f]+)|(\w+));/gi, (entity, decimal, hex, name) => {
    if (decimal !== undefined) return String.fromCodePoint(Number(decimal))
    if (hex !== undefined) return String.fromCodePoint(parseInt(hex as string, 16))
    return named[name as string] ?? entity
  })
}

interface Cookie {
  name: string
  value: string
  path: string
  secure: boolean
  expiresAt: number | undefined
}

// RFC 6265 §5.3, enough of it for one origin's session and interaction cookies.
class CookieJar {
  readonly #cookies = new Map<string, Cookie>()

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim())
      const separator = pair.indexOf('=')
      if (separator < 1) continue
      const cookie: Cookie = {
        name: pair.slice(0, separator),
        value: pair.slice(separator + 1),
        path: defaultPath(url),
        secure: false,
        expiresAt: undefined,
      }
      for (const attribute of attributes) {
        const [key = '', value = ''] = attribute.split('=', 2)
        switch (key.toLowerCase()) {
          case 'path':
            if (value.startsWith('/')) cookie.path = value
            break
          case 'secure':
            cookie.secure = true
            break
          case 'max-age':
            cookie.expiresAt = Date.now() + Number(value) * 1000
            break
          case 'expires':
            cookie.expiresAt ??= Date.parse(value)
            break
        }
      }
      const key = `${url.origin} ${cookie.path} ${cookie.name}`
      if (cookie.expiresAt !== undefined && !(cookie.expiresAt > Date.now()))
        this.#cookies.delete(key)
      else this.#cookies.set(key, cookie)
    }
  }

  header(url: URL): string | undefined {
    const now = Date.now()
    const matching = [...this.#cookies.entries()]
      .filter(([key, cookie]) => {
        if (!key.startsWith(`${url.origin} `)) return false
        if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) return false
        if (cookie.secure && url.protocol !== 'https:') return false
        return pathMatches(url.pathname, cookie.path)
      })
      .map(([, cookie]) => cookie)
      .sort((a, b) => b.path.length - a.path.length)
    return matching.length === 0
      ? undefined
      : matching.map((c) => `${c.name}=${c.value}`).join('; ')
  }
}

// RFC 6265 §5.1.4
function defaultPath(url: URL): string {
  const slash = url.pathname.lastIndexOf('/')
  return slash <= 0 ? '/' : url.pathname.slice(0, slash)
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}
