// `npm run bench`: start-up cost of the built bin against bare `node -e 0`, interleaved so that
// machine noise hits every command alike; medians as ratios. Never asserted anywhere: it reports.
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const RUNS = Number(process.env.BENCH_RUNS ?? 30)
const WARMUP = 3
const root = fileURLToPath(new URL('..', import.meta.url))
const bin = join(root, 'bin/pkce.js')

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

const token = sampleToken()
const commands = [
  { name: 'node -e 0', args: ['-e', '0'] },
  // What the chosen stack costs before any pkce code runs: commander and jose's decoders.
  {
    name: 'stack floor',
    args: [
      '--input-type=module',
      '-e',
      "import 'commander'; import 'jose/jwt/decode'; import 'jose/decode/protected_header'",
    ],
  },
  { name: 'pkce --version', args: [bin, '--version'] },
  { name: 'pkce decode', args: [bin, 'decode', token] },
]

// Node reads NODE_EXTRA_CA_CERTS at every start, before any script, so when it is set (as on the
// development machine) every row, the baseline included, pays for it; the ratios are then also
// reported without it, where pkce's own share of the start-up shows more plainly.
const callerEnv = { ...process.env, NO_COLOR: '1' }
const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...withoutExtraCerts } = callerEnv
const environments = [{ title: 'environment as called', env: callerEnv }]
if (extraCaCerts !== undefined) {
  environments.push({ title: 'without NODE_EXTRA_CA_CERTS', env: withoutExtraCerts })
}

function once(args, { extraArgs = [], env = callerEnv } = {}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [...extraArgs, ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) {
    throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`)
  }
  return ms
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function timings(env) {
  for (let i = 0; i < WARMUP; i++) for (const command of commands) once(command.args, { env })
  const times = new Map(commands.map((command) => [command.name, []]))
  for (let i = 0; i < RUNS; i++) {
    // Rotate the order too, so no command always runs right after another.
    for (let j = 0; j < commands.length; j++) {
      const command = commands[(i + j) % commands.length]
      times.get(command.name).push(once(command.args, { env }))
    }
  }
  return new Map([...times].map(([name, samples]) => [name, median(samples)]))
}

const results = environments.map(({ title, env }) => ({ title, medians: timings(env) }))

// Peak RSS, measured in separate runs: the reporting hook would skew the timings.
const dir = mkdtempSync(join(tmpdir(), 'pkce-bench-'))
const rssFile = join(dir, 'rss')
const rssHook = `data:text/javascript,${encodeURIComponent(
  `import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)))`,
)}`
const peakRss = new Map()
for (const command of commands) {
  const samples = []
  for (let i = 0; i < 5; i++) {
    once(command.args, { extraArgs: ['--import', rssHook] })
    samples.push(Number(readFileSync(rssFile, 'utf8')) / 1024)
  }
  peakRss.set(command.name, median(samples))
}
rmSync(dir, { recursive: true, force: true })

console.log(
  `${RUNS} interleaved runs each, node ${process.version}, ${process.platform}/${process.arch}`,
)
for (const [index, { title, medians }] of results.entries()) {
  console.log(`\n${title}:`)
  const base = medians.get('node -e 0')
  const floor = medians.get('stack floor')
  for (const command of commands) {
    const ms = medians.get(command.name)
    const ratios = []
    if (command.name !== 'node -e 0') ratios.push(`${(ms / base).toFixed(2)}× node -e 0`)
    if (command.name.startsWith('pkce')) ratios.push(`${(ms / floor).toFixed(2)}× stack floor`)
    const ratio = ratios.map((text) => `  ${text}`).join('')
    // Peak RSS was sampled in the environment as called only.
    const rss = index === 0 ? `  peak RSS ${peakRss.get(command.name).toFixed(1)} MiB` : ''
    console.log(`${command.name.padEnd(16)} median ${ms.toFixed(1).padStart(6)} ms${rss}${ratio}`)
  }
}
