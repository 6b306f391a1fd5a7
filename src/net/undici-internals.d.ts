// The files of undici that `undici.ts` imports directly, typed with the package's own types. The
// lockfile pins undici; the HTTP tests run through these files, so a moved one fails them.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici'
  const AgentClass: typeof Agent
  export default AgentClass
}

declare module 'undici/lib/core/connect.js' {
  import type { buildConnector } from 'undici'
  const build: typeof buildConnector
  export default build
}

declare module 'undici/lib/web/fetch/index.js' {
  export { fetch } from 'undici'
}

declare module 'undici/lib/web/fetch/response.js' {
  export { Response } from 'undici'
}
