'use strict'

// Option checking: shapes, ranges, unit parsing and migration hints, at creation, with an error that
// names the option. Defaults are not written here: the core owns them (`defaults()`), and only what the
// user set crosses into Rust.

const { binding } = require('./loader.js')
const { seconds } = require('./durations.js')

/** The core's defaults and tables, read once. */
const DEFAULTS = Object.freeze(binding.defaults())

const JWKS_TIMES = Object.keys(DEFAULTS.jwks)

const VERIFIER_OPTIONS = new Set([
  'jwksHost',
  'jwksUri',
  'algorithms',
  'audience',
  'issuer',
  'subject',
  'clockTolerance',
  'maxTokenAge',
  'requiredClaims',
  'typ',
  'jwks',
  'tokenCache',
  'validateSession',
  'revocations',
  'allowInsecureHttp',
])
const MIDDLEWARE_OPTIONS = new Set(['cookieName', 'credentialsRequired', 'requestProperty', 'getToken', 'isRevoked'])

// Hints for options people bring over from express-jwt / jwks-rsa.
const MIGRATION_HINTS = {
  secret: 'hanko-auth fetches the signing keys from the JWKS itself; pass the Hanko API URL as jwksHost',
  cache: 'key caching is built in; tune it with the `jwks` option',
  rateLimit: 'unknown-kid refetches are limited by `jwks.cooldown`',
  jwksRequestsPerMinute: 'unknown-kid refetches are limited by `jwks.cooldown`',
  onExpired: 'expired tokens always fail; use clockTolerance for leeway',
}

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

function checkKeys(options, allowed, where) {
  for (const key of Object.keys(options)) {
    if (allowed.has(key)) continue
    const hint = MIGRATION_HINTS[key] ? `: ${MIGRATION_HINTS[key]}` : ''
    throw new TypeError(`${where}: unknown option "${key}"${hint}`)
  }
}

function integer(value, name, min, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return undefined
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`)
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}`)
  return value
}

function stringList(value, name) {
  if (value === undefined) return undefined
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new TypeError(`${name} must be a non-empty string or a non-empty array of non-empty strings`)
  }
  return [...list]
}

function optionalString(value, name) {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`)
  return value
}

function boolean(value, name) {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`)
  return value
}

function jwksOptions(jwks) {
  if (jwks === undefined) return {}
  if (!isPlainObject(jwks)) throw new TypeError('jwks must be an object')
  checkKeys(jwks, new Set([...JWKS_TIMES, 'headers']), 'jwks')
  const out = {}
  for (const name of JWKS_TIMES) {
    const min = name === 'timeout' || name === 'maxBytes' ? 1 : 0
    out[name] = integer(jwks[name], `jwks.${name}`, min, name === 'timeout' ? 600_000 : Number.MAX_SAFE_INTEGER)
  }
  if ((out.minCacheAge ?? DEFAULTS.jwks.minCacheAge) > (out.maxCacheAge ?? DEFAULTS.jwks.maxCacheAge)) {
    throw new RangeError('jwks.minCacheAge must not exceed jwks.maxCacheAge')
  }
  if (jwks.headers !== undefined) {
    if (!isPlainObject(jwks.headers)) throw new TypeError('jwks.headers must be an object of strings')
    for (const [key, value] of Object.entries(jwks.headers)) {
      if (typeof value !== 'string') throw new TypeError(`jwks.headers["${key}"] must be a string`)
    }
    // Header names and values are judged by the HTTP client in Rust (it says which one is wrong).
    out.headers = { ...jwks.headers }
  }
  return out
}

function validateSessionOptions(value) {
  if (value === undefined || value === false) return undefined
  if (value !== true && !isPlainObject(value)) throw new TypeError('validateSession must be true, false or { ttl, maxEntries, failOpen }')
  const settings = value === true ? {} : value
  checkKeys(settings, new Set(['ttl', 'maxEntries', 'failOpen']), 'validateSession')
  return {
    ttl: integer(settings.ttl, 'validateSession.ttl', 1),
    maxEntries: integer(settings.maxEntries, 'validateSession.maxEntries', 1, 10_000_000),
    failOpen: boolean(settings.failOpen, 'validateSession.failOpen'),
  }
}

function tokenCacheOptions(value) {
  if (value === undefined || value === true) return { maxEntries: DEFAULTS.tokenCacheMaxEntries }
  if (value === false) return null
  if (!isPlainObject(value)) throw new TypeError('tokenCache must be false or { maxEntries }')
  checkKeys(value, new Set(['maxEntries']), 'tokenCache')
  return { maxEntries: integer(value.maxEntries, 'tokenCache.maxEntries', 1, 10_000_000) ?? DEFAULTS.tokenCacheMaxEntries }
}

function algorithmList(value) {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0) throw new TypeError('algorithms must be a non-empty array')
  for (const alg of value) {
    if (typeof alg === 'string' && (alg.toLowerCase() === 'none' || /^HS/i.test(alg))) {
      throw new TypeError(`algorithms: ${JSON.stringify(alg)} is never allowed (only asymmetric algorithms can be verified against a JWKS)`)
    }
    if (!DEFAULTS.supportedAlgorithms.includes(alg)) {
      throw new TypeError(`algorithms: ${JSON.stringify(alg)} is not supported; use ${DEFAULTS.supportedAlgorithms.join(', ')}`)
    }
  }
  return [...value]
}

