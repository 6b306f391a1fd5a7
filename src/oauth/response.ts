import { CliError } from '../errors.js'
import type { ErrorCode, OAuthErrorFields, Stage } from '../errors.js'
import { excerpt, maskJsonMembers } from '../sanitize.js'

/** `application/json` or `application/<name>+json`, any case, parameters allowed (security.md D-3). */
export function isJsonContentType(contentType: string | null): boolean {
  if (contentType === null) return false
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? ''
  return mediaType === 'application/json' || /^application\/[^/]+\+json$/u.test(mediaType)
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * What a non-conforming body looked like: status, content type, a short sanitised excerpt with
 * secrets hidden and tokens abbreviated.
 */
export function describeBody(response: Response, text: string): string {
  const type = excerpt(response.headers.get('content-type') ?? 'no content type', 100)
  // security.md D-3: the size given is the whole body's, not that of its masked copy.
  const shown =
    text.trim() === ''
      ? 'an empty body'
      : `body: ${excerpt(maskJsonMembers(text), 200, text.length)}`
  return `HTTP ${response.status}, ${type}, ${shown}`
}

/** A 3xx is reported, never followed (security.md HC-3, TR-4). */
export function rejectRedirect(response: Response, stage: Stage, what: string): void {
  if (response.status < 300 || response.status >= 400) return
  const location = response.headers.get('location')
  throw new CliError(
    'unexpected_redirect',
    `the ${what} answered HTTP ${response.status} redirecting to ${location === null ? '(no Location)' : excerpt(location)}; redirects are not followed`,
    {
      stage,
      status: response.status,
      hint: 'a redirect here would resend the request body; check the endpoint in the metadata',
    },
  )
}

/**
 * Parses a JSON object body. Content type and shape failures use `code`; the message carries
 * status, content type and an excerpt, never the whole body.
 */
export async function readJsonObject(
  response: Response,
  init: { stage: Stage; what: string; code: ErrorCode },
): Promise<Record<string, unknown>> {
  const text = await response.text()
  if (!isJsonContentType(response.headers.get('content-type'))) {
    throw new CliError(
      init.code,
      `the ${init.what} is not JSON (${describeBody(response, text)})`,
      { stage: init.stage, status: response.status },
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new CliError(
      init.code,
      `the ${init.what} is not valid JSON (${describeBody(response, text)})`,
      { stage: init.stage, status: response.status },
    )
  }
  if (!isPlainObject(parsed)) {
    throw new CliError(
      init.code,
      `the ${init.what} is not a JSON object (${describeBody(response, text)})`,
      { stage: init.stage, status: response.status },
    )
  }
  return parsed
}

/** The RFC 6749 §5.2 error members, when `body.error` is a string. */
export function oauthErrorFields(body: Record<string, unknown>): OAuthErrorFields | undefined {
  if (typeof body.error !== 'string' || body.error === '') return undefined
  const fields: OAuthErrorFields = { error: body.error }
  if (typeof body.error_description === 'string') fields.error_description = body.error_description
  if (typeof body.error_uri === 'string') fields.error_uri = body.error_uri
  return fields
}

/** "invalid_grant: Invalid authorization code", sanitised. */
export function describeOAuthError(fields: OAuthErrorFields): string {
  const description =
    fields.error_description === undefined ? '' : `: ${excerpt(fields.error_description, 500)}`
  return `${excerpt(fields.error, 100)}${description}`
}
