// `npm run bench`: the speed budget of issue 20, measured and printed as a table; never asserted
// anywhere (timings flake on shared machines), and a missed target does not fail the run.
//
//   node bench/run.mjs [--quick] [--json] [--node <path>] [--runs <n>]
//
// Start-up: the built bin against bare `node -e 0`. Login: `pkce login` against a minimal
// oauth4webapi client (bench/oauth4webapi-login.mjs), both signing in to the same local HTTPS
// sandbox tenant with the same scripted browser. Memory: peak RSS of each, and of a login refusing
// a 50 MiB token response. Each case alternates with its baseline, in rotating order, so machine
// noise hits both alike; the table shows medians, the spread (25th–75th percentile) and the ratio
// of the medians.
import { spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startHugeTokenServer } from './huge-token-server.mjs'

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    node: { type: 'string' },
    runs: { type: 'string' },
  },
})

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = join(root, 'bin/pkce.js')
const usageHook = join(root, 'bench/usage-hook.mjs')
const node = flags.node ?? process.execPath
const MIB = 1024 * 1024
const runs = {
  startup: Number(flags.runs ?? (flags.quick ? 9 : 20)),
  login: flags.quick ? 5 : 10,
  huge: flags.quick ? 1 : 3,
  warmup: flags.quick ? 1 : 2,
}
const targets = { startup: 1.3, login: 0.9, rss: { decode: 60, login: 80, huge: 100 } }

const nodeVersion = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
const hasCompileCache =
  spawnSync(node, ['-p', 'typeof require("node:module").enableCompileCache'], {
    encoding: 'utf8',
  }).stdout.trim() === 'function'

// Node reads NODE_EXTRA_CA_CERTS at every start, before any script, so start-up is measured
// without it (a machine that sets it pays the same for every command, baseline included).
const env = { ...process.env, NO_COLOR: '1' }
delete env.NODE_EXTRA_CA_CERTS
for (const name of Object.keys(env)) if (name.startsWith('PKCE_')) delete env[name]
const dir = mkdtempSync(join(tmpdir(), 'pkce-bench-'))

/** One run of `node …args`: wall time, exit code, output, and the child's own usage if asked. */
function once(args, { extraEnv = {}, usage = false } = {}) {
  const usageFile = join(dir, `usage-${Math.random().toString(36).slice(2)}.json`)
  const argv = usage ? ['--import', usageHook, ...args] : args
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(node, argv, {
      cwd: root,
      env: { ...env, ...extraEnv, ...(usage ? { PKCE_BENCH_USAGE: usageFile } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      let used
      if (usage) {
        const raw = JSON.parse(readFileSync(usageFile, 'utf8'))
        used = { cpuMs: raw.cpu / 1000, rssMiB: raw.maxRSS / 1024 }
        rmSync(usageFile, { force: true })
      }
      resolve({ ms, code, stdout, stderr, usage: used })
    })
  })
}

async function expectOk(args, options) {
  const result = await once(args, options)
  if (result.code !== 0) {
    throw new Error(`${args.join(' ')} exited ${result.code}:\n${result.stderr}`)
  }
  return result
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b)
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low)
}
// Ratios are judged as printed, to two decimals: a target of 1.30× is met by 1.304×.
const round = (ratio) => Math.round(ratio * 100) / 100
const stats = (values) => ({
  median: quantile(values, 0.5),
  p25: quantile(values, 0.25),
  p75: quantile(values, 0.75),
  n: values.length,
})

/**
 * Runs each case and the baseline `rounds` times, in an order that rotates every round, after
 * `warmup` rounds that are not counted; returns the samples of each, by name.
 */
async function interleaved(entries, rounds, warmup, measure) {
  const samples = new Map(entries.map((entry) => [entry.name, []]))
  for (let round = -warmup; round < rounds; round++) {
    const offset = ((round % entries.length) + entries.length) % entries.length
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[(i + offset) % entries.length]
      const sample = await measure(entry)
      if (round >= 0) samples.get(entry.name).push(sample)
    }
  }
  return samples
}

function sampleToken() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const input = `${part({ alg: 'RS256', typ: 'JWT', kid: 'bench' })}.${part({
    iss: 'https://acme.eu.auth0.com/',
    sub: 'auth0|bench',
    aud: ['https://api.acme.test/', 'https://acme.eu.auth0.com/userinfo'],
    iat: now,
    exp: now + 86_400,
    scope: 'openid profile read:orders',
    azp: 'abc123',
  })}`
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
}

