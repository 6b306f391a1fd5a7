import { describe, expect, it } from 'vitest'
import { chromiumArgs, findChromium } from '../../src/net/headless-browser.js'

const present = (paths: string[]) => (path: string) => Promise.resolve(paths.includes(path))

describe('findChromium()', () => {
  it('--chromium first, then $PKCE_CHROMIUM, used as given', async () => {
    const env = { PKCE_CHROMIUM: '/env/chrome', PATH: '/usr/bin' }
    const isExecutable = present(['/given/chrome', '/env/chrome', '/usr/bin/chromium'])
    expect(
      await findChromium({ given: '/given/chrome', env, platform: 'linux', isExecutable }),
    ).toBe('/given/chrome')
    expect(await findChromium({ given: undefined, env, platform: 'linux', isExecutable })).toBe(
      '/env/chrome',
    )
  })

  it('then chromium, chromium-browser, google-chrome on PATH, in that order', async () => {
    const env = { PATH: '/a:/b' }
    const isExecutable = present(['/a/google-chrome', '/b/chromium-browser'])
    expect(await findChromium({ given: undefined, env, platform: 'linux', isExecutable })).toBe(
      '/b/chromium-browser',
    )
  })

  it('then the usual macOS location', async () => {
    const app = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'
    expect(
      await findChromium({
        given: undefined,
        env: { PATH: '' },
        platform: 'darwin',
        isExecutable: present([app]),
      }),
    ).toBe(app)
  })

  it('none: browser_not_found (exit 2) saying how to install one; a named one missing too', async () => {
    await expect(
      findChromium({
        given: undefined,
        env: { PATH: '/a' },
        platform: 'linux',
        isExecutable: present([]),
      }),
    ).rejects.toMatchObject({
      code: 'browser_not_found',
      exitCode: 2,
      message:
        'login --headless needs Chromium, and none was found on PATH (chromium, chromium-browser, google-chrome, google-chrome-stable) or in the usual places',
      hint: 'install Chromium (Debian and Ubuntu: sudo apt-get install -y chromium; macOS: brew install --cask chromium), or pass --chromium <path> or set PKCE_CHROMIUM',
    })
    await expect(
      findChromium({ given: '/x/chrome', env: {}, platform: 'linux', isExecutable: present([]) }),
    ).rejects.toMatchObject({
      code: 'browser_not_found',
      message: 'no executable Chromium at /x/chrome',
    })
  })
})

describe('chromiumArgs() (docs/security.md FS-5)', () => {
  it('--no-sandbox only as root', () => {
    const common = [
      '--headless',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ]
    expect(chromiumArgs(1000)).toEqual(common)
    expect(chromiumArgs(undefined)).toEqual(common)
    expect(chromiumArgs(0)).toEqual(['--headless', '--no-sandbox', ...common.slice(1)])
  })
})
