import { describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_IDS } from '../../src/sandbox/config.js'
import { postForm, spyOnConsole, tokenEndpoint, withSandbox } from './helpers.js'

const consoleSpies = spyOnConsole()

describe('the provider configuration', () => {
  const sandbox = withSandbox()

  /** A cross-origin token request with a made-up code: CORS is decided before the code is. */
  const tokenRequestFrom = (origin: string) =>
    postForm(
      tokenEndpoint(sandbox),
      {
        grant_type: 'authorization_code',
        code: 'made-up',
        redirect_uri: 'http://127.0.0.1:8484/callback',
        client_id: DEFAULT_CLIENT_IDS.public,
        code_verifier: 'v'.repeat(43),
      },
      { origin },
    )

  it.each([
    'http://127.0.0.1:3000',
    'http://localhost:3000',
    'http://[::1]:3000',
    'http://127.0.0.2:3000',
  ])('lets a page on the loopback origin %s call the token endpoint', async (origin) => {
    const response = await tokenRequestFrom(origin)
    expect(response.headers.get('access-control-allow-origin')).toBe(origin)
    expect(response.status).toBe(400)
    expect(response.body).toStrictEqual({
      error: 'invalid_grant',
      error_description: 'grant request is invalid',
    })
  })

  it.each(['https://app.example', 'http://10.0.0.1:3000', 'null'])(
    'refuses the origin %s',
    async (origin) => {
      const response = await tokenRequestFrom(origin)
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
      expect(response.status).toBe(400)
      expect(response.body).toStrictEqual({
        error: 'invalid_request',
        error_description: `origin ${origin} not allowed for client: ${DEFAULT_CLIENT_IDS.public}`,
      })
    },
  )
})

it('printed nothing to the console', () => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
})
