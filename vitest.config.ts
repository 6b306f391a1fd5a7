import { defineConfig } from 'vitest/config'

const cleared = Object.fromEntries(
  Object.keys(process.env)
    .filter((name) => name.startsWith('PKCE_'))
    .map((name) => [name, undefined]),
)

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: { ...cleared, FORCE_COLOR: '0', NO_COLOR: '1' },
  },
})
