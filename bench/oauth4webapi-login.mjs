// The bench's yardstick for `pkce login` (issue 20): a minimal OpenID Connect client written the
// way oauth4webapi's README writes one. Same requests as `pkce login --client-id <id>` with a
// public client: discovery, PKCE S256, state and nonce, a loopback listener on 127.0.0.1 (port 0),
// the same `--browser` command, the code exchange with the ID token's claims checked; the access
// token on stdout. It checks less than pkce does (no ID token signature, no report), and it uses
// Node's global fetch, trusting what Node trusts (its roots and NODE_EXTRA_CA_CERTS).
//
//   node bench/oauth4webapi-login.mjs <issuer> <client_id> <browser command words...>
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import * as oauth from 'oauth4webapi'

const [issuerArg, clientId, ...browser] = process.argv.slice(2)
if (issuerArg === undefined || clientId === undefined || browser.length === 0) {
  throw new Error('usage: oauth4webapi-login.mjs <issuer> <client_id> <browser command...>')
}

const issuer = new URL(issuerArg)
const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { algorithm: 'oidc' }),
)
const client = { client_id: clientId }
const codeVerifier = oauth.generateRandomCodeVerifier()
const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier)
const state = oauth.generateRandomState()
const nonce = oauth.generateRandomNonce()

// RFC 8252 §7.3: a loopback listener on a port the system picks.
const server = createServer()
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const redirectUri = `http://127.0.0.1:${server.address().port}/callback`
const callback = new Promise((resolve) => {
  server.on('request', (request, response) => {
    const url = new URL(request.url ?? '/', redirectUri)
    if (request.method !== 'GET' || url.pathname !== '/callback') {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.\n')
    resolve(url)
  })
})

const authorizationUrl = new URL(as.authorization_endpoint)
for (const [name, value] of Object.entries({
  response_type: 'code',
  client_id: clientId,
  redirect_uri: redirectUri,
  scope: 'openid profile email',
  state,
  nonce,
  code_challenge: codeChallenge,
  code_challenge_method: 'S256',
})) {
  authorizationUrl.searchParams.set(name, value)
}
process.stderr.write(`Open this URL to sign in:\n  ${authorizationUrl.href}\n`)
const child = spawn(browser[0], [...browser.slice(1), authorizationUrl.href], {
  stdio: 'ignore',
  detached: true,
})
child.once('spawn', () => child.unref())

const params = oauth.validateAuthResponse(as, client, await callback, state)
server.closeAllConnections()
server.close()
const response = await oauth.authorizationCodeGrantRequest(
  as,
  client,
  oauth.None(),
  params,
  redirectUri,
  codeVerifier,
)
const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
  expectedNonce: nonce,
  requireIdToken: true,
})
process.stdout.write(`${result.access_token}\n`)
