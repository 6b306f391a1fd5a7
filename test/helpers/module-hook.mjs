// `node --import test/helpers/module-hook.mjs …`: appends every module URL the process resolves
// to the file named by MODULE_HOOK_LOG, one a line, so a test can check what a command loaded.
// The same file is the hooks module: register() runs it again on the loader thread.
import { appendFileSync } from 'node:fs'
import { register } from 'node:module'
import { isMainThread } from 'node:worker_threads'

let log

export function initialize(data) {
  log = data.log
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context)
  appendFileSync(log, `${result.url}\n`)
  return result
}

const file = process.env.MODULE_HOOK_LOG
if (isMainThread && file !== undefined && file !== '') {
  register(import.meta.url, { data: { log: file } })
}
