// lib/options.js: shape checks, and that only what the user set crosses into Rust (the core owns defaults).
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const require = createRequire(import.meta.url)
const { DEFAULTS, resolveVerifierOptions, resolveMiddlewareOptions } = require('../../lib/options.js')

const defined = (object) => Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined))

test('with nothing set, nothing but the key-set location crosses into Rust', () => {
  const { native, tokenCache, sessions } = resolveVerifierOptions({ jwksHost: 'https://x.hanko.io' })
  assert.deepEqual(defined(native), { jwksHost: 'https://x.hanko.io', jwksUriSource: 'jwksHost' })
  assert.deepEqual(tokenCache, { maxEntries: DEFAULTS.tokenCacheMaxEntries })
  assert.equal(sessions, false)
})

test('units are parsed, lists copied, validateSession passed as set', () => {
  const { native } = resolveVerifierOptions({
    jwksUri: 'https://x/jwks',
    jwksHost: 'https://x',
    maxTokenAge: '12h',
    audience: 'app',
    validateSession: { ttl: 5 },
  })
  assert.equal(native.maxTokenAge, 43200)
  assert.deepEqual(native.audience, ['app'])
  assert.deepEqual(defined(native.validateSession), { ttl: 5 })
  assert.equal(native.jwksUriSource, 'jwksUri')
})

test('HANKO_API_URL is the host when neither jwksHost nor jwksUri is given', () => {
  const saved = process.env.HANKO_API_URL
  process.env.HANKO_API_URL = 'https://env.hanko.io'
  try {
    const { native } = resolveVerifierOptions({})
    assert.deepEqual([native.jwksHost, native.jwksUriSource], ['https://env.hanko.io', 'HANKO_API_URL'])
  } finally {
    if (saved === undefined) delete process.env.HANKO_API_URL
    else process.env.HANKO_API_URL = saved
  }
})

test('the defaults come from the core and match README: Options', () => {
  assert.deepEqual(DEFAULTS.algorithms, ['RS256'])
  assert.deepEqual(DEFAULTS.requiredClaims, ['sub', 'exp'])
  assert.deepEqual(DEFAULTS.jwks, {
    cacheMaxAge: 600000,
    minCacheAge: 30000,
    maxCacheAge: 86400000,
    cooldown: 30000,
    timeout: 5000,
    maxStale: 86400000,
    maxBytes: 1048576,
  })
  assert.equal(DEFAULTS.tokenCacheMaxEntries, 10000)
  assert.deepEqual(DEFAULTS.session, { ttl: 30000, maxEntries: 10000, failOpen: false })
  assert.equal(DEFAULTS.maxTokenBytes, 16384)
})

test('middleware options: defaults for its own, both call forms, errors name the option', () => {
  const a = resolveMiddlewareOptions('https://x', { cookieName: 'sid' })
  assert.deepEqual([a.verifierOptions, a.cookieName, a.credentialsRequired, a.requestProperty], [{ jwksHost: 'https://x' }, 'sid', true, 'auth'])
  const b = resolveMiddlewareOptions({ jwksHost: 'https://x', credentialsRequired: false })
  assert.deepEqual([b.cookieName, b.credentialsRequired], ['hanko', false])
  assert.throws(() => resolveMiddlewareOptions('https://x', { secret: 's' }), /unknown option "secret": hanko-auth fetches the signing keys/)
  assert.throws(() => resolveMiddlewareOptions('https://x', { cookieName: 'a b' }), /cookieName/)
  assert.throws(() => resolveMiddlewareOptions(5), /first argument/)
})
