'use strict'

// The hand-written JS face of hanko-auth. It validates options, throws the right error classes and
// runs the Express glue; every token and key-set decision is made in Rust (binding.js loads it).

const SUPPORTED_PLATFORMS = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']

function currentPlatform() {
  if (process.platform === 'win32') return `win32-${process.arch}-msvc`
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime
  return `linux-${process.arch}-${glibc ? 'gnu' : 'musl'}`
}

/** The generated loader, with an error that names the platform when no prebuilt binary fits. */
function loadBinding() {
  try {
    return require('./binding.js')
  } catch (cause) {
    const platform = currentPlatform()
    const supported = SUPPORTED_PLATFORMS.includes(platform)
    const hint = supported
      ? `npm should have installed hanko-auth-${platform}: reinstall without --no-optional / --omit=optional (and without a lockfile made on another platform).`
      : `Supported platforms: ${SUPPORTED_PLATFORMS.join(', ')}. Elsewhere, build from source with a Rust toolchain: \`npm run build\` in the package.`
    const error = new Error(`hanko-auth: no native binary could be loaded for ${platform} (Node ${process.version}). ${hint}`, { cause })
    error.code = 'ERR_HANKO_AUTH_NO_BINARY'
    throw error
  }
}

const { NativeVerifier } = loadBinding()

// ---------------------------------------------------------------------------------------------------
// Errors: stable `code`s are the contract (jose's names); messages may change.

class HankoAuthError extends Error {
  constructor(message, code, options) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A token problem (401). */
class JwtError extends HankoAuthError {
  constructor(message, code, { claim, reason, cause } = {}) {
    super(message, code, cause === undefined ? undefined : { cause })
    if (claim !== undefined) this.claim = claim
    if (reason !== undefined) this.reason = reason
  }
}

/** The key set (or Hanko's session service) cannot be had (503). */
class JwksError extends HankoAuthError {
  constructor(message, code, options) {
    super(message, code, options)
    this.status = 503
    this.statusCode = 503
  }
}

/** What the middleware hands to `next(err)` for a token problem; express-jwt's shape. */
class UnauthorizedError extends Error {
  constructor(code, error) {
    super(error.message, { cause: error })
    this.name = 'UnauthorizedError'
    this.code = code
    this.status = 401
    this.statusCode = 401
    this.inner = error
  }
}

function toError(failure) {
  if (failure.unavailable) return new JwksError(failure.message, failure.code)
  return new JwtError(failure.message, failure.code, { claim: failure.claim, reason: failure.reason })
}

// ---------------------------------------------------------------------------------------------------
// Options: everything is validated here, at creation, with an error that names the option.

const SUPPORTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']

const JWKS_DEFAULTS = Object.freeze({
  cacheMaxAge: 600_000,
  minCacheAge: 30_000,
  maxCacheAge: 86_400_000,
  cooldown: 30_000,
  timeout: 5_000,
  maxStale: 86_400_000,
  maxBytes: 1_048_576,
})

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
  'allowInsecureHttp',
])
const MIDDLEWARE_OPTIONS = new Set(['cookieName', 'credentialsRequired', 'requestProperty', 'getToken', 'isRevoked'])

/**
 * Where the middleware verifies a token it has not seen before. With more than one core available, on
 * the native I/O threads: the JS thread serves other requests meanwhile (measured: +20 % req/s with
 * distinct RSA-4096 tokens on 2 cores). With one core, inline: a thread hop would only add CPU.
 * Cache hits are always answered inline. HANKO_AUTH_OFFLOAD=0/1 overrides (for measurements).
 */
const OFFLOAD_NEW_TOKENS =
  process.env.HANKO_AUTH_OFFLOAD !== undefined ? process.env.HANKO_AUTH_OFFLOAD === '1' : (require('node:os').availableParallelism?.() ?? 1) > 1

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

const UNITS = {
  ms: 0.001,
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
  y: 31557600, yr: 31557600, yrs: 31557600, year: 31557600, years: 31557600,
}

