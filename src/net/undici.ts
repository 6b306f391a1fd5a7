// The parts of undici a run uses, loaded together on the first request, each from its own file:
// undici's index loads all the package has (mock agents, proxies, caches, WebSocket, EventSource),
// and its cookie helpers touch the global Headers, which loads Node's own copy of undici as well.
// That was some 40 ms of a login's start (issue 20). Types: `undici-internals.d.ts`.
import Agent from 'undici/lib/dispatcher/agent.js'
import buildConnector from 'undici/lib/core/connect.js'
import { fetch } from 'undici/lib/web/fetch/index.js'
import { Response } from 'undici/lib/web/fetch/response.js'

export { Agent, buildConnector, fetch, Response }
