import type { Server } from 'node:http'

/** Why a port cannot be had: another socket holds it, or it is privileged (security.md LL-2). */
export type PortProblem = 'in use' | 'not allowed'

/** The port problem behind a `listen` error, or `undefined` when the error is something else. */
export function portProblem(error: unknown): PortProblem | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'EADDRINUSE') return 'in use'
  if (code === 'EACCES') return 'not allowed'
  return undefined
}

/**
 * Binds `server` to `host:port` and resolves with the bound port: the system's choice for port 0.
 * The host is required because `listen(port)` alone binds every interface (security.md LL-1); a
 * busy port rejects with Node's error at once, for `portProblem` to read, never another port
 * (security.md LL-2).
 */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    // exclusive: a cluster worker must not share a handle another process already listens on.
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject)
      const address = server.address()
      resolve(typeof address === 'object' && address !== null ? address.port : port)
    })
  })
}

/**
 * A function that stops `server` and ends every connection, keep-alive and half-sent ones included:
 * a plain `server.close()` waits for them forever (security.md LL-3). Every call returns the same
 * promise, so closing twice is safe.
 */
export function closer(server: Server): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()))
      server.closeAllConnections()
    })
    return closing
  }
}