/** Seconds from a number of seconds or a string like '30s', '12h', '7 days'. */
function seconds(value, name, { min = 0 } = {}) {
  let result = value
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i.exec(value.trim())
    const unit = match && (match[2] === undefined ? 1 : UNITS[match[2].toLowerCase()])
    if (!match || unit === undefined) throw new TypeError(`${name} must be a number of seconds or a string like '30s' or '12h'`)
    result = Number(match[1]) * unit
  } else if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number of seconds or a string like '30s' or '12h'`)
  }
  if (!Number.isFinite(result) || result < min) throw new RangeError(`${name} must be a finite number >= ${min}`)
  return result
}

function integer(value, name, min, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`)
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}`)
  return value
}

function stringList(value, name) {
  if (value === undefined) return []
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

function boolean(value, name, fallback) {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`)
  return value
}

function jwksUriFrom(options) {
  if (options.jwksUri !== undefined) return optionalString(options.jwksUri, 'jwksUri')
  const host = options.jwksHost !== undefined ? optionalString(options.jwksHost, 'jwksHost') : process.env.HANKO_API_URL
  if (!host) {
    throw new TypeError('jwksHost is required: pass the Hanko API URL (or set jwksUri, or the HANKO_API_URL environment variable)')
  }
  return underHost(host, '.well-known/jwks.json')
}

/** `<Hanko API URL>/<path>`, keeping a tenant path (`<api>/<tenant_id>`). */
function underHost(host, path) {
  let base
  try {
    base = new URL(host)
  } catch {
    throw new TypeError(`jwksHost is not a valid URL: ${JSON.stringify(String(host).slice(0, 200))}`)
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/'
  return new URL(path, base).href
}

function resolveJwks(jwks) {
  if (jwks === undefined) return { ...JWKS_DEFAULTS, headers: {} }
  if (!isPlainObject(jwks)) throw new TypeError('jwks must be an object')
  checkKeys(jwks, new Set([...Object.keys(JWKS_DEFAULTS), 'headers']), 'jwks')
  const out = { ...JWKS_DEFAULTS, headers: {} }
  for (const name of Object.keys(JWKS_DEFAULTS)) {
    if (jwks[name] === undefined) continue
    const min = name === 'timeout' || name === 'maxBytes' ? 1 : 0
    out[name] = integer(jwks[name], `jwks.${name}`, min, name === 'timeout' ? 600_000 : Number.MAX_SAFE_INTEGER)
  }
  if (out.minCacheAge > out.maxCacheAge) throw new RangeError('jwks.minCacheAge must not exceed jwks.maxCacheAge')
  if (jwks.headers !== undefined) {
    if (!isPlainObject(jwks.headers)) throw new TypeError('jwks.headers must be an object of strings')
    for (const [key, value] of Object.entries(jwks.headers)) {
      if (typeof value !== 'string') throw new TypeError(`jwks.headers["${key}"] must be a string`)
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) throw new TypeError(`jwks.headers: "${key}" is not a valid header name`)
      if (/[\r\n\0]/.test(value)) throw new TypeError(`jwks.headers["${key}"] must not contain line breaks`)
      out.headers[key] = value
    }
  }
  return out
}

function resolveValidateSession(options) {
  const value = options.validateSession
  if (value === undefined || value === false) return null
  if (value !== true && !isPlainObject(value)) throw new TypeError('validateSession must be true, false or { ttl, maxEntries, failOpen }')
  const settings = value === true ? {} : value
  checkKeys(settings, new Set(['ttl', 'maxEntries', 'failOpen']), 'validateSession')
  const host = options.jwksHost ?? (options.jwksUri === undefined ? process.env.HANKO_API_URL : undefined)
  if (typeof host !== 'string' || host.length === 0) {
    throw new TypeError('validateSession needs jwksHost (the Hanko API URL): jwksUri alone does not say where Hanko is')
  }
  return {
    url: underHost(host, 'sessions/validate'),
    ttl: settings.ttl === undefined ? 30_000 : integer(settings.ttl, 'validateSession.ttl', 1),
    maxEntries: settings.maxEntries === undefined ? 10_000 : integer(settings.maxEntries, 'validateSession.maxEntries', 1, 10_000_000),
    failOpen: boolean(settings.failOpen, 'validateSession.failOpen', false),
  }
}

function resolveTokenCache(value) {
  if (value === undefined || value === true) return { maxEntries: 10_000 }
  if (value === false) return null
  if (!isPlainObject(value)) throw new TypeError('tokenCache must be false or { maxEntries }')
  checkKeys(value, new Set(['maxEntries']), 'tokenCache')
  return { maxEntries: value.maxEntries === undefined ? 10_000 : integer(value.maxEntries, 'tokenCache.maxEntries', 1, 10_000_000) }
}