const rows = []

async function startup() {
  const token = sampleToken()
  const baseline = { name: 'node -e 0', args: ['-e', '0'] }
  const cases = [
    { name: 'pkce --version', args: [bin, '--version'] },
    { name: 'pkce --help', args: [bin, '--help'] },
    { name: 'pkce decode <jwt>', args: [bin, 'decode', token], rssTarget: targets.rss.decode },
    { name: 'pkce verifier', args: [bin, 'verifier'] },
  ]
  if (hasCompileCache) {
    cases.push({
      name: 'pkce decode <jwt>, compile cache off',
      args: [bin, 'decode', token],
      extraEnv: { NODE_DISABLE_COMPILE_CACHE: '1' },
      info: true,
    })
  }
  const entries = [baseline, ...cases]
  const samples = await interleaved(
    entries,
    runs.startup,
    runs.warmup,
    async (entry) => (await expectOk(entry.args, { extraEnv: entry.extraEnv })).ms,
  )
  // Peak RSS in separate runs, so the reporting hook stays out of the timings.
  const rss = new Map()
  for (const entry of entries) {
    const values = []
    for (let i = 0; i < 3; i++) {
      values.push(
        (await expectOk(entry.args, { extraEnv: entry.extraEnv, usage: true })).usage.rssMiB,
      )
    }
    rss.set(entry.name, quantile(values, 0.5))
  }
  const base = stats(samples.get(baseline.name))
  for (const entry of cases) {
    const own = stats(samples.get(entry.name))
    const ratio = round(own.median / base.median)
    rows.push({
      case: `\`${entry.name}\` vs \`node -e 0\``,
      metric: 'wall',
      unit: 'ms',
      pkce: own,
      baseline: base,
      ratio,
      target: entry.info === true ? null : targets.startup,
      pass: entry.info === true ? null : ratio <= targets.startup,
      rssMiB: rss.get(entry.name),
      rssTargetMiB: entry.rssTarget ?? null,
      rssPass: entry.rssTarget === undefined ? null : rss.get(entry.name) <= entry.rssTarget,
    })
  }
  return { baselineRssMiB: rss.get(baseline.name) }
}

/** `pkce sandbox --https --port 0 --json` in its own process: its ready document. */
async function startTenant() {
  const child = spawn(node, [bin, 'sandbox', '--https', '--port', '0', '--json'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  let text = ''
  const info = await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      text += chunk
      try {
        resolve(JSON.parse(text))
      } catch {
        // Not all of it yet.
      }
    })
    child.on('close', (code) => reject(new Error(`pkce sandbox exited ${code}: ${text}`)))
  })
  return {
    info,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('close')
        child.on('close', resolve)
        child.kill('SIGINT')
      }),
  }
}

async function login() {
  const tenant = await startTenant()
  try {
    const extraEnv = { NODE_EXTRA_CA_CERTS: tenant.info.ca_file }
    const browser = [node, bin, 'sandbox-user']
    const entries = [
      {
        name: 'oauth4webapi',
        args: [
          join(root, 'bench/oauth4webapi-login.mjs'),
          tenant.info.issuer,
          'sandbox-public',
          ...browser,
        ],
      },
      {
        name: 'pkce',
        args: [
          bin,
          'login',
          '--issuer',
          tenant.info.issuer,
          '--client-id',
          'sandbox-public',
          '--port',
          '0',
          '--browser',
          browser.map((word) => `"${word}"`).join(' '),
          '--print',
          'access_token',
        ],
      },
    ]
    const samples = await interleaved(entries, runs.login, runs.warmup, async (entry) => {
      const result = await expectOk(entry.args, { extraEnv, usage: true })
      if (!/^\S{20,}\n$/u.test(result.stdout)) {
        throw new Error(`${entry.name} printed no access token: ${result.stdout}${result.stderr}`)
      }
      return { ms: result.ms, ...result.usage }
    })
    const of = (name, key) => samples.get(name).map((sample) => sample[key])
    const rssMiB = quantile(of('pkce', 'rssMiB'), 0.5)
    for (const [metric, key] of [
      ['wall', 'ms'],
      ['CPU', 'cpuMs'],
    ]) {
      const own = stats(of('pkce', key))
      const base = stats(of('oauth4webapi', key))
      const ratio = round(own.median / base.median)
      rows.push({
        case: `\`pkce login\` ${metric} vs an oauth4webapi client`,
        metric,
        unit: 'ms',
        pkce: own,
        baseline: base,
        ratio,
        target: targets.login,
        pass: ratio <= targets.login,
        rssMiB: metric === 'wall' ? rssMiB : null,
        rssTargetMiB: metric === 'wall' ? targets.rss.login : null,
        rssPass: metric === 'wall' ? rssMiB <= targets.rss.login : null,
        baselineRssMiB: metric === 'wall' ? quantile(of('oauth4webapi', 'rssMiB'), 0.5) : null,
      })
    }
  } finally {
    await tenant.stop()
  }
}

