import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ERROR_EXIT } from '../src/errors.js'

// Static facts about the source tree (README, "Development"): read with node:fs and parsed
// with the TypeScript parser, so comments and strings never count as code. Nothing is built.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SRC = join(ROOT, 'src')

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) return tsFiles(path)
      return entry.isFile() && entry.name.endsWith('.ts') ? [path] : []
    })
    .sort()
}

/** `src/oauth/token.ts`: how files are named in failure messages and rules. */
function rel(path: string): string {
  return relative(ROOT, path).split('\\').join('/')
}

interface Module {
  file: string // src/…/x.ts
  /** Every module specifier: static, type-only, re-exports, dynamic `import()` and `import('…')` types. */
  specifiers: string[]
  /** The `src/` files the relative specifiers resolve to. */
  imports: string[]
}

function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier)
  const candidates = [base.replace(/\.js$/u, '.ts'), base.replace(/\.mjs$/u, '.mts'), `${base}.ts`]
  return candidates.find((candidate) => candidate.endsWith('.ts') && existsSync(candidate))
}

/** The module specifiers of a file; `preProcessFile` scans tokens, so comments and strings do not count. */
function moduleSpecifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName)
}

function loadModules(): Map<string, Module> {
  const modules = new Map<string, Module>()
  for (const path of tsFiles(SRC)) {
    const specifiers = moduleSpecifiers(readFileSync(path, 'utf8'))
    const imports = specifiers
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolveRelative(path, specifier))
      .filter((target): target is string => target !== undefined)
      .map(rel)
    modules.set(rel(path), { file: rel(path), specifiers, imports: [...new Set(imports)] })
  }
  return modules
}

const modules = loadModules()

/** One cycle per strongly connected component (Tarjan), as `a.ts → b.ts → a.ts`. */
function findCycles(graph: Map<string, Module>): string[] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const visit = (node: string): void => {
    index.set(node, counter)
    low.set(node, counter)
    counter++
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node)?.imports ?? []) {
      if (!index.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!))
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = []
      let member: string | undefined
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      const selfLoop = graph.get(node)?.imports.includes(node) === true
      if (component.length > 1 || selfLoop) components.push(component.sort())
    }
  }
  for (const node of graph.keys()) if (!index.has(node)) visit(node)

  return components.map((component) => {
    // The shortest way back to the component's first file, by breadth-first search inside it.
    const start = component[0]!
    const members = new Set(component)
    const previous = new Map<string, string>()
    const queue = [start]
    let last: string | undefined
    while (queue.length > 0 && last === undefined) {
      const node = queue.shift()!
      for (const next of graph.get(node)?.imports ?? []) {
        if (!members.has(next)) continue
        if (next === start) {
          last = node
          break
        }
        if (!previous.has(next)) {
          previous.set(next, node)
          queue.push(next)
        }
      }
    }
    const path = [start]
    for (let node = last; node !== undefined && node !== start; node = previous.get(node)) {
      path.splice(1, 0, node)
    }
    const cycle = [...path, start].join(' → ')
    return component.length > path.length ? `${cycle} (all of: ${component.join(', ')})` : cycle
  })
}

/**
 * Every `src/` file reachable from `file` through imports (type-only and dynamic ones included),
 * each with the chain that reaches it.
 */
function reachable(graph: Map<string, Module>, file: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[file, [file]]])
  const queue = [file]
  while (queue.length > 0) {
    const node = queue.shift()!
    for (const next of graph.get(node)?.imports ?? []) {
      if (chains.has(next)) continue
      chains.set(next, [...chains.get(node)!, next])
      queue.push(next)
    }
  }
  return chains
}

interface LayerRule {
  name: string
  layer: string // a folder under src/, with the trailing slash
  folders: string[] // src/ folders it may not reach
  packages: string[] // bare specifiers it may not import (subpaths included)
}

// oauth/ ← commands/ ← cli/, one way (README, "Development"). eslint.config.js checks direct
// value imports per file; this also follows type-only and dynamic imports through other modules.
const LAYER_RULES: LayerRule[] = [
  {
    name: 'src/oauth/ reaches no commands/, cli/, io/, net/, sandbox/, process, chalk, open, commander',
    layer: 'src/oauth/',
    folders: ['src/commands/', 'src/cli/', 'src/io/', 'src/net/', 'src/sandbox/'],
    packages: ['node:process', 'process', 'chalk', 'open', 'commander'],
  },
  {
    name: 'src/jwt/ reaches no commands/, cli/, io/, net/, sandbox/, process, chalk, open, commander',
    layer: 'src/jwt/',
    folders: ['src/commands/', 'src/cli/', 'src/io/', 'src/net/', 'src/sandbox/'],
    packages: ['node:process', 'process', 'chalk', 'open', 'commander'],
  },
  {
    name: 'src/commands/ reaches no cli/ and no commander',
    layer: 'src/commands/',
    folders: ['src/cli/'],
    packages: ['commander'],
  },
  {
    name: 'src/net/ reaches no cli/, commands/, chalk, commander',
    layer: 'src/net/',
    folders: ['src/cli/', 'src/commands/'],
    packages: ['chalk', 'commander'],
  },
  {
    name: 'src/sandbox/ reaches no cli/, commands/, chalk, commander',
    layer: 'src/sandbox/',
    folders: ['src/cli/', 'src/commands/'],
    packages: ['chalk', 'commander'],
  },
]

