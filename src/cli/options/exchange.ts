import type { Command } from 'commander'
import type { Ctx } from '../../context.js'
import { CliError } from '../../errors.js'
import type { ExchangeOptions } from '../../commands/exchange.js'
import type { CacheKey } from '../../commands/token-store.js'
import type { Client } from '../../oauth/client-auth.js'
import { addAssertionOptions, toAssertions } from './assertions.js'
import type { RawAssertionOptions } from './assertions.js'
import { addClientAuthOptions, toClientAuth } from './client-auth.js'
import type { RawClientAuthOptions } from './client-auth.js'
import { addDpopOptions, toDpopOptions } from './dpop.js'
import type { RawDpopOptions } from './dpop.js'
import { addHttpOptions, toHttpSettings } from './http.js'
import type { RawHttpOptions } from './http.js'
import { addRedirectOptions, toRedirectUri } from './listener.js'
import type { RawRedirectOptions } from './listener.js'
import { addTokenOutputOptions } from './output.js'
import type { RawTokenOutputOptions } from './output.js'
import { addExpectedRequestOptions, DEFAULT_SCOPE } from './request.js'
import { addTargetOptions, toClient, toIssuer } from './target.js'
import type { RawTargetOptions } from './target.js'
import { addSaveOption } from './store.js'
import type { RawSaveOptions } from './store.js'
import { addValidationOptions, toClockToleranceSeconds } from './validation.js'
import type { RawValidationOptions } from './validation.js'

// `pkce exchange`: the second leg, from `authorize`'s state file and the callback URL, or from a
// bare code and its verifier.

export interface RawExchangeOptions
  extends
    RawTargetOptions,
    RawClientAuthOptions,
    RawRedirectOptions,
    RawDpopOptions,
    RawHttpOptions,
    RawValidationOptions,
    RawAssertionOptions,
    RawTokenOutputOptions,
    RawSaveOptions {
  stateFile?: string
  callbackUrl?: string
  code?: string
  codeVerifierFile?: string
  scope?: string
  audience?: string
  maxAge?: number
  nonce?: string
}

/** `--state-file`: where `authorize` writes, and `exchange` reads, the flow's state. */
export function addStateFileOption(command: Command): Command {
  return command.option(
    '--state-file <path>',
    'the flow state file (mode 0600; authorize writes a fresh private one when not given)',
  )
}

export function addExchangeOptions(command: Command): Command {
  addStateFileOption(command)
    .option('--callback-url <url|->', 'the whole redirect URL from the address bar (- reads stdin)')
    .option('--code <code>', 'a bare authorization code (with --code-verifier-file and the target)')
    .option('--code-verifier-file <path|->', 'the code_verifier, from a file or stdin')
  return addSaveOption(
    addTokenOutputOptions(
      addValidationOptions(
        addAssertionOptions(
          addHttpOptions(
            addDpopOptions(
              addRedirectOptions(
                addExpectedRequestOptions(addClientAuthOptions(addTargetOptions(command))),
              ),
            ),
          ),
        ),
      ),
    ),
  )
}

/** The callback URL, from the flag or (with `-`) from a terminal prompt or stdin's first line. */
async function callbackText(value: string, ctx: Ctx): Promise<string> {
  if (value !== '-') return value
  if (ctx.io.stdinIsTTY) return ctx.io.readLine('Paste the callback URL: ', ctx.signal)
  return (await ctx.io.readStdin()).split(/\r?\n/u).find((line) => line.trim() !== '') ?? ''
}

const TARGET_FLAGS: [keyof RawExchangeOptions, string][] = [
  ['domain', '--domain'],
  ['issuer', '--issuer'],
  ['clientId', '--client-id'],
  ['clientSecretFile', '--client-secret-file'],
  ['clientAuth', '--client-auth'],
  ['dpop', '--dpop'],
  ['privateKeyFile', '--private-key-file'],
  ['redirectUri', '--redirect-uri'],
  ['port', '--port'],
  ['code', '--code'],
  ['codeVerifierFile', '--code-verifier-file'],
  ['scope', '--scope'],
  ['audience', '--audience'],
  ['maxAge', '--max-age'],
  ['nonce', '--nonce'],
  ['dpopKey', '--dpop-key'],
  ['dpopAlg', '--dpop-alg'],
]

