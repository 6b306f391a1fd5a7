import { Chalk } from 'chalk'
import { describe, expect, it } from 'vitest'
import { colorsFor, plain } from '../../src/io/color.js'

describe('plain colours', () => {
  it('style nothing, chain like chalk and join arguments as chalk does', () => {
    const chalk = new Chalk({ level: 0 })
    expect(plain.green.bold('a', 'b')).toBe(chalk.green.bold('a', 'b'))
    expect(plain.dim('# note')).toBe('# note')
  })

  it('regression: colorsFor(0) resolves (the stand-in must not look like a thenable)', async () => {
    await expect(colorsFor(0)).resolves.toBe(plain)
  })

  it('colorsFor(1) is a real chalk with colour', async () => {
    expect((await colorsFor(1)).red('x')).toBe('\u001b[31mx\u001b[39m')
  })
})