function isPackage(specifier: string, name: string): boolean {
  return specifier === name || specifier.startsWith(`${name}/`)
}

function layerViolations(graph: Map<string, Module>, rule: LayerRule): string[] {
  const problems: string[] = []
  for (const file of graph.keys()) {
    if (!file.startsWith(rule.layer)) continue
    for (const [target, chain] of reachable(graph, file)) {
      const folder = rule.folders.find((forbidden) => target.startsWith(forbidden))
      if (folder !== undefined) problems.push(`${chain.join(' → ')} (${folder} is off limits)`)
      for (const specifier of graph.get(target)?.specifiers ?? []) {
        const name = rule.packages.find((pkg) => isPackage(specifier, pkg))
        if (name !== undefined) problems.push(`${[...chain, specifier].join(' → ')}`)
      }
    }
  }
  return [...new Set(problems)].sort()
}

/**
 * Where a file uses the `process` global (or imports `node:process`): identifiers only, so
 * comments, strings (`'start the sandbox in-process'`) and property names (`x.process`) do not
 * count.
 */
function processUses(file: string, text = readFileSync(join(ROOT, file), 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true)
  const uses: string[] = []
  const where = (node: ts.Node): string => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source))
    return `${file}:${line + 1}: ${text.split('\n')[line]?.trim() ?? ''}`
  }
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === 'process') {
      const parent = node.parent
      const isMemberName =
        (ts.isPropertyAccessExpression(parent) &&
          parent.name === node &&
          !/^(globalThis|global)$/u.test(parent.expression.getText(source))) ||
        ((ts.isPropertyAssignment(parent) ||
          ts.isPropertySignature(parent) ||
          ts.isPropertyDeclaration(parent) ||
          ts.isMethodDeclaration(parent) ||
          ts.isMethodSignature(parent) ||
          ts.isEnumMember(parent)) &&
          parent.name === node) ||
        ts.isQualifiedName(parent)
      if (!isMemberName) uses.push(where(node))
    }
    if (
      ts.isStringLiteral(node) &&
      (node.text === 'node:process' || node.text === 'process') &&
      (ts.isImportDeclaration(node.parent) ||
        ts.isExportDeclaration(node.parent) ||
        ts.isCallExpression(node.parent))
    ) {
      uses.push(where(node))
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return uses
}

const RULE_ID = /\b(?:PK|SN|AR|LL|RH|PAR|TR|TK|DP|MD|IT|JD|SO|HC|TL|CI|RM|FS|D)-[0-9]+\b/gu

function citedRuleIds(): Map<string, string> {
  const cited = new Map<string, string>()
  const files = [...tsFiles(SRC), ...tsFiles(join(ROOT, 'test'))]
  for (const path of files) {
    for (const match of readFileSync(path, 'utf8').matchAll(RULE_ID)) {
      if (!cited.has(match[0])) cited.set(match[0], rel(path))
    }
  }
  return cited
}

const SECURITY_DOC = join(ROOT, 'docs', 'security.md')

/** The IDs docs/security.md defines: a heading (`### D-1. …`) or a bullet (`- **SN-2 MUST.** …`). */
function documentedRuleIds(text: string): Set<string> {
  const ids = new Set<string>()
  const id = RULE_ID.source
  const definitions = new RegExp(`^(?:#{1,6}\\s+|\\s*-\\s+\\*\\*)(${id})\\b`, 'gmu')
  for (const match of text.matchAll(definitions)) ids.add(match[1]!)
  return ids
}

