// A plain-HTTP authorization server on 127.0.0.1 whose token endpoint answers 200 with 50 MiB of
// JSON, chunked (no Content-Length), so the client can only refuse it while the bytes arrive
// (security.md HC-2). Everything else is the least `pkce login` needs to reach the exchange.
import { createServer } from 'node:http'

const MIB = 1024 * 1024

/** Starts the server; `sent()` is how many body bytes the token endpoint wrote before the hang-up. */
export async function startHugeTokenServer(total = 50 * MIB) {
  let sent = 0
  const sockets = new Set()
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin)
    if (url.pathname === '/.well-known/openid-configuration') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(
        JSON.stringify({
          issuer: `${origin}/`,
          authorization_endpoint: `${origin}/authorize`,
          token_endpoint: `${origin}/oauth/token`,
          jwks_uri: `${origin}/.well-known/jwks.json`,
          response_types_supported: ['code'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
        }),
      )
      return
    }
    if (url.pathname === '/authorize') {
      const back = new URL(url.searchParams.get('redirect_uri') ?? '')
      back.search = new URLSearchParams({
        code: 'bench-code',
        state: url.searchParams.get('state') ?? '',
      }).toString()
      response.writeHead(302, { location: back.href }).end()
      return
    }
    if (url.pathname === '/oauth/token') {
      request.resume()
      response.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const write = () => {
        while (sent < total) {
          sent += chunk.length
          if (!response.write(chunk)) return void response.once('drain', write)
        }
        response.end()
      }
      response.on('error', () => undefined)
      write()
      return
    }
    response.writeHead(404).end()
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${server.address().port}`
  return {
    issuer: `${origin}/`,
    sent: () => sent,
    reset: () => void (sent = 0),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(resolve)
      }),
  }
}
