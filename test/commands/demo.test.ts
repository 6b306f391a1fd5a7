import { describe, expect, it } from 'vitest'
import type { Ctx } from '../../src/context.js'
import { isHeadless } from '../../src/commands/demo.js'
import { testCtx } from '../helpers/test-ctx.js'

/** A context on a terminal (stdout and stderr TTYs), with this platform and environment. */
function terminal(platform: NodeJS.Platform, env: Record<string, string | undefined>): Ctx {
  return { ...testCtx({ tty: true, env }), platform }
}

const X11 = { DISPLAY: ':0' }

describe('isHeadless()', () => {
  it.each<[NodeJS.Platform, Record<string, string>]>([
    ['linux', X11],
    ['linux', { WAYLAND_DISPLAY: 'wayland-0' }],
    ['linux', { DISPLAY: ':0', WAYLAND_DISPLAY: 'wayland-0', CI: '' }],
    ['darwin', {}],
    ['win32', {}],
  ])('not headless on a %s terminal with a display: %j', (platform, env) => {
    expect(isHeadless(false, terminal(platform, env))).toBe(false)
  })

  it('headless when asked for, even on a terminal with a display', () => {
    expect(isHeadless(true, terminal('linux', X11))).toBe(true)
    expect(isHeadless(true, terminal('darwin', {}))).toBe(true)
  })

  it.each(['true', '1', 'github-actions'])('headless when CI=%s', (ci) => {
    expect(isHeadless(false, terminal('linux', { ...X11, CI: ci }))).toBe(true)
    expect(isHeadless(false, terminal('darwin', { CI: ci }))).toBe(true)
  })

  it.each<Record<string, string>>([{}, { DISPLAY: '' }, { DISPLAY: '', WAYLAND_DISPLAY: '' }])(
    'headless on linux without DISPLAY or WAYLAND_DISPLAY: %j',
    (env) => {
      expect(isHeadless(false, terminal('linux', env))).toBe(true)
    },
  )

  it('a missing DISPLAY means nothing off linux', () => {
    expect(isHeadless(false, terminal('darwin', { DISPLAY: '' }))).toBe(false)
  })

  it('headless when stderr is not a terminal (nobody to see a browser)', () => {
    const ctx = terminal('linux', X11)
    expect(isHeadless(false, { ...ctx, io: { ...ctx.io, stderrIsTTY: false } })).toBe(true)
    expect(isHeadless(false, { ...testCtx({ tty: false, env: {} }), platform: 'darwin' })).toBe(
      true,
    )
  })

  it('stdout alone not being a terminal does not make it headless', () => {
    const ctx = terminal('linux', X11)
    expect(isHeadless(false, { ...ctx, io: { ...ctx.io, stdoutIsTTY: false } })).toBe(false)
  })
})
