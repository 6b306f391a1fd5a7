// `node --import bench/usage-hook.mjs …`: on exit, writes this process's own resource usage (not
// its children's) as JSON to the file named by PKCE_BENCH_USAGE: peak RSS in KiB, CPU time in µs.
import { writeFileSync } from 'node:fs'

const file = process.env.PKCE_BENCH_USAGE
if (file !== undefined && file !== '') {
  process.on('exit', () => {
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage()
    writeFileSync(file, JSON.stringify({ maxRSS, cpu: userCPUTime + systemCPUTime }))
  })
}