async function hugeTokenResponse() {
  const server = await startHugeTokenServer()
  try {
    const rss = []
    const sent = []
    for (let i = 0; i < runs.huge; i++) {
      server.reset()
      const result = await once(
        [
          bin,
          'login',
          '--issuer',
          server.issuer,
          '--client-id',
          'bench',
          '--port',
          '0',
          '--browser',
          `"${node}" "${join(root, 'bench/redirect-browser.mjs')}"`,
          '--json',
          '--http-timeout',
          '10',
          '--timeout',
          '15',
        ],
        { usage: true },
      )
      const code = result.stdout === '' ? undefined : JSON.parse(result.stdout).error?.code
      if (result.code !== 4 || code !== 'response_too_large') {
        throw new Error(`the 50 MiB response was not refused (exit ${result.code}, ${code})`)
      }
      rss.push(result.usage.rssMiB)
      sent.push(server.sent())
    }
    const rssMiB = quantile(rss, 0.5)
    rows.push({
      case: 'refusing a 50 MiB token response (`pkce login`, exit 4)',
      metric: 'memory',
      unit: 'MiB',
      pkce: null,
      baseline: null,
      ratio: null,
      target: null,
      pass: null,
      rssMiB,
      rssTargetMiB: targets.rss.huge,
      rssPass: rssMiB <= targets.rss.huge,
      sentMiB: quantile(sent, 0.5) / MIB,
    })
  } finally {
    await server.close()
  }
}

let baselineRssMiB
try {
  ;({ baselineRssMiB } = await startup())
  await login()
  await hugeTokenResponse()
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const environment = {
  node: nodeVersion,
  platform: `${process.platform}/${process.arch}`,
  cpus: cpus().length,
  runs,
  compileCache: hasCompileCache,
  date: new Date().toISOString(),
}

if (flags.json) {
  process.stdout.write(`${JSON.stringify({ ...environment, baselineRssMiB, rows }, null, 2)}\n`)
} else {
  const ms = (s) => `${s.median.toFixed(1)} ms (${s.p25.toFixed(1)}–${s.p75.toFixed(1)})`
  const mark = (pass) => (pass === null ? '' : pass ? 'pass' : 'MISS')
  const lines = [
    `node ${nodeVersion}, ${environment.platform}, ${environment.cpus} CPUs; medians (25th–75th percentile) of ${runs.startup} interleaved start-up runs and ${runs.login} logins each; start-up without NODE_EXTRA_CA_CERTS; \`node -e 0\` peak RSS ${baselineRssMiB.toFixed(1)} MiB`,
    '',
    '| case | pkce | baseline | ratio | target | result | peak RSS (target) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const row of rows) {
    const rss =
      row.rssMiB === null
        ? ''
        : `${row.rssMiB.toFixed(1)} MiB${row.rssTargetMiB === null ? '' : ` (≤ ${row.rssTargetMiB}: ${mark(row.rssPass)})`}${row.baselineRssMiB ? `; baseline ${row.baselineRssMiB.toFixed(1)} MiB` : ''}${row.sentMiB === undefined ? '' : `; refused after ${row.sentMiB.toFixed(1)} of 50 MiB sent`}`
    lines.push(
      `| ${row.case} | ${row.pkce === null ? '' : ms(row.pkce)} | ${row.baseline === null ? '' : ms(row.baseline)} | ${row.ratio === null ? '' : `${row.ratio.toFixed(2)}×`} | ${row.target === null ? '' : `≤ ${row.target.toFixed(2)}×`} | ${mark(row.pass)} | ${rss} |`,
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}
