import { createHash } from 'node:crypto'

/** A complete HTML response: the tenant writes it as is. */
export interface HtmlPage {
  status: number
  headers: Record<string, string>
  body: string
}

export interface LoginPageInput {
  /** Where the form posts: the interaction URL path. */
  action: string
  clientName: string
  /** The redirect URI of the authorization request, allowed as a `form-action` redirect target. */
  redirectUri?: string
  username?: string
  /** Shown above the form after a rejected attempt. */
  error?: string
  /**
   * Auth0 Universal Login's shapes: `classic` asks for both on one page; `identifier-first` asks
   * for the username (`identifier`), then on a second page for the password (`password`).
   */
  step?: 'classic' | 'identifier' | 'password'
}

export interface ConsentPageInput {
  action: string
  clientName: string
  username: string
  redirectUri?: string
  scopes: string[]
  audience?: string
  organization?: string
  authorizationDetails?: unknown
}

export interface ErrorPageInput {
  status: number
  error: string
  error_description?: string
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1e212a}' +
  'h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}' +
  'button{margin:1rem .5rem 0 0;padding:.5rem 1rem}.error{color:#b00020}pre{white-space:pre-wrap;background:#f4f4f6;padding:.5rem}'

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

/**
 * The sandbox login page: any username and any non-empty password sign in.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1 (the server authenticates the owner)
 */
export function loginPage(input: LoginPageInput): HtmlPage {
  const error =
    input.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(input.error)}</p>`
  const step = input.step ?? 'classic'
  const username = escapeHtml(input.username ?? '')
  // Every step is a `login` form to the scripted user: posting both fields from any step signs in.
  const usernameField =
    step === 'password'
      ? `<p>Signed in as <strong>${username}</strong></p>
<input type="hidden" name="username" value="${username}">`
      : `<label for="username">Username or email</label>
<input id="username" name="username" autocomplete="username" required value="${username}">`
  const passwordField =
    step === 'identifier'
      ? `<input type="hidden" name="step" value="identifier">`
      : `<label for="password">Password (any but wrong-password)</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>`
  return page({
    status: input.error === undefined ? 200 : 400,
    title: step === 'password' ? 'Enter your password' : 'Log in',
    redirectUri: input.redirectUri,
    main: `<h1>${step === 'password' ? 'Enter your password for' : 'Log in to continue to'} ${escapeHtml(input.clientName)}</h1>
${error}<form method="post" action="${escapeHtml(input.action)}" data-sandbox-form="login">
${usernameField}
${passwordField}
<button type="submit">Continue</button>
</form>`,
  })
}

/**
 * The sandbox consent page: Accept grants what was requested, Deny answers `access_denied`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1 (access_denied)
 */
export function consentPage(input: ConsentPageInput): HtmlPage {
  const scopes = input.scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('')
  const audience =
    input.audience === undefined ? '' : `<p>API: <code>${escapeHtml(input.audience)}</code></p>`
  const organization =
    input.organization === undefined
      ? ''
      : `<p>Organization: <strong>${escapeHtml(input.organization)}</strong></p>`
  const details =
    input.authorizationDetails === undefined
      ? ''
      : `<p>Authorization details:</p><pre>${escapeHtml(JSON.stringify(input.authorizationDetails, null, 2))}</pre>`
  return page({
    status: 200,
    title: 'Authorize',
    redirectUri: input.redirectUri,
    main: `<h1>${escapeHtml(input.clientName)} wants to access your account</h1>
<p>Signed in as <strong>${escapeHtml(input.username)}</strong></p>
${audience}${organization}<ul>${scopes}</ul>${details}
<form method="post" action="${escapeHtml(input.action)}" data-sandbox-form="consent">
<button type="submit" name="action" value="accept">Accept</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`,
  })
}

/**
 * An error the authorization server cannot send to the client's redirect URI.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1 (do not redirect to an invalid URI)
 */
export function errorPage(input: ErrorPageInput): HtmlPage {
  const description =
    input.error_description === undefined
      ? ''
      : `<p data-sandbox-error-description="">${escapeHtml(input.error_description)}</p>`
  return page({
    status: input.status,
    title: 'Error',
    main: `<h1 data-sandbox-error="${escapeHtml(input.error)}">${escapeHtml(input.error)}</h1>
${description}`,
  })
}

function page(parts: {
  status: number
  title: string
  main: string
  redirectUri?: string | undefined
}): HtmlPage {
  return {
    status: parts.status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': contentSecurityPolicy(parts.redirectUri),
    },
    body: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(parts.title)} · pkce sandbox</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${parts.main}
</main>
</body>
</html>
`,
  }
}

// CSP 3 §6.3.1 form-action also governs the redirects that follow a submission, and the last one
// lands on the client's loopback callback: allow that origin and nothing else. A host-source
// cannot name an IPv6 literal (CSP 3 §2.3.1), so an [::1] callback gets its scheme instead.
function contentSecurityPolicy(redirectUri: string | undefined): string {
  const callback =
    redirectUri !== undefined && URL.canParse(redirectUri) ? new URL(redirectUri) : undefined
  let formAction = `'self'`
  if (callback && (callback.protocol === 'http:' || callback.protocol === 'https:')) {
    formAction += callback.hostname.startsWith('[')
      ? ` ${callback.protocol}`
      : ` ${callback.origin}`
  }
  const styleHash = createHash('sha256').update(STYLE).digest('base64')
  return [
    `default-src 'none'`,
    `style-src 'sha256-${styleHash}'`,
    `form-action ${formAction}`,
    `frame-ancestors 'none'`,
    `base-uri 'none'`,
  ].join('; ')
}
