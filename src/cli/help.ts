import { EXIT } from '../errors.js'

export const EXIT_CODES_HELP = `Exit codes

  ${EXIT.ok}    success: every check passed (warnings allowed)
  ${EXIT.internal}    internal error: a bug in pkce (re-run with --debug and report it)
  ${EXIT.usage}    usage: unknown flag, missing or bad value, refused setting, missing input
  ${EXIT.oauth}    the authorization server returned an OAuth error (error= in the redirect,
       or an error body from the PAR, token or UserInfo endpoint)
  ${EXIT.protocol}    validation or protocol failure: state or iss mismatch, malformed response,
       invalid or unverifiable JWT, failed --expect-* assertion
  ${EXIT.network}    network failure or timeout, the callback wait and a busy port included
  ${EXIT.interrupted}  interrupted (Ctrl-C); the listener is closed first

With --json, the failure document's error.code names the exact failure (e.g. state_mismatch).
`

export const LOGIN_EXAMPLES = `
Examples:
  # Sign in to an Auth0 tenant with a public (Native) application
  $ pkce login --domain acme.eu.auth0.com --client-id abc123

  # Ask for a JWT access token for an API, and a refresh token
  $ pkce login --domain acme.eu.auth0.com --client-id abc123 \\
      --audience https://api.acme.test/ --scope "openid profile offline_access"

  # A confidential client, secret read from a file
  $ pkce login --domain acme.eu.auth0.com --client-id abc123 --client-secret-file ./secret.txt

  # In a script: just the access token
  $ TOKEN=$(pkce login --issuer https://id.example.com/ --client-id abc --print access_token)

  # Over SSH, with the browser on your laptop: paste the URL it lands on
  $ pkce login --domain acme.eu.auth0.com --client-id abc123 --paste

  # In CI: a test user signs in through the real login page in headless Chromium
  $ pkce login --domain acme.eu.auth0.com --client-id abc123 --headless \\
      --username ci-user@example.com --password-file ./password.txt --screenshot-dir shots

Register the redirect URI (default http://127.0.0.1:8484/callback) in the application's
Allowed Callback URLs: Auth0 compares it exactly, port included.
`

export const AUTHORIZE_EXAMPLES = `
Examples:
  # On the machine without a browser (a server, a container, CI)
  $ STATE=$(pkce authorize --domain acme.eu.auth0.com --client-id abc123)

  # On a machine with a browser, run the command authorize printed; it prints the callback URL
  $ pkce relay 'https://acme.eu.auth0.com/authorize?...'

  # Back on the first machine, paste that URL
  $ pkce exchange --state-file "$STATE" --callback-url -

stdout is the state file's path; the URL and the relay command are on stderr.
`

export const EXCHANGE_EXAMPLES = `
Examples:
  # Finish a login started by pkce authorize (the URL from the browser or from pkce relay)
  $ pkce exchange --state-file /tmp/pkce-flow-abc/state.json --callback-url 'http://127.0.0.1:8484/callback?code=...&state=...'

  # Only the code at hand (the verifier is a secret: from a file, never argv)
  $ pkce exchange --domain acme.eu.auth0.com --client-id abc123 --code "$CODE" \\
      --code-verifier-file verifier.txt --redirect-uri http://127.0.0.1:8484/callback
`

export const PAR_EXAMPLES = `
Examples:
  # Push a request (Auth0 needs a confidential client for PAR) and print the request_uri
  $ pkce par --domain acme.eu.auth0.com --client-id abc123 --client-secret-file ./secret.txt

  # Push, then open the browser and finish the flow, with DPoP-bound tokens
  $ pkce par --open --dpop --domain acme.eu.auth0.com --client-id abc123 --private-key-file key.pem

  # Rich authorization request (RFC 9396)
  $ pkce par --domain acme.eu.auth0.com --client-id abc123 --client-secret-file ./secret.txt \\
      --authorization-details '[{"type":"payment_initiation","amount":"10.00"}]'
`

export const SANDBOX_HELP = `
Examples:
  # A tenant on http://127.0.0.1:4000/ until Ctrl-C; then, in another terminal:
  $ pkce sandbox
  $ pkce login --issuer http://127.0.0.1:4000/ --client-id sandbox-public

  # For CI: a free port, machine-readable ready document, headless sign-in
  $ pkce sandbox --port 0 --json > sandbox.json &
  $ pkce login --issuer "$(jq -r .issuer sandbox.json)" --client-id sandbox-public \\
      --browser "pkce sandbox-user" --print access_token

The config file (--config) is JSON with optional "users", "clients", "audiences" and
"organizations" arrays; sections it omits keep the defaults shown in the ready output.
`

export const TOKEN_EXAMPLES = `
Examples:
  # Once: sign in and keep the tokens (offline_access lets pkce token renew them)
  $ pkce login --domain acme.eu.auth0.com --client-id abc123 --audience https://api.acme.test/ \\
      --scope "openid offline_access" --save

  # Every time after: a valid access token, refreshed when it is about to expire
  $ curl -H "Authorization: Bearer $(pkce token --domain acme.eu.auth0.com --client-id abc123 \\
      --audience https://api.acme.test/ --scope "openid offline_access")" https://api.acme.test/orders

  # What is stored (never a token)
  $ pkce token --list
`
