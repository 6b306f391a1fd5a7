import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import {
  addRequestOptions,
  DEFAULT_SCOPE,
  toAuthorizationDetails,
  toAuthorizationRequest,
  toParams,
} from '../../../src/cli/options/request.js'
import type { RawRequestOptions } from '../../../src/cli/options/request.js'
import { caught, rejection } from '../../helpers/cli-error.js'
import { withTempFiles } from '../../helpers/temp-files.js'
import { testCtx } from '../../helpers/test-ctx.js'

const NOT_DETAILS =
  '--authorization-details must be a JSON array of objects, each with a string "type" (RFC 9396 §2)'
// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'

const files = withTempFiles('pkce-request-')

function parse(argv: string[]): RawRequestOptions {
  const command = addRequestOptions(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
  command.parse(argv, { from: 'user' })
  return command.opts<RawRequestOptions>()
}

describe('toAuthorizationDetails() https://www.rfc-editor.org/rfc/rfc9396#section-2', () => {
  it('is undefined when not given', async () => {
    expect(await toAuthorizationDetails(undefined)).toBeUndefined()
  })

  it('sends inline JSON compact', async () => {
    expect(
      await toAuthorizationDetails(
        '[ { "type": "payment_initiation", "amount": { "value": 1 } } ]',
      ),
    ).toBe('[{"type":"payment_initiation","amount":{"value":1}}]')
  })

  it('reads @file and sends it compact', async () => {
    const path = await files.file(
      'details.json',
      '[\n  {"type": "account_information"},\n  {"type": "x"}\n]\n',
    )
    expect(await toAuthorizationDetails(`@${path}`)).toBe(
      '[{"type":"account_information"},{"type":"x"}]',
    )
  })

  it('fails on an @file it cannot read', async () => {
    const path = files.path('missing.json')
    const error = await rejection(toAuthorizationDetails(`@${path}`))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(`cannot read --authorization-details file ${path} (ENOENT)`)
  })

  it('refuses what is not JSON', async () => {
    const error = await rejection(toAuthorizationDetails("[{type:'x'}]"))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe('--authorization-details is not valid JSON')
    expect(error.hint).toBe('e.g. \'[{"type":"payment_initiation"}]\' or @details.json')
  })

  it.each([
    '{"type":"payment_initiation"}',
    '[]',
    '[{"type":1}]',
    '[{"kind":"x"}]',
    '[null]',
    '[["type"]]',
    '["payment_initiation"]',
    '[{"type":"x"},{}]',
  ])('refuses %s: not an array of objects with a string type', async (value) => {
    const error = await rejection(toAuthorizationDetails(value))
    expect(error.code).toBe('usage_error')
    expect(error.message).toBe(NOT_DETAILS)
  })
})

describe('toParams() (docs/security.md AR-1)', () => {
  it('keeps other parameters, in order', () => {
    const pairs: [string, string][] = [
      ['acr_values', 'urn:mfa'],
      ['ui_locales', 'fr'],
      ['acr_values', 'urn:pwd'],
    ]
    expect(toParams(pairs)).toEqual(pairs)
    expect(toParams(undefined)).toEqual([])
  })

  it.each([
    'response_type',
    'client_id',
    'redirect_uri',
    'scope',
    'state',
    'nonce',
    'code_challenge',
    'code_challenge_method',
    'request_uri',
    'dpop_jkt',
  ])('refuses %s, which pkce sets itself, with protected_parameter', (name) => {
    const error = caught(() =>
      toParams([
        ['ext-a', '1'],
        [name, 'x'],
      ]),
    )
    expect(error.code).toBe('protected_parameter')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(`"${name}" is set by pkce itself and cannot be passed with --param`)
    expect(error.hint).toBe(`use the flag for it, or drop --param ${name}=…`)
  })
})

describe('toAuthorizationRequest()', () => {
  it('applies the default scope and leaves every other field unset', async () => {
    const ctx = testCtx()
    expect(await toAuthorizationRequest({}, ctx)).toStrictEqual({
      scope: 'openid profile email',
      audience: undefined,
      resources: [],
      organization: undefined,
      invitation: undefined,
      connection: undefined,
      prompt: undefined,
      maxAgeSeconds: undefined,
      loginHint: undefined,
      responseMode: undefined,
      authorizationDetails: undefined,
      params: [],
      codeVerifier: undefined,
      state: undefined,
      nonce: undefined,
      par: false,
    })
    expect(DEFAULT_SCOPE).toBe('openid profile email')
    expect(ctx.stderr()).toBe('')
  })

  it('maps every flag to its typed field', async () => {
    const ctx = testCtx()
    expect(
      await toAuthorizationRequest(
        {
          audience: 'https://api.test/',
          resource: ['https://r1.test/', 'https://r2.test/'],
          scope: 'openid offline_access',
          organization: 'org_1',
          invitation: 'inv_1',
          connection: 'github',
          prompt: 'login',
          maxAge: 0,
          loginHint: 'me@example.com',
          responseMode: 'query',
          authorizationDetails: '[ {"type":"x"} ]',
          param: [['acr_values', 'urn:mfa']],
          codeVerifier: VERIFIER,
          state: 'fixed-state',
          nonce: 'fixed-nonce',
          par: true,
        },
        ctx,
      ),
    ).toStrictEqual({
      scope: 'openid offline_access',
      audience: 'https://api.test/',
      resources: ['https://r1.test/', 'https://r2.test/'],
      organization: 'org_1',
      invitation: 'inv_1',
      connection: 'github',
      prompt: 'login',
      maxAgeSeconds: 0,
      loginHint: 'me@example.com',
      responseMode: 'query',
      authorizationDetails: '[{"type":"x"}]',
      params: [['acr_values', 'urn:mfa']],
      codeVerifier: VERIFIER,
      state: 'fixed-state',
      nonce: 'fixed-nonce',
      par: true,
    })
  })

  it('warns code_verifier_on_argv for a fixed verifier', async () => {
    const ctx = testCtx()
    await toAuthorizationRequest({ codeVerifier: VERIFIER }, ctx)
    expect(ctx.events).toEqual(['warn code_verifier_on_argv'])
    expect(ctx.stderr()).toBe(
      'warning: --code-verifier is visible to other local users (ps); use it only for reproducible debugging (code_verifier_on_argv)\n',
    )
  })

  it('refuses a verifier that is too short with code_verifier_invalid, before warning', async () => {
    const ctx = testCtx()
    const error = await rejection(toAuthorizationRequest({ codeVerifier: 'short' }, ctx))
    expect(error.code).toBe('code_verifier_invalid')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe('a code_verifier is 43 to 128 characters long, not 5')
    expect(error.hint).toBe('RFC 7636 §4.1')
    expect(ctx.events).toEqual([])
  })

  it('refuses a verifier with characters outside the unreserved set', async () => {
    const error = await rejection(
      toAuthorizationRequest({ codeVerifier: `${VERIFIER.slice(0, 42)}+` }, testCtx()),
    )
    expect(error.code).toBe('code_verifier_invalid')
    expect(error.message).toBe('a code_verifier may contain only A-Z, a-z, 0-9 and "-._~"')
  })

  it('refuses a protected --param', async () => {
    const error = await rejection(toAuthorizationRequest({ param: [['state', 'x']] }, testCtx()))
    expect(error.code).toBe('protected_parameter')
  })
})

describe('addRequestOptions()', () => {
  it('gives no defaults, so the converter can tell "not given"', () => {
    expect(parse([])).toEqual({})
  })

  it('collects repeated --resource and --param key=value pairs, splitting at the first =', () => {
    expect(
      parse([
        '--resource',
        'https://r1.test/',
        '--resource',
        'https://r2.test/',
        '--param',
        'claims={"a":1}',
        '--param',
        'x=a=b',
        '--param',
        'empty=',
        '--max-age',
        '0',
      ]),
    ).toEqual({
      resource: ['https://r1.test/', 'https://r2.test/'],
      param: [
        ['claims', '{"a":1}'],
        ['x', 'a=b'],
        ['empty', ''],
      ],
      maxAge: 0,
    })
  })

  it.each(['novalue', '=x'])('refuses --param %s', (value) => {
    expect(() => parse(['--param', value])).toThrow(
      `option '--param <key=value>' argument '${value}' is invalid. expected key=value`,
    )
  })
})
