import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { fetch } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { closer, listen, portProblem } from '../../src/net/listen.js'

const servers: Server[] = []

function server(): Server {
  const created = createServer((_req, res) => res.end('ok'))
  servers.push(created)
  return created
}

afterEach(async () => {
  for (const created of servers.splice(0)) {
    if (created.listening) await closer(created)()
  }
})

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket))
    socket.once('error', reject)
  })
}

function closedSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()))
}

describe('listen()', () => {
  it('LL-2: port 0 resolves with the port the system picked, bound to the host asked for', async () => {
    const listening = server()
    const port = await listen(listening, '127.0.0.1', 0)
    expect(port).toBeGreaterThan(0)
    expect(listening.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port })
    expect(listening.listenerCount('error')).toBe(0)
    const response = await fetch(`http://127.0.0.1:${port}/`)
    expect(await response.text()).toBe('ok')
  })

  it('LL-2: a busy port rejects with EADDRINUSE at once, which portProblem() calls in use', async () => {
    const squatter = server()
    const port = await listen(squatter, '127.0.0.1', 0)
    const late = server()
    const error = await listen(late, '127.0.0.1', port).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'EADDRINUSE', port, address: '127.0.0.1' })
    expect(portProblem(error)).toBe('in use')
    expect(late.listening).toBe(false)
    expect(late.listenerCount('error')).toBe(0)
  })
})

describe('portProblem()', () => {
  it('names a taken port and a privileged one, and nothing else', () => {
    expect(portProblem(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }))).toBe(
      'in use',
    )
    expect(portProblem(Object.assign(new Error('listen EACCES'), { code: 'EACCES' }))).toBe(
      'not allowed',
    )
    expect(
      portProblem(Object.assign(new Error('listen EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' })),
    ).toBeUndefined()
    expect(portProblem(new Error('no code'))).toBeUndefined()
    expect(portProblem(null)).toBeUndefined()
    expect(portProblem(undefined)).toBeUndefined()
  })
})

describe('closer()', () => {
  it('LL-3: ends idle keep-alive and half-sent requests, then frees the port', async () => {
    const listening = server()
    const port = await listen(listening, '127.0.0.1', 0)
    const keepAlive = await connected(port)
    keepAlive.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n')
    await new Promise((resolve) => keepAlive.once('data', resolve))
    const halfSent = await connected(port)
    // Headers without their blank line: a plain server.close() would wait for it forever.
    halfSent.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const bothClosed = Promise.all([closedSocket(keepAlive), closedSocket(halfSent)])

    await closer(listening)()
    await bothClosed
    expect(listening.listening).toBe(false)

    const next = server()
    expect(await listen(next, '127.0.0.1', port)).toBe(port)
  })

  it('returns the same promise on every call, so closing twice is safe', async () => {
    const listening = server()
    await listen(listening, '127.0.0.1', 0)
    const close = closer(listening)
    const first = close()
    expect(close()).toBe(first)
    await first
    await expect(close()).resolves.toBeUndefined()
  })

  it('rejects with Node’s error for a server that is not listening', async () => {
    await expect(closer(server())()).rejects.toMatchObject({ code: 'ERR_SERVER_NOT_RUNNING' })
  })
})
