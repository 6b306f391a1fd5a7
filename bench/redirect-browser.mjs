// The "browser" of the 50 MiB case: GETs the authorization URL (the last argument) and then the
// loopback callback it redirects to, as a browser would.
const response = await fetch(process.argv.at(-1) ?? '', { redirect: 'manual' })
const location = response.headers.get('location')
if (location !== null) await (await fetch(location)).text()