/** Validates verifier options and fills in defaults. Throws TypeError / RangeError naming the option. */
function resolveVerifierOptions(options = {}, allowed = VERIFIER_OPTIONS, where = 'createVerifier') {
  if (!isPlainObject(options)) throw new TypeError(`${where}: options must be an object`)
  checkKeys(options, allowed, where)
  const algorithms = options.algorithms === undefined ? ['RS256'] : options.algorithms
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new TypeError('algorithms must be a non-empty array')
  for (const alg of algorithms) {
    if (typeof alg === 'string' && (alg.toLowerCase() === 'none' || /^HS/i.test(alg))) {
      throw new TypeError(`algorithms: ${JSON.stringify(alg)} is never allowed (only asymmetric algorithms can be verified against a JWKS)`)
    }
    if (!SUPPORTED_ALGORITHMS.includes(alg)) {
      throw new TypeError(`algorithms: ${JSON.stringify(alg)} is not supported; use ${SUPPORTED_ALGORITHMS.join(', ')}`)
    }
  }
  const requiredClaims = options.requiredClaims === undefined ? ['sub', 'exp'] : options.requiredClaims
  if (!Array.isArray(requiredClaims) || !requiredClaims.every((c) => typeof c === 'string' && c.length > 0)) {
    throw new TypeError('requiredClaims must be an array of claim names')
  }
  const allowInsecureHttp = boolean(options.allowInsecureHttp, 'allowInsecureHttp', false)
  const jwks = resolveJwks(options.jwks)
  const native = {
    jwksUri: jwksUriFrom(options),
    jwksUriSource: options.jwksUri !== undefined ? 'jwksUri' : options.jwksHost !== undefined ? 'jwksHost' : 'HANKO_API_URL',
    allowInsecureHttp,
    algorithms: [...algorithms],
    audience: stringList(options.audience, 'audience'),
    issuer: stringList(options.issuer, 'issuer'),
    subject: optionalString(options.subject, 'subject'),
    clockTolerance: options.clockTolerance === undefined ? 0 : seconds(options.clockTolerance, 'clockTolerance'),
    maxTokenAge: options.maxTokenAge === undefined ? undefined : seconds(options.maxTokenAge, 'maxTokenAge'),
    requiredClaims: [...requiredClaims],
    typ: optionalString(options.typ, 'typ'),
    ...jwks,
  }
  const session = resolveValidateSession(options)
  if (session !== null && !native.requiredClaims.includes('session_id')) native.requiredClaims.push('session_id')
  native.sessionUrl = session?.url
  native.sessionTtl = session?.ttl ?? 0
  native.sessionMaxEntries = session?.maxEntries ?? 0
  return { native, tokenCache: resolveTokenCache(options.tokenCache), session }
}

// ---------------------------------------------------------------------------------------------------
// The verifier.

function checkToken(token) {
  if (typeof token !== 'string') return new JwtError('the token must be a string', 'ERR_JWS_INVALID')
  return null
}

// Internal entry points for the middleware; symbols keep them off the public surface.
const kTryVerify = Symbol('tryVerify')
const kVerifyAsync = Symbol('verifyAsync')

/** Freezes the claims (and nested objects) so a cached object can be shared by every request. */
function deepFreeze(value) {
  for (const key of Object.keys(value)) {
    const inner = value[key]
    if (inner !== null && typeof inner === 'object') deepFreeze(inner)
  }
  return Object.freeze(value)
}

// Results inside the shim are tagged data, never judged with `instanceof` (SPEC §2 Hosts): a Promise
// or Error made by the addon, or in another realm (Jest's and Vitest's vm contexts), fails it.
//   { ok: true, claims } | { ok: false, error }   — or a thenable of one, or `null` (fetch keys first).
const accepted = (claims) => ({ ok: true, claims })
const refused = (error) => ({ ok: false, error })
const isThenable = (v) => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function'

