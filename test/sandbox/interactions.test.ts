import { request } from 'undici'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { interactionRoute, interactionUrl } from '../../src/sandbox/interactions.js'
import {
  authorizationUrl,
  codeFlowParams,
  createPkce,
  spyOnConsole,
  withSandbox,
} from './helpers.js'

const consoleSpies = spyOnConsole()

describe('interaction paths', () => {
  it('are Auth0 Universal Login’s /u/<prompt>/<uid>', () => {
    expect(interactionUrl('login', 'Ab-1_x')).toBe('/u/login/Ab-1_x')
    expect(interactionRoute('/u/login/Ab-1_x')).toStrictEqual({ prompt: 'login', uid: 'Ab-1_x' })
    expect(interactionRoute('/u/consent/x')).toStrictEqual({ prompt: 'consent', uid: 'x' })
  })

  it('match nothing else', () => {
    for (const path of ['/u/login/', '/u/signup/x', '/u/login/x/y', '/u/login/x.y', '/authorize'])
      expect(interactionRoute(path)).toBeUndefined()
  })
})

interface Page {
  status: number
  location: string | undefined
  contentType: string | undefined
  body: string
}

describe('the interaction pages', () => {
  const sandbox = withSandbox()

  /** A browser with a cookie jar of name=value pairs, enough for oidc-provider's cookies. */
  function browser() {
    const cookies = new Map<string, string>()
    return async (
      path: string,
      init: { method?: string; contentType?: string; body?: string } = {},
    ): Promise<Page> => {
      const response = await request(new URL(path, sandbox.url), {
        method: init.method ?? 'GET',
        headers: {
          cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
          ...(init.contentType === undefined ? {} : { 'content-type': init.contentType }),
        },
        ...(init.body === undefined ? {} : { body: init.body }),
      })
      const setCookie = response.headers['set-cookie'] ?? []
      for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
        const [pair = ''] = line.split(';')
        const separator = pair.indexOf('=')
        cookies.set(pair.slice(0, separator), pair.slice(separator + 1))
      }
      const location = response.headers.location
      const contentType = response.headers['content-type']
      return {
        status: response.statusCode,
        location: typeof location === 'string' ? location : undefined,
        contentType: typeof contentType === 'string' ? contentType : undefined,
        body: await response.body.text(),
      }
    }
  }

  /** Starts a login transaction: the browser and the path of its login page. */
  async function loginPage() {
    const go = browser()
    const params = codeFlowParams(
      DEFAULT_CLIENT_IDS.public,
      'http://127.0.0.1:8484/callback',
      createPkce(),
    )
    const started = await go(authorizationUrl(sandbox, params))
    expect(started.status).toBe(303)
    expect(started.location).toMatch(/^\/u\/login\/[\w-]+$/)
    return { go, login: started.location! }
  }

  function expectErrorPage(page: Page, status: number, description: string): void {
    expect(page.status).toBe(status)
    expect(page.contentType).toBe('text/html; charset=utf-8')
    expect(page.body).toContain('<h1 data-sandbox-error="invalid_request">invalid_request</h1>')
    expect(page.body).toContain(`<p data-sandbox-error-description="">${description}</p>`)
  }

  it('answer a method other than GET and POST with 405', async () => {
    const { go, login } = await loginPage()
    expectErrorPage(await go(login, { method: 'PUT' }), 405, 'PUT is not allowed here')
  })

  it('take forms only as application/x-www-form-urlencoded (415)', async () => {
    const { go, login } = await loginPage()
    const page = await go(login, {
      method: 'POST',
      contentType: 'text/plain',
      body: 'username=a&password=b',
    })
    expectErrorPage(page, 415, 'forms must be application/x-www-form-urlencoded')
  })

  it('refuse a form over 16 KiB (413)', async () => {
    const { go, login } = await loginPage()
    const page = await go(login, {
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded',
      body: `username=a&password=${'x'.repeat(16 * 1024)}`,
    })
    expectErrorPage(page, 413, 'the form is too large')
  })

  it("refuse the password wrong-password with Auth0 Universal Login's message (400)", async () => {
    const { go, login } = await loginPage()
    const page = await go(login, {
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded',
      body: 'username=ci-user&password=wrong-password',
    })
    expect(page.status).toBe(400)
    expect(page.body).toContain('<p class="error" role="alert">Wrong username or password</p>')
    expect(page.body).toContain('value="ci-user"')
  })

  it('refuse the consent page of a transaction that is at its login (400)', async () => {
    const { go, login } = await loginPage()
    const consent = login.replace('/u/login/', '/u/consent/')
    expectErrorPage(await go(consent), 400, 'this page belongs to another login transaction')
  })

  it('refuse a consent form that neither accepts nor denies (400)', async () => {
    const { go, login } = await loginPage()
    const signedIn = await go(login, {
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded',
      body: 'username=alice&password=x',
    })
    expect(signedIn.status).toBe(303)
    const resumed = await go(signedIn.location!)
    expect(resumed.status).toBe(303)
    expect(resumed.location).toMatch(/^\/u\/consent\/[\w-]+$/)
    const page = await go(resumed.location!, {
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded',
      body: 'action=maybe',
    })
    expectErrorPage(page, 400, 'the consent form needs action=accept or action=deny')
  })
})

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
