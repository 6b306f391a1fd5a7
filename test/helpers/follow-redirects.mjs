#!/usr/bin/env node
// A "browser" for `pkce login --browser "node test/helpers/follow-redirects.mjs"`: GETs the URL
// (the last argument), follows redirects by hand until one points at the loopback callback (the
// authorization request's redirect_uri), GETs that, and exits.
//
// HOSTILE_BROWSER_LOG names a file that gets one JSON line per run with our argv, so a test can
// tell whether the browser ran at all and with which arguments (security.md AR-2), and one line
// with the status, headers and body of the page the loopback listener answered (LL-7), and a last
// line once it is done.
import { appendFileSync } from 'node:fs'
import { fetch } from 'undici'

const MAX_HOPS = 10
// The CLI starts browsers detached: this one must never outlive the test run.
// eslint-disable-next-line no-restricted-properties -- a hung fetch must not keep us alive
setTimeout(() => process.exit(3), 20_000).unref()

const log = process.env.HOSTILE_BROWSER_LOG
const record = (entry) => {
  if (log !== undefined && log !== '') appendFileSync(log, `${JSON.stringify(entry)}\n`)
}
record({ argv: process.argv.slice(2) })

async function get(url) {
  const response = await fetch(url, { redirect: 'manual' })
  return { status: response.status, headers: response.headers, body: await response.text() }
}

async function run(start) {
  const redirectUri = start.searchParams.get('redirect_uri')
  const callback = redirectUri === null ? undefined : new URL(redirectUri)
  const isCallback = (url) =>
    ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) &&
    (callback === undefined
      ? url.pathname === '/callback'
      : url.origin === callback.origin && url.pathname === callback.pathname)
  let current = start
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const response = await get(current)
    const location = response.headers.get('location')
    if (response.status < 300 || response.status >= 400 || location === null) return 0
    current = new URL(location, current)
    if (isCallback(current)) {
      const page = await get(current)
      record({
        page: {
          status: page.status,
          headers: Object.fromEntries(page.headers),
          body: page.body,
        },
      })
      return 0
    }
  }
  return 2
}

try {
  process.exitCode = await run(new URL(process.argv.at(-1) ?? ''))
} catch {
  // The CLI may have closed its listener already (a refused flow): nothing left to do.
  process.exitCode = 1
} finally {
  // The CLI can exit before this line: the test waits for it before reading the log.
  record({ done: true })
}