class Verifier {
  #native
  /** token → { result, expiresAt (ms), epoch }; insertion order is eviction order. */
  #tokens = null
  #maxEntries = 0
  #toleranceMs = 0
  #maxAgeMs = undefined
  #hits = 0
  #misses = 0
  /** The key-set epoch as last read, and until when that read is trusted (see #epochAt). */
  #epoch = 0
  #epochReadUntil = 0
  #sessions = false
  #failOpen = false
  #failedOpen = 0

  constructor(options) {
    const resolved = resolveVerifierOptions(options)
    try {
      this.#native = new NativeVerifier(resolved.native)
    } catch (err) {
      // The native side re-checks the URL rule; its message names the option.
      throw new TypeError(err.message)
    }
    if (resolved.tokenCache !== null) {
      this.#tokens = new Map()
      this.#maxEntries = resolved.tokenCache.maxEntries
    }
    this.#toleranceMs = resolved.native.clockTolerance * 1000
    if (resolved.native.maxTokenAge !== undefined) this.#maxAgeMs = resolved.native.maxTokenAge * 1000
    if (resolved.session !== null) {
      this.#sessions = true
      this.#failOpen = resolved.session.failOpen
    }
  }

  /** The session step (validateSession): a result, or a thenable of one. */
  #confirmSession(token, result) {
    const claims = result.claims
    const sessionId = claims.session_id
    if (typeof sessionId !== 'string') {
      return refused(new JwtError('"session_id" claim must be a string', 'ERR_JWT_CLAIM_VALIDATION_FAILED', { claim: 'session_id', reason: 'invalid' }))
    }
    const status = this.#native.sessionStatus(sessionId)
    if (status === 1) return result
    if (status === -1) return refused(new JwtError('the session has ended (logged out, revoked or expired at Hanko)', 'ERR_SESSION_INVALID'))
    const expMs = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined
    return this.#native.confirmSession(sessionId, token, expMs).then((failure) => this.#sessionOutcome(failure, result))
  }

  #sessionOutcome(failure, result) {
    if (failure == null) return result
    if (failure.code === 'ERR_SESSION_UNAVAILABLE' && this.#failOpen) {
      this.#failedOpen++
      return result
    }
    return refused(toError(failure))
  }

  /**
   * The key-set epoch (bumped when a key leaves the set). A native call costs far more than the rest of
   * a cache hit, so a read is reused for up to a second: a token whose key was just removed stops being
   * served from the cache at most one second after the refresh that removed it.
   */
  #epochAt(now) {
    if (now >= this.#epochReadUntil) {
      this.#epoch = this.#native.keyEpoch()
      this.#epochReadUntil = now + 1000
    }
    return this.#epoch
  }

  #readEpoch() {
    this.#epochReadUntil = 0
    return this.#epochAt(Date.now())
  }

  /** A cache hit: no signature check, no JSON parse, no allocation (the result object is cached). */
  #hit(token) {
    const entry = this.#tokens.get(token)
    if (entry === undefined) return null
    const now = Date.now()
    if (now < entry.expiresAt && entry.epoch === this.#epochAt(now)) {
      this.#hits++
      return entry.result
    }
    this.#tokens.delete(token)
    return null
  }

  /** Turns a native outcome into a result, remembered when the cache is on and the token verified. */
  #settle(token, outcome, epoch) {
    if (outcome.ok !== true) return refused(toError(outcome.failure))
    const claims = JSON.parse(outcome.claims)
    if (this.#tokens === null) return accepted(claims)
    this.#misses++
    const result = Object.freeze(accepted(deepFreeze(claims)))
    // An entry never outlives the token: exp (plus tolerance), and iat + maxTokenAge when set.
    let expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 + this.#toleranceMs : -Infinity
    if (this.#maxAgeMs !== undefined) expiresAt = Math.min(expiresAt, claims.iat * 1000 + this.#maxAgeMs + this.#toleranceMs)
    if (expiresAt > Date.now()) {
      if (this.#tokens.size >= this.#maxEntries) this.#tokens.delete(this.#tokens.keys().next().value)
      this.#tokens.set(token, { result, expiresAt, epoch })
    }
    return result
  }

  /**
   * Local verification with what is cached (sync): a result, or `null` to fetch keys first.
   * With `keysOnly`, a needed fetch starts in the background and the token fails now (verifySync).
   */
  #local(token, keysOnly = false) {
    if (this.#tokens !== null) {
      const hit = this.#hit(token)
      if (hit !== null) return hit
    }
    // Read before verifying: if a key leaves meanwhile, the entry is born stale.
    const epoch = this.#tokens === null ? 0 : this.#readEpoch()
    const outcome = keysOnly ? this.#native.verifySync(token) : this.#native.tryVerify(token)
    return outcome == null ? null : this.#settle(token, outcome, epoch)
  }

  /**
   * A result (sync), a thenable of one (a session check), or `null` to go async. With `inline` false
   * only a token-cache hit answers; a new token returns `null` (verify off-thread).
   */
  [kTryVerify](token, inline = true) {
    const local = inline ? this.#local(token) : this.#tokens === null ? null : this.#hit(token)
    if (!this.#sessions || local === null || !local.ok) return local
    return this.#confirmSession(token, local)
  }

  /** A thenable of a result, fetching the key set first when it must. */
  [kVerifyAsync](token) {
    const epoch = this.#readEpoch()
    const local = this.#native.verify(token).then((outcome) => this.#settle(token, outcome, epoch))
    if (!this.#sessions) return local
    return local.then((result) => (result.ok ? this.#confirmSession(token, result) : result))
  }

  /** Verifies, fetching the key set (and confirming the session) when it must. */
  async verify(token) {
    const bad = checkToken(token)
    if (bad) throw bad
    let result = this[kTryVerify](token)
    if (result === null) result = this[kVerifyAsync](token)
    if (isThenable(result)) result = await result
    if (!result.ok) throw result.error
    return result.claims
  }

  /** Verifies with cached keys only; throws ERR_JWKS_NOT_LOADED before the first load. */
  verifySync(token) {
    const bad = checkToken(token)
    if (bad) throw bad
    let result = this.#local(token, true)
    if (this.#sessions && result.ok) result = this.#sessionSync(token, result)
    if (!result.ok) throw result.error
    return result.claims
  }

  /** verifySync cannot wait for Hanko: an unknown session starts a check and fails (or fails open). */
  #sessionSync(token, verified) {
    const result = this.#confirmSession(token, verified)
    if (!isThenable(result)) return result
    result.then(undefined, () => {})
    return this.#sessionOutcome(
      { code: 'ERR_SESSION_UNAVAILABLE', message: 'the session is not confirmed yet; verifySync cannot wait for Hanko (use verify)', unavailable: true },
      verified,
    )
  }

  /** Loads the key set now; rejects when it cannot be had (fail fast at startup). */
  async ready() {
    const failure = await this.#native.ready()
    if (failure != null) throw toError(failure)
  }

  /** Forces a refetch of the key set (shared with any fetch in flight). */
  async reload() {
    const failure = await this.#native.reload()
    this.#epochReadUntil = 0
    if (failure != null) throw toError(failure)
  }

  stats() {
    const s = this.#native.stats()
    return {
      jwksFetches: s.jwksFetches,
      jwksFailures: s.jwksFailures,
      lastFetchAt: s.lastFetchAt ?? null,
      lastFetchStatus: s.lastFetchStatus ?? 'none',
      keys: s.keys,
      kids: s.kids,
      servingStale: s.servingStale,
      coolingDown: s.coolingDown,
      tokenCacheHits: this.#hits,
      tokenCacheMisses: this.#misses,
      tokenCacheSize: this.#tokens === null ? 0 : this.#tokens.size,
      sessionChecks: s.sessionChecks,
      sessionCacheHits: s.sessionCacheHits,
      sessionCacheSize: s.sessionCacheSize,
      sessionFailOpen: this.#failedOpen,
    }
  }
}

function createVerifier(options) {
  return new Verifier(options)
}

// `verify(token, options)`: one verifier per distinct option set, so repeated calls share caches.
const verifiersByOptions = new Map()
const MAX_OPTION_SETS = 64

function verifierFor(options) {
  const key = options === undefined ? `env:${process.env.HANKO_API_URL ?? ''}` : JSON.stringify(options)
  let verifier = verifiersByOptions.get(key)
  if (verifier === undefined) {
    verifier = new Verifier(options)
    if (verifiersByOptions.size >= MAX_OPTION_SETS) verifiersByOptions.delete(verifiersByOptions.keys().next().value)
    verifiersByOptions.set(key, verifier)
  }
  return verifier
}

/** Verifies with a process-wide verifier (from HANKO_API_URL unless options say otherwise). */
async function verify(token, options) {
  return verifierFor(options).verify(token)
}

// ---------------------------------------------------------------------------------------------------
// The Express middleware.

const FORBIDDEN_PATH_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype'])

function propertySetter(path) {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('requestProperty must be a non-empty string')
  const parts = path.split('.')
  if (parts.some((p) => p.length === 0 || FORBIDDEN_PATH_SEGMENTS.has(p))) {
    throw new TypeError(`requestProperty ${JSON.stringify(path)} is not a valid property path`)
  }
  if (parts.length === 1) return (req, value) => { req[path] = value }
  const last = parts.pop()
  return (req, value) => {
    let target = req
    for (const part of parts) {
      if (target[part] === null || typeof target[part] !== 'object') target[part] = {}
      target = target[part]
    }
    target[last] = value
  }
}

// RFC 6265 cookie-name token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** The value of one cookie from a `Cookie` header, without a parser dependency. */
function readCookie(header, name) {
  if (typeof header !== 'string' || header.length === 0) return undefined
  let start = 0
  while (start < header.length) {
    let end = header.indexOf(';', start)
    if (end === -1) end = header.length
    const eq = header.indexOf('=', start)
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim()
      if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
      if (value.includes('%')) {
        try {
          value = decodeURIComponent(value)
        } catch {
          // Not percent-encoded after all: keep it as sent and let verification judge it.
        }
      }
      return value
    }
    start = end + 1
  }
  return undefined
}

const BAD_FORMAT = 'Format is Authorization: Bearer [token]'
const EMPTY_HEADERS = Object.freeze({})

/** The request's headers, or none when a host (or a test mock) hands over a `req` without them. */
const headersOf = (req) => (req !== null && typeof req === 'object' && req.headers !== null && typeof req.headers === 'object' ? req.headers : EMPTY_HEADERS)

/**
 * SPEC §2 token extraction. Returns the token, `undefined` for none, or a refusal
 * (`{ ok: false, error }` with an UnauthorizedError) for a malformed Bearer header.
 */
function extractToken(req, cookieName) {
  const headers = headersOf(req)
  const authorization = headers.authorization
  if (typeof authorization === 'string' && authorization.length > 0) {
    const space = authorization.indexOf(' ')
    const scheme = space === -1 ? authorization : authorization.slice(0, space)
    if (scheme.toLowerCase() === 'bearer') {
      const token = space === -1 ? '' : authorization.slice(space + 1)
      if (token.length === 0 || token.includes(' ')) {
        return refused(new UnauthorizedError('credentials_bad_format', new JwtError(BAD_FORMAT, 'ERR_JWS_INVALID')))
      }
      return token
    }
    // Any other scheme (Basic, …) is not ours: fall through to the cookie, as Hanko's own backend does.
  }
  const cookies = req?.cookies
  const value = cookies !== null && typeof cookies === 'object' && typeof cookies[cookieName] === 'string'
    ? cookies[cookieName]
    : readCookie(headers.cookie, cookieName)
  return value === undefined || value === '' ? undefined : value
}

function isPreflight(req) {
  if (req?.method !== 'OPTIONS') return false
  const requested = headersOf(req)['access-control-request-headers']
  return typeof requested === 'string' && requested.split(',').some((h) => h.trim().toLowerCase() === 'authorization')
}

/** RFC 6750 §3 challenge for a 401. */
function challenge(err) {
  if (err.code === 'credentials_required') return 'Bearer'
  const error = err.code === 'credentials_bad_format' || err.code === 'credentials_bad_scheme' ? 'invalid_request' : 'invalid_token'
  // error_description must be quoted-string safe and printable ASCII (RFC 6750 §3).
  const description = err.message.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'")
  return `Bearer error="${error}", error_description="${description}"`
}

/** Sets the RFC 6750 challenge when `res` can take a header: mocks and other hosts may hand over less. */
function setChallenge(res, err) {
  if (res === null || typeof res !== 'object' || typeof res.setHeader !== 'function' || res.headersSent === true) return
  res.setHeader('WWW-Authenticate', challenge(err))
}

/**
 * Runs `onValue` or `onError` when `thenable` settles. Each calls `next` exactly once; should `next`
 * itself throw (a test's assertion, a broken handler), the error surfaces as an uncaught exception, as
 * from any callback, instead of an unhandled rejection or a second call of `next`.
 */
function whenSettled(thenable, onValue, onError) {
  thenable.then(onValue, onError).then(undefined, rethrowOutside)
}

function rethrowOutside(err) {
  queueMicrotask(() => {
    throw err
  })
}

function resolveMiddlewareOptions(first, second) {
  let options
  if (typeof first === 'string' || first === undefined || first === null) {
    if (second !== undefined && !isPlainObject(second)) throw new TypeError('hankoAuth: options must be an object')
    options = { ...(second ?? {}) }
    if (typeof first === 'string') {
      if (options.jwksHost !== undefined) throw new TypeError('hankoAuth: jwksHost given twice')
      options.jwksHost = first
    }
  } else if (isPlainObject(first)) {
    if (second !== undefined) throw new TypeError('hankoAuth: pass either (jwksHost, options) or (options)')
    options = { ...first }
  } else {
    throw new TypeError('hankoAuth: the first argument must be the Hanko API URL (a string) or an options object')
  }
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
    credentialsRequired: boolean(options.credentialsRequired, 'credentialsRequired', true),
    setProperty: propertySetter(options.requestProperty === undefined ? 'auth' : options.requestProperty),
    getToken: options.getToken,
    isRevoked: options.isRevoked,
  }
}

function decodeHeader(token) {
  try {
    return JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'))
  } catch {
    return {}
  }
}

const REVOKED = 'The token has been revoked.'
const MISSING = 'No authorization token was found'

/**
 * Express middleware: `app.use(hankoAuth(process.env.HANKO_API_URL))`.
 * Sets `req.auth` to the verified claims, or calls `next(err)` with an UnauthorizedError (401) or a
 * JwksError (503). It never writes the response body, and calls `next` exactly once on every path.
 */
function hankoAuth(first, second) {
  const { verifierOptions, cookieName, credentialsRequired, setProperty, getToken, isRevoked } =
    resolveMiddlewareOptions(first, second)
  const verifier = new Verifier(verifierOptions)

  function hankoAuthMiddleware(req, res, next) {
    if (isPreflight(req)) return next()

    const unauthorized = (err) => {
      setChallenge(res, err)
      next(err)
    }

    const grant = (claims) => {
      try {
        setProperty(req, claims)
      } catch (err) {
        return next(err) // a frozen or exotic `req`
      }
      next()
    }

    const accept = (claims, token) => {
      if (isRevoked === undefined) return grant(claims)
      let revoked
      try {
        revoked = isRevoked(req, { header: decodeHeader(token), payload: claims })
      } catch (err) {
        return next(err)
      }
      const decide = (value) => {
        if (value === true) return unauthorized(new UnauthorizedError('revoked_token', new JwtError(REVOKED, 'ERR_SESSION_INVALID')))
        grant(claims)
      }
      if (isThenable(revoked)) whenSettled(revoked, decide, next)
      else decide(revoked)
    }

    const settle = (result, token) => {
      if (result.ok) return accept(result.claims, token)
      const error = result.error
      if (error.status === 503) return next(error) // JwksError: the key set or Hanko cannot be had
      unauthorized(new UnauthorizedError(error.code === 'ERR_SESSION_INVALID' ? 'revoked_token' : 'invalid_token', error))
    }

    const withToken = (token) => {
      if (token === undefined || token === null || token === '') {
        if (!credentialsRequired) return next()
        return unauthorized(new UnauthorizedError('credentials_required', new JwtError(MISSING, 'ERR_JWS_INVALID')))
      }
      if (typeof token !== 'string') {
        return unauthorized(new UnauthorizedError('invalid_token', new JwtError('getToken must return a string', 'ERR_JWS_INVALID')))
      }
      // The hot path: a cached token answers synchronously (no Promise, no thread hop); so does a new
      // token with its key cached, unless it is verified off-thread (see OFFLOAD_NEW_TOKENS).
      let result
      try {
        result = verifier[kTryVerify](token, !OFFLOAD_NEW_TOKENS)
        if (result === null) result = verifier[kVerifyAsync](token)
      } catch (err) {
        return next(err) // an internal failure (a Rust panic surfaces as a thrown Error)
      }
      if (isThenable(result)) whenSettled(result, (late) => settle(late, token), next)
      else settle(result, token)
    }

    if (getToken === undefined) {
      const token = extractToken(req, cookieName)
      if (typeof token === 'object') return unauthorized(token.error) // a malformed Bearer header
      return withToken(token)
    }
    let custom
    try {
      custom = getToken(req)
    } catch (err) {
      return next(err)
    }
    if (isThenable(custom)) whenSettled(custom, withToken, next)
    else withToken(custom)
  }

  Object.defineProperty(hankoAuthMiddleware, 'verifier', { value: verifier, enumerable: true })
  hankoAuthMiddleware.unless = (options) => unless(hankoAuthMiddleware, options)
  return hankoAuthMiddleware
}

// ---------------------------------------------------------------------------------------------------
// `middleware.unless(options)`: express-unless's semantics, validated at creation.

// Cross-realm safe (SPEC §2 Hosts): a RegExp from a vm context fails `instanceof RegExp`.
const isRegExp = (v) => Object.prototype.toString.call(v) === '[object RegExp]'
const asList = (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value])

