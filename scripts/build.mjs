// `npm run build`: bundles src/ into dist/ with esbuild (issue 20). One entry, dist/main.js, and
// code splitting: every `await import()` in src/ becomes a chunk under dist/chunks/, so a command
// loads only its own code and its dependencies' in a few files instead of hundreds. Source maps
// sit beside each file; bin/pkce.js turns them on for `--debug` stack traces. Type checking is
// `npm run typecheck` (tsc), which emits nothing.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const { engines } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
const node = /(\d+\.\d+)/u.exec(engines.node)?.[1] ?? '20'

// Not bundled: the sandbox's oidc-provider and the headless browser are optional dependencies,
// loaded only by the commands that use them; `open` finds its own xdg-open script beside itself.
const EXTERNAL = ['oidc-provider', 'playwright-core', 'open']

// Node's built-ins through require(), not import: an ESM import of a built-in builds a facade that
// reads every export, and node:http's include Node 22+'s WebSocket and EventSource getters, which
// load Node's own copy of undici (~25 ms of a Node 24 login). The bundle reads properties at use.
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(build) {
    // Static imports only: a require() (the CommonJS packages', and the one below) stays as it
    // is, and so does an import(), which would see a CommonJS module's default export alone.
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin' } : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)})`,
      loader: 'js',
    }))
  },
}

const { outputFiles } = await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: `node${node}`,
  external: EXTERNAL,
  plugins: [builtinsByRequire],
  // The CommonJS packages bundled (commander, undici) and the plugin require Node's built-ins.
  banner: {
    js: "import { createRequire as __pkceCreateRequire } from 'node:module'; const require = __pkceCreateRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
})

// Only a successful build replaces dist/, and nothing of an older build is left beside it.
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true })
for (const file of outputFiles) {
  await mkdir(dirname(file.path), { recursive: true })
  await writeFile(file.path, file.contents)
}