function claimList(value) {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || !value.every((c) => typeof c === 'string' && c.length > 0)) {
    throw new TypeError('requiredClaims must be an array of claim names')
  }
  return [...value]
}

/** A RevocationList, or anything with a synchronous isRevoked(claims) (judged by shape, not instanceof). */
function revocationsOption(value) {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object' || typeof value.isRevoked !== 'function') {
    throw new TypeError('revocations must be a revocation list (createRevocationList()) or an object with isRevoked(claims)')
  }
  return value
}

/** Where the key set is: `jwksUri`, else under `jwksHost`, else under HANKO_API_URL (README: Local verification and revocation). */
function keySetLocation(options) {
  const jwksUri = optionalString(options.jwksUri, 'jwksUri')
  const host =
    options.jwksHost !== undefined ? optionalString(options.jwksHost, 'jwksHost') : jwksUri === undefined ? process.env.HANKO_API_URL || undefined : undefined
  if (jwksUri === undefined && host === undefined) {
    throw new TypeError('jwksHost is required: pass the Hanko API URL (or set jwksUri, or the HANKO_API_URL environment variable)')
  }
  const jwksUriSource = jwksUri !== undefined ? 'jwksUri' : options.jwksHost !== undefined ? 'jwksHost' : 'HANKO_API_URL'
  return { jwksUri, jwksHost: host, jwksUriSource }
}

/** Checks verifier options. Returns what crosses into Rust (only what was set) and the JS-side parts. */
function resolveVerifierOptions(options = {}, where = 'createVerifier') {
  if (!isPlainObject(options)) throw new TypeError(`${where}: options must be an object`)
  checkKeys(options, VERIFIER_OPTIONS, where)
  const validateSession = validateSessionOptions(options.validateSession)
  const native = {
    ...keySetLocation(options),
    allowInsecureHttp: boolean(options.allowInsecureHttp, 'allowInsecureHttp'),
    algorithms: algorithmList(options.algorithms),
    audience: stringList(options.audience, 'audience'),
    issuer: stringList(options.issuer, 'issuer'),
    subject: optionalString(options.subject, 'subject'),
    clockTolerance: options.clockTolerance === undefined ? undefined : seconds(options.clockTolerance, 'clockTolerance'),
    maxTokenAge: options.maxTokenAge === undefined ? undefined : seconds(options.maxTokenAge, 'maxTokenAge'),
    requiredClaims: claimList(options.requiredClaims),
    typ: optionalString(options.typ, 'typ'),
    validateSession,
    ...jwksOptions(options.jwks),
  }
  return {
    native,
    tokenCache: tokenCacheOptions(options.tokenCache),
    sessions: validateSession !== undefined,
    revocations: revocationsOption(options.revocations),
  }
}

// RFC 6265 §4.1.1 cookie-name token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** `(jwksHost?, options?)` or `(options)`, as `hankoAuth` and `hankoWebhooks` take them: one options object. */
function splitArguments(first, second, where) {
  let options
  if (typeof first === 'string' || first === undefined || first === null) {
    if (second !== undefined && !isPlainObject(second)) throw new TypeError(`${where}: options must be an object`)
    options = { ...(second ?? {}) }
    if (typeof first === 'string') {
      if (options.jwksHost !== undefined) throw new TypeError(`${where}: jwksHost given twice`)
      options.jwksHost = first
    }
  } else if (isPlainObject(first)) {
    if (second !== undefined) throw new TypeError(`${where}: pass either (jwksHost, options) or (options)`)
    options = { ...first }
  } else {
    throw new TypeError(`${where}: the first argument must be the Hanko API URL (a string) or an options object`)
  }
  return options
}

/** Splits `hankoAuth(jwksHost?, options?)` / `hankoAuth(options)` and checks the middleware's own options. */
function resolveMiddlewareOptions(first, second) {
  const options = splitArguments(first, second, 'hankoAuth')
  checkKeys(options, new Set([...VERIFIER_OPTIONS, ...MIDDLEWARE_OPTIONS]), 'hankoAuth')
  const verifierOptions = {}
  for (const key of VERIFIER_OPTIONS) if (options[key] !== undefined) verifierOptions[key] = options[key]
  const cookieName = options.cookieName === undefined ? 'hanko' : options.cookieName
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) throw new TypeError('cookieName must be a valid cookie name')
  for (const fn of ['getToken', 'isRevoked']) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') throw new TypeError(`${fn} must be a function`)
  }
  return {
    verifierOptions,
    cookieName,
    credentialsRequired: boolean(options.credentialsRequired, 'credentialsRequired') ?? true,
    requestProperty: options.requestProperty === undefined ? 'auth' : options.requestProperty,
    getToken: options.getToken,
    isRevoked: options.isRevoked,
  }
}

module.exports = {
  DEFAULTS,
  VERIFIER_OPTIONS,
  isPlainObject,
  checkKeys,
  boolean,
  splitArguments,
  resolveVerifierOptions,
  resolveMiddlewareOptions,
}
