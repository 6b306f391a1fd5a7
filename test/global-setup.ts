/** Runs once before the workers start: they inherit this environment. */
export default function setup(): void {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('PKCE_')) delete process.env[name]
  }
  delete process.env.NODE_EXTRA_CA_CERTS
  // Set on GitHub's runners; a test that wants the ::add-mask:: lines sets it itself.
  delete process.env.GITHUB_ACTIONS
}
