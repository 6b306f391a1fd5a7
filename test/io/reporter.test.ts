import { Chalk } from 'chalk'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { IO } from '../../src/io/io.js'
import { createRedactor } from '../../src/io/redact.js'
import type { Redactor } from '../../src/io/redact.js'
import { createReporter } from '../../src/io/reporter.js'

const SECRET = 'client-secret-value-0123'

/** A fake IO: stderr writes recorded one by one; colour from `level` on stderr only. */
function setup(options: { tty?: boolean; level?: 0 | 1 } = {}): {
  reporter: ReturnType<typeof createReporter>
  writes: string[]
  out: string[]
  secrets: Redactor
} {
  const writes: string[] = []
  const out: string[] = []
  const io: IO = {
    out: (text) => void out.push(text),
    err: (text) => void writes.push(text),
    readStdin: () => Promise.resolve(''),
    readLine: () => Promise.resolve(''),
    stdoutIsTTY: false,
    stderrIsTTY: options.tty === true,
    stdinIsTTY: false,
    // stdout colour differs, to show the reporter styles with stderr's.
    color: { out: new Chalk({ level: 3 }), err: new Chalk({ level: options.level ?? 0 }) },
  }
  const secrets = createRedactor()
  secrets.add(SECRET)
  return { reporter: createReporter(io, secrets), writes, out, secrets }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('createReporter(): lines on stderr', () => {
  it('step() writes a bullet line', () => {
    const { reporter, writes, out } = setup()
    reporter.step('discovering https://as.example/')
    expect(writes).toEqual(['• discovering https://as.example/\n'])
    expect(out).toEqual([])
  })

  it('warn() writes the message and its code', () => {
    const { reporter, writes } = setup()
    reporter.warn('par_status_200', 'the PAR endpoint answered 200, not 201')
    expect(writes).toEqual(['warning: the PAR endpoint answered 200, not 201 (par_status_200)\n'])
  })

  it('notice() writes the label, then the value indented on its own line', () => {
    const { reporter, writes } = setup()
    reporter.notice('Open this URL:', 'https://as.example/authorize?state=s')
    expect(writes).toEqual(['Open this URL:\n  https://as.example/authorize?state=s\n'])
  })

  it("styles with stderr's colours: dim bullet, yellow warning, dim code, bold label", () => {
    const { reporter, writes } = setup({ level: 1 })
    reporter.step('s')
    reporter.warn('c', 'm')
    reporter.notice('L', 'v')
    expect(writes).toEqual([
      '\u001b[2m•\u001b[22m s\n',
      '\u001b[33mwarning:\u001b[39m m \u001b[2m(c)\u001b[22m\n',
      '\u001b[1mL\u001b[22m\n  v\n',
    ])
  })

  it('SO-2: a registered secret is redacted in every kind of line', () => {
    const { reporter, writes } = setup()
    reporter.step(`using ${SECRET}`)
    reporter.warn('c', `echoed ${SECRET}`)
    reporter.notice(`label ${SECRET}`, `value ${SECRET}`)
    reporter.wait(`waiting ${SECRET}`)
    const redacted = `[redacted ${SECRET.length} chars]`
    expect(writes).toEqual([
      `• using ${redacted}\n`,
      `warning: echoed ${redacted} (c)\n`,
      `label ${redacted}\n  value ${redacted}\n`,
      `• waiting ${redacted}\n`,
    ])
  })

  it('--show-secrets: a disabled redactor lets the secret through', () => {
    const writes: string[] = []
    const plain = new Chalk({ level: 0 })
    const secrets = createRedactor(false)
    secrets.add(SECRET)
    const reporter = createReporter(
      {
        out: () => undefined,
        err: (text) => void writes.push(text),
        readStdin: () => Promise.resolve(''),
        readLine: () => Promise.resolve(''),
        stdoutIsTTY: false,
        stderrIsTTY: false,
        stdinIsTTY: false,
        color: { out: plain, err: plain },
      },
      secrets,
    )
    reporter.step(SECRET)
    expect(writes).toEqual([`• ${SECRET}\n`])
  })

  it('SO-4: remote text is sanitised: no escape sequence, no line of its own, no "::" command', () => {
    const { reporter, writes } = setup()
    reporter.step('endpoint \u001b[31mred\u001b[0m\nforged')
    reporter.warn('code\u0007', 'bad\u202etext')
    reporter.notice('::warning::label', '::add-mask::value\r')
    expect(writes).toEqual([
      '• endpoint red\\nforged\n',
      'warning: bad\\u202etext (code\\x07)\n',
      '\\::warning::label\n  \\::add-mask::value\\r\n',
    ])
  })
})

describe('createReporter(): wait()', () => {
  it('off a TTY, writes one bullet line and its stop writes nothing', () => {
    vi.useFakeTimers()
    const { reporter, writes } = setup()
    const stop = reporter.wait('waiting for the callback on http://127.0.0.1:8484/callback')
    vi.advanceTimersByTime(1_000)
    stop()
    expect(writes).toEqual(['• waiting for the callback on http://127.0.0.1:8484/callback\n'])
  })

  it('on a TTY, draws a spinner frame every 100 ms on one line until stopped', () => {
    vi.useFakeTimers()
    const { reporter, writes } = setup({ tty: true })
    const stop = reporter.wait('waiting')
    expect(writes).toEqual(['\r⠙ waiting'])
    vi.advanceTimersByTime(100)
    expect(writes).toEqual(['\r⠙ waiting', '\r⠹ waiting'])
    vi.advanceTimersByTime(900)
    expect(writes.slice(1)).toEqual([
      '\r⠹ waiting',
      '\r⠸ waiting',
      '\r⠼ waiting',
      '\r⠴ waiting',
      '\r⠦ waiting',
      '\r⠧ waiting',
      '\r⠇ waiting',
      '\r⠏ waiting',
      '\r⠋ waiting',
      '\r⠙ waiting',
    ])
    stop()
    expect(writes.at(-1)).toBe('\r\u001b[2K')
    const count = writes.length
    vi.advanceTimersByTime(1_000)
    expect(writes).toHaveLength(count)
  })

  it('on a TTY, the frame is cyan and the text sanitised and redacted', () => {
    vi.useFakeTimers()
    const { reporter, writes } = setup({ tty: true, level: 1 })
    const stop = reporter.wait(`wait\n${SECRET}`)
    stop()
    expect(writes).toEqual([
      `\r\u001b[36m⠙\u001b[39m wait\\n[redacted ${SECRET.length} chars]`,
      '\r\u001b[2K',
    ])
  })

  it('the spinner timer does not keep the process alive', () => {
    vi.useFakeTimers()
    const unref = vi.fn()
    const setIntervalSpy = vi
      .spyOn(globalThis, 'setInterval')
      .mockImplementation(() => ({ unref }) as unknown as NodeJS.Timeout)
    const clearIntervalSpy = vi.spyOn(globalThis, 'clearInterval').mockImplementation(() => {})
    const { reporter } = setup({ tty: true })
    const stop = reporter.wait('waiting')
    expect(setIntervalSpy).toHaveBeenCalledTimes(1)
    expect(setIntervalSpy.mock.calls[0]?.[1]).toBe(100)
    expect(unref).toHaveBeenCalledTimes(1)
    stop()
    expect(clearIntervalSpy).toHaveBeenCalledTimes(1)
    setIntervalSpy.mockRestore()
    clearIntervalSpy.mockRestore()
  })
})