async function fromStateFile(
  raw: RawExchangeOptions & { stateFile: string },
  ctx: Ctx,
): Promise<ExchangeOptions> {
  // SO-1 first: a secret on argv is refused as such, whatever else is wrong.
  if (raw.clientSecret !== undefined) await toClientAuth(raw, ctx)
  const given = TARGET_FLAGS.find(([name]) => raw[name] !== undefined)
  if (given !== undefined) {
    throw new CliError('usage_error', `--state-file holds the request already: drop ${given[1]}`)
  }
  if (raw.callbackUrl === undefined) {
    throw new CliError('usage_error', '--state-file needs --callback-url <url|->', {
      hint: 'the whole address the browser landed on, or what pkce relay printed; - reads it from stdin',
    })
  }
  const { readStateFile } = await import('../../commands/state-file.js')
  const { callbackFromText } = await import('../../commands/authorize-step.js')
  const state = await readStateFile(raw.stateFile, ctx)
  const url = callbackFromText(await callbackText(raw.callbackUrl, ctx), state.redirect_uri)
  const { method, file } = state.client_auth
  const tls = method === 'tls_client_auth' || method === 'self_signed_tls_client_auth'
  if (method !== 'none' && !tls && file === undefined) {
    throw new CliError('usage_error', `the state file ${raw.stateFile} names no file for ${method}`)
  }
  if (file === '-' && raw.callbackUrl === '-') {
    throw new CliError(
      'usage_error',
      'the client secret and the callback URL cannot both come from stdin',
      { hint: 'pass the URL itself: --callback-url <url>' },
    )
  }
  const auth = await toClientAuth(
    tls
      ? {
          clientAuth: method,
          ...(raw.clientCert === undefined ? {} : { clientCert: raw.clientCert }),
        }
      : file === undefined
        ? {}
        : method === 'private_key_jwt'
          ? { privateKeyFile: file }
          : {
              clientSecretFile: file,
              clientAuth:
                method === 'client_secret_basic' || method === 'client_secret_jwt'
                  ? method
                  : 'client_secret_post',
            },
    ctx,
  )
  return {
    target: { issuer: state.issuer, client: { client_id: state.client_id, auth } },
    redirectUri: state.redirect_uri,
    codeVerifier: state.code_verifier,
    source: { kind: 'callback', url, state: state.state },
    nonce: state.nonce ?? undefined,
    scope: state.scope,
    audience: state.audience ?? undefined,
    maxAgeSeconds: state.max_age ?? undefined,
    dpop:
      state.dpop === null
        ? undefined
        : {
            alg: state.dpop.alg,
            key: state.dpop.jwk,
            allowDowngrade: raw.allowDpopDowngrade === true,
          },
    http: await toHttpSettings(raw, raw.showTokens === true),
    clockToleranceSeconds: toClockToleranceSeconds(raw),
    assertions: toAssertions(raw),
    save:
      raw.save === true
        ? (await import('../../commands/token-store.js')).cacheKey(state.store_key)
        : undefined,
    stateFile: raw.stateFile,
    authorization: {
      authorization_url: state.authorization_url,
      code_challenge: state.code_challenge,
      par: state.par,
      started_at: new Date(state.created_at),
    },
  }
}

async function fromCode(raw: RawExchangeOptions, ctx: Ctx): Promise<ExchangeOptions> {
  if (raw.callbackUrl !== undefined) {
    throw new CliError(
      'usage_error',
      '--callback-url needs --state-file, which holds the request',
      {
        hint: 'pass --state-file <path> as pkce authorize printed, or --code with --code-verifier-file',
      },
    )
  }
  if (raw.code === undefined || raw.code === '' || raw.codeVerifierFile === undefined) {
    throw new CliError(
      'usage_error',
      'say what to exchange: --state-file with --callback-url, or --code with --code-verifier-file',
    )
  }
  const issuer = await toIssuer(raw)
  const client = await toClient(raw, ctx)
  const { readSecret } = await import('../../commands/inputs.js')
  const { checkCodeVerifier } = await import('../../oauth/pkce.js')
  const codeVerifier = checkCodeVerifier(
    await readSecret(raw.codeVerifierFile, 'the code_verifier', ctx),
  )
  return {
    target: { issuer, client },
    redirectUri: (await toRedirectUri(raw, ctx.env)).href,
    codeVerifier,
    source: { kind: 'code', code: raw.code },
    nonce: raw.nonce,
    scope: raw.scope ?? DEFAULT_SCOPE,
    audience: raw.audience,
    maxAgeSeconds: raw.maxAge,
    dpop: await toDpopOptions(raw, ctx),
    http: await toHttpSettings(raw, raw.showTokens === true),
    clockToleranceSeconds: toClockToleranceSeconds(raw),
    assertions: toAssertions(raw),
    save: raw.save === true ? await codeModeKey(raw, issuer, client) : undefined,
    stateFile: undefined,
    authorization: null,
  }
}

/** `--save` with a bare code: the entry named by the flags given, as `pkce token` names it. */
async function codeModeKey(
  raw: RawExchangeOptions,
  issuer: string,
  client: Client,
): Promise<CacheKey> {
  const { authorizationRequestWith } = await import('../../commands/authorize-step.js')
  const { storeKeyFor } = await import('../../commands/token-cache.js')
  const { cacheKey } = await import('../../commands/token-store.js')
  const request = authorizationRequestWith({
    scope: raw.scope ?? DEFAULT_SCOPE,
    audience: raw.audience,
  })
  return cacheKey(storeKeyFor({ issuer, client }, request, raw.dpop === true))
}

/** Every input read and checked here, before any request: the state file, the callback, secrets. */
export async function toExchangeOptions(
  raw: RawExchangeOptions,
  ctx: Ctx,
): Promise<ExchangeOptions> {
  const { stateFile } = raw
  return stateFile === undefined ? fromCode(raw, ctx) : fromStateFile({ ...raw, stateFile }, ctx)
}
