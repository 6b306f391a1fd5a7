// `node --import test/helpers/report-peak-rss.mjs …`: on exit, writes the process's peak resident
// set size in bytes to the file named by PEAK_RSS_FILE, so a test can check memory stayed flat
// without timing anything.
import { writeFileSync } from 'node:fs'

const file = process.env.PEAK_RSS_FILE
if (file !== undefined && file !== '') {
  process.on('exit', () => {
    // resourceUsage().maxRSS is in kilobytes.
    writeFileSync(file, String(process.resourceUsage().maxRSS * 1024))
  })
}
