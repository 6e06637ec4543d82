'use strict'

// The verifier: local verification in Rust (rules 1–5), the token cache in JS, and the session step.

const { binding } = require('./loader.js')
const { JwtError, revokedError, toError } = require('./errors.js')
const { DEFAULTS, resolveVerifierOptions } = require('./options.js')
const { accepted, refused, isThenable, andThen } = require('./outcome.js')
const { TokenCache } = require('./token-cache.js')
const { listenForFetches, traceVerify } = require('./tracing.js')

const { NativeVerifier, VerifyMode } = binding

// Internal entry points for the middleware; symbols keep them off the public surface.
const kVerifyToken = Symbol('verifyToken')
const kConfirmSession = Symbol('confirmSession')
const kCachedResult = Symbol('cachedResult')
const kChecksSessions = Symbol('checksSessions')
const kRevocations = Symbol('revocations')

/**
 * Whether the revocation list refuses a verified result. A list with a `version` (createRevocationList's)
 * moves it on every revocation added, and its entries only stop refusing by themselves (expiry): a
 * cached result, which carries a `passed` record (lib/token-cache.js), that passed at the current
 * version passes again without the lookups. The cache-hit path and rule 6 share this.
 */
function listRefuses(revocations, result) {
  const version = revocations.version
  if (result.passed === undefined || typeof version !== 'number') return revocations.isRevoked(result.claims) === true
  if (result.passed.listVersion === version) return false
  if (revocations.isRevoked(result.claims) === true) return true
  result.passed.listVersion = version
  return false
}

/** Rule 1's length check before the token crosses into Rust (a 50 MB string is never copied). */
function checkToken(token) {
  if (typeof token !== 'string') return new JwtError('the token must be a string', 'ERR_JWS_INVALID')
  if (token.length > DEFAULTS.maxTokenBytes) return new JwtError(`the token is longer than ${DEFAULTS.maxTokenBytes} bytes`, 'ERR_JWS_INVALID')
  return null
}

class Verifier {
  #native
  /** The key set's URL as tracing shows it (read once: a getter is a native call). */
  #jwksUri
  /** @type {TokenCache | null} */
  #cache = null
  #sessions
  /** The `revocations` list, or null. */
  #revocations

  constructor(options) {
    const resolved = resolveVerifierOptions(options)
    try {
      this.#native = new NativeVerifier(resolved.native)
    } catch (err) {
      // The core judges URLs and headers; its message names the option.
      throw new TypeError(err.message)
    }
    this.#jwksUri = this.#native.jwksUri
    if (resolved.tokenCache !== null) {
      const view = this.#native.epochView()
      const epochView = view === null ? null : new Uint32Array(view)
      this.#cache = new TokenCache(resolved.tokenCache.maxEntries, epochView, () => this.#native.keyEpoch())
    }
    this.#sessions = resolved.sessions
    this.#revocations = resolved.revocations
  }

  /** A native outcome as a result, remembered by the token cache when the token verified. */
  #settle(token, outcome) {
    if (!outcome.ok) return refused(toError(outcome.failure))
    const result = accepted(JSON.parse(outcome.claims))
    if (this.#cache === null) return result
    return this.#cache.remember(token, result, outcome.cacheUntil, outcome.epoch)
  }

  /** The token cache's result for `token`, or `null`: the whole hot path, no native call. */
  [kCachedResult](token) {
    return this.#cache === null ? null : this.#cache.get(token)
  }

  /** Whether a verified token still needs the session step. */
  get [kChecksSessions]() {
    return this.#sessions
  }

  /** The revocation list the cache-hit path must consult, or null. */
  get [kRevocations]() {
    return this.#revocations
  }