describe('architecture', () => {
  it('finds the source tree', () => {
    // Guards the checks below against passing on an empty or misread tree.
    expect(modules.size).toBeGreaterThan(40)
    expect(modules.get('src/main.ts')?.imports).toContain('src/errors.ts')
  })

  it('sees every kind of import, and none in comments or strings', () => {
    const text = [
      "import { a } from './a.js'",
      "import type { B } from './b.js'",
      "import './c.js'",
      "export { d } from './d.js'",
      "export type * from './e.js'",
      "const f = await import('./f.js')",
      "type G = typeof import('./g.js')",
      "// import { h } from './h.js'",
      "/* await import('./i.js') */",
      'const j = "import(\'./j.js\')"',
      "const k = `from './k.js'`",
    ].join('\n')
    expect(moduleSpecifiers(text)).toEqual([
      './a.js',
      './b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      './g.js',
    ])
  })

  it('src/ has no import cycles (type-only, re-exports and dynamic import() included)', () => {
    expect(findCycles(modules)).toEqual([])
  })

  it('finds a cycle when there is one', () => {
    const graph = new Map<string, Module>([
      ['a.ts', { file: 'a.ts', specifiers: [], imports: ['b.ts'] }],
      ['b.ts', { file: 'b.ts', specifiers: [], imports: ['c.ts'] }],
      ['c.ts', { file: 'c.ts', specifiers: [], imports: ['a.ts', 'd.ts'] }],
      ['d.ts', { file: 'd.ts', specifiers: [], imports: ['d.ts'] }],
    ])
    expect(findCycles(graph)).toEqual(['d.ts → d.ts', 'a.ts → b.ts → c.ts → a.ts'])
  })

  it.each(LAYER_RULES)('$name', (rule) => {
    expect(layerViolations(modules, rule)).toEqual([])
  })

  it('follows a layer violation through other modules and type-only imports', () => {
    const graph = new Map<string, Module>([
      ['src/oauth/a.ts', { file: 'src/oauth/a.ts', specifiers: [], imports: ['src/b.ts'] }],
      ['src/b.ts', { file: 'src/b.ts', specifiers: ['chalk/x'], imports: ['src/io/c.ts'] }],
      ['src/io/c.ts', { file: 'src/io/c.ts', specifiers: [], imports: [] }],
    ])
    expect(layerViolations(graph, LAYER_RULES[0]!)).toEqual([
      'src/oauth/a.ts → src/b.ts → chalk/x',
      'src/oauth/a.ts → src/b.ts → src/io/c.ts (src/io/ is off limits)',
    ])
  })

  it('sees the process global in code only', () => {
    const text = [
      '// process.env in a comment',
      "const a = 'start the sandbox in-process'",
      'const b = `process ${x.process}`',
      'const c = { process: 1 }',
      'interface D { process: number }',
      'const e = process.env.HOME',
      'const f = globalThis.process',
      "import { argv } from 'node:process'",
    ].join('\n')
    expect(processUses('x.ts', text)).toEqual([
      'x.ts:6: const e = process.env.HOME',
      'x.ts:7: const f = globalThis.process',
      "x.ts:8: import { argv } from 'node:process'",
    ])
  })

  it('only src/io/system.ts uses the process global', () => {
    const uses = [...modules.keys()]
      .filter((file) => file !== 'src/io/system.ts')
      .flatMap((file) => processUses(file))
    expect(uses).toEqual([])
    // The check does see a real use.
    expect(processUses('src/io/system.ts').length).toBeGreaterThan(0)
  })

  it('every rule ID cited in src/ and test/ is defined in docs/security.md', () => {
    const documented = documentedRuleIds(readFileSync(SECURITY_DOC, 'utf8'))
    const missing = [...citedRuleIds()]
      .filter(([id]) => !documented.has(id))
      .map(([id, file]) => `${id} (cited in ${file})`)
    expect(missing).toEqual([])
  })

  it('reads rule definitions from headings and bullets only', () => {
    const text = [
      '### D-1. A heading',
      '- **SN-2 MUST.** A bullet.',
      '  - **LL-9 MUST.** A nested bullet.',
      'A sentence citing PK-1 defines nothing.',
      '- A bullet citing RH-1 defines nothing.',
    ].join('\n')
    expect([...documentedRuleIds(text)]).toEqual(['D-1', 'SN-2', 'LL-9'])
  })

  it('docs/security.md D-6 lists exactly the error codes of src/errors.ts, with their exit codes', () => {
    const text = readFileSync(SECURITY_DOC, 'utf8')
    const section = text.slice(text.indexOf('### D-6.'))
    const listed: Record<string, number> = {}
    // Each bullet starts with its exit code (`- **4, callback:** …`) and may wrap onto more lines.
    for (const bullet of section.split(/\n(?=- )/u).filter((b) => b.startsWith('- **'))) {
      const exit = Number(/^- \*\*(\d+)/u.exec(bullet)?.[1])
      for (const match of bullet.matchAll(/`([a-z][a-z0-9_]*)`/gu)) listed[match[1]!] = exit
    }
    expect(listed).toEqual({ ...ERROR_EXIT })
  })
})
