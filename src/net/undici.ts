// The parts of undici a run uses, loaded together on the first request. A static re-export, so
// the bundle keeps undici's named exports: a dynamic import() of a CommonJS package would give
// only its default export there.
export { Agent, buildConnector, fetch, Response } from 'undici'