  /**
   * Rules 1–5 (a token-cache hit, or native verification): a result, or a thenable of one.
   * `mode` is a `VerifyMode`: Inline, Offload (verify on the I/O threads) or CachedKeysOnly.
   */
  [kVerifyToken](token, mode) {
    if (this.#cache !== null) {
      const hit = this.#cache.get(token)
      if (hit !== null) return hit
    }
    // Not a cache hit: traced on `hanko-auth:verify` when someone listens.
    return traceVerify(this.#jwksUri, token, () => {
      const outcome = this.#native.verify(token, mode)
      return isThenable(outcome) ? outcome.then((late) => this.#settle(token, late)) : this.#settle(token, outcome)
    })
  }

  /**
   * Rule 6 after the middleware's isRevoked: the revocation list, then validateSession (a token the list
   * refuses never reaches Hanko). A result, or a thenable of one.
   */
  [kConfirmSession](token, result, mode) {
    if (!result.ok) return result
    if (this.#revocations !== null && listRefuses(this.#revocations, result)) return refused(revokedError())
    if (!this.#sessions) return result
    const { session_id: sessionId, sub, exp } = result.claims
    const outcome = this.#native.session(
      token,
      typeof sessionId === 'string' ? sessionId : undefined,
      typeof sub === 'string' ? sub : undefined,
      typeof exp === 'number' ? exp * 1000 : undefined,
      mode,
    )
    return andThen(outcome, (step) => (step.ok ? result : refused(toError(step.failure))))
  }

  /** Verifies, fetching the key set (and confirming the session) when it must. */
  async verify(token) {
    const bad = checkToken(token)
    if (bad) throw bad
    let result = this[kVerifyToken](token, VerifyMode.Inline)
    if (isThenable(result)) result = await result
    result = this[kConfirmSession](token, result, VerifyMode.Inline)
    if (isThenable(result)) result = await result
    if (!result.ok) throw result.error
    return result.claims
  }

  /** Verifies with cached keys (and cached session answers) only; throws ERR_JWKS_NOT_LOADED before the first load. */
  verifySync(token) {
    const bad = checkToken(token)
    if (bad) throw bad
    const result = this[kConfirmSession](token, this[kVerifyToken](token, VerifyMode.CachedKeysOnly), VerifyMode.CachedKeysOnly)
    if (!result.ok) throw result.error
    return result.claims
  }

  /** Loads the key set now; rejects when it cannot be had (fail fast at startup). */
  async ready() {
    listenForFetches()
    const failure = await this.#native.ready()
    if (failure != null) throw toError(failure)
  }

  /** Forces a refetch of the key set (shared with any fetch in flight). */
  async reload() {
    listenForFetches()
    const failure = await this.#native.reload()
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
      tokenCacheHits: this.#cache?.hits ?? 0,
      tokenCacheMisses: this.#cache?.misses ?? 0,
      tokenCacheSize: this.#cache?.size ?? 0,
      sessionChecks: s.sessionChecks,
      sessionCacheHits: s.sessionCacheHits,
      sessionCacheSize: s.sessionCacheSize,
      sessionFailOpen: s.sessionFailOpen,
    }
  }
}

function createVerifier(options) {
  return new Verifier(options)
}

// `verify(token, options)`: one verifier per distinct option set, so repeated calls share caches.
const verifiersByOptions = new Map()
const MAX_OPTION_SETS = 64

// A revocation list stringifies to {}: each one gets its own id in the key.
const listIds = new WeakMap()
let lastListId = 0
function listId(list) {
  if (list === null || typeof list !== 'object') return 0
  if (!listIds.has(list)) listIds.set(list, ++lastListId)
  return listIds.get(list)
}

function verifierFor(options) {
  const key = options === undefined ? `env:${process.env.HANKO_API_URL ?? ''}` : `${JSON.stringify(options)}#${listId(options.revocations)}`
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

module.exports = {
  Verifier,
  createVerifier,
  verify,
  checkToken,
  kVerifyToken,
  kConfirmSession,
  kCachedResult,
  kChecksSessions,
  kRevocations,
  listRefuses,
  VerifyMode,
}
