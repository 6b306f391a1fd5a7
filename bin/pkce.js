#!/usr/bin/env node
import { readFileSync } from 'node:fs'

const argv = process.argv.slice(2)
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

// `pkce --version` answers before anything else loads (issue 20); commander prints the same line.
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${version}\n`)
} else {
  // Node 22.1+ keeps V8's compiled code between runs (a no-op on Node 20): in the user's own
  // cache directory, not a shared temporary one, unless NODE_COMPILE_CACHE says otherwise.
  const { default: module } = await import('node:module')
  if (module.enableCompileCache !== undefined) {
    module.enableCompileCache(process.env.NODE_COMPILE_CACHE || (await cacheDirectory()))
  }
  // dist/ is bundled: `--debug` stack traces point into src/ through the source maps.
  if (argv.includes('--debug') || process.env.PKCE_DEBUG === '1') {
    process.setSourceMapsEnabled(true)
  }
  const { main, systemContext } = await import('../dist/main.js')
  process.exitCode = await main(argv, await systemContext(version))
}

/** `pkce` in the per-user cache directory: XDG on Linux, Library/Caches on macOS, LOCALAPPDATA. */
async function cacheDirectory() {
  const { homedir } = await import('node:os')
  const { join } = await import('node:path')
  const { env, platform } = process
  if (platform === 'win32') {
    return join(env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'pkce', 'Cache')
  }
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'pkce')
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pkce')
}