function methodList(value, name) {
  const list = asList(value)
  if (!list.every((m) => typeof m === 'string' && m.length > 0)) throw new TypeError(`unless: ${name} must be a method name or an array of them`)
  return list.map((m) => m.toUpperCase())
}

function pathRule(rule) {
  if (typeof rule === 'string' || isRegExp(rule)) return { url: rule, methods: null }
  if (isPlainObject(rule) && (typeof rule.url === 'string' || isRegExp(rule.url))) {
    const methods = rule.methods ?? rule.method
    return { url: rule.url, methods: methods === undefined ? null : methodList(methods, 'path.methods') }
  }
  throw new TypeError('unless: path must be a string, a RegExp, { url, methods } or an array of them')
}

function urlMatches(pattern, path) {
  if (typeof pattern === 'string') return pattern === path
  pattern.lastIndex = 0 // a global or sticky RegExp keeps state between calls
  const matched = pattern.test(path)
  pattern.lastIndex = 0
  return matched
}

/** The path part of the request URL, as Express's router sees it (no decoding, no normalising). */
function requestPath(req, useOriginalUrl) {
  const url = (useOriginalUrl ? req?.originalUrl : undefined) || req?.url || ''
  if (typeof url !== 'string') return ''
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

/** Wraps `middleware` so that it is skipped when a rule matches the request. */
function unless(middleware, options) {
  const settings = typeof options === 'function' ? { custom: options } : options
  if (!isPlainObject(settings)) throw new TypeError('unless: options must be an object or a function')
  checkKeys(settings, new Set(['path', 'method', 'ext', 'custom', 'useOriginalUrl']), 'unless')
  if (settings.custom !== undefined && typeof settings.custom !== 'function') throw new TypeError('unless: custom must be a function')
  const custom = settings.custom
  const paths = asList(settings.path).map(pathRule)
  const methods = methodList(settings.method, 'method')
  const exts = asList(settings.ext)
  if (!exts.every((e) => typeof e === 'string' && e.length > 0)) throw new TypeError('unless: ext must be a string or an array of strings')
  const useOriginalUrl = boolean(settings.useOriginalUrl, 'unless.useOriginalUrl', true)

  const skipByRules = (req) => {
    const method = typeof req?.method === 'string' ? req.method.toUpperCase() : ''
    if (methods.includes(method)) return true
    if (paths.length === 0 && exts.length === 0) return false
    const path = requestPath(req, useOriginalUrl)
    if (paths.some((p) => urlMatches(p.url, path) && (p.methods === null || p.methods.includes(method)))) return true
    return exts.some((ext) => path.endsWith(ext))
  }

  return function hankoAuthUnless(req, res, next) {
    if (skipByRules(req)) return next()
    if (custom === undefined) return middleware(req, res, next)
    let skip
    try {
      skip = custom(req)
    } catch (err) {
      return next(err)
    }
    const decide = (value) => (value ? next() : middleware(req, res, next))
    if (isThenable(skip)) whenSettled(skip, decide, next)
    else decide(skip)
  }
}

module.exports = {
  hankoAuth,
  createVerifier,
  verify,
  Verifier,
  JwtError,
  JwksError,
  UnauthorizedError,
}
