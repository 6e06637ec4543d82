'use strict'

// The revocation list (README: Instant logout): sessions and users whose tokens must fail before `exp`.
// `isRevoked` is a synchronous Map lookup, cheap enough for the cache-hit path; with `redis` the list is
// fleet-wide (lib/revocation-store.js), but Redis is never on the request path.

const { debug } = require('./debug.js')
const { seconds } = require('./durations.js')
const { checkKeys, isPlainObject } = require('./options.js')
const { checkId } = require('./revocation-entry.js')

/** A revoked session whose Hanko expiry is unknown (`expires_at: null`) stays revoked this long. */
const DEFAULT_SESSION_TTL_MS = 24 * 3600 * 1000
/**
 * A revoked user stays revoked this long: every token issued before the revocation has expired by then
 * (Hanko's default session lifespan is 12 h; `tokenLifetime` raises it for longer lifespans).
 */
const DEFAULT_TOKEN_LIFETIME = '24h'
/** Expired entries are swept at most this often, on a write (no timer keeps the process alive). */
const SWEEP_INTERVAL_MS = 60_000

const STORES = Object.freeze({ memory: 'memory', connected: 'connected', disconnected: 'disconnected' })

/** Milliseconds since the epoch from a Date or a number of milliseconds. */
function instant(value, name, fallback) {
  if (value === undefined) return fallback
  const ms = typeof value === 'number' ? value : Object.prototype.toString.call(value) === '[object Date]' ? value.getTime() : Number.NaN
  if (!Number.isFinite(ms)) throw new TypeError(`${name} must be a Date or a number of milliseconds since the epoch`)
  return ms
}

class RevocationList {
  /** session id → until (ms): tokens of that session fail until then. */
  #sessions = new Map()
  /** user id → { at, until } (ms): that user's tokens issued at or before `at` fail until `until`. */
  #users = new Map()
  #tokenLifetimeMs
  #store = null
  #nextSweep = 0
  #version = 0

  constructor(options = {}) {
    if (!isPlainObject(options)) throw new TypeError('createRevocationList: options must be an object')
    checkKeys(options, new Set(['redis', 'keyPrefix', 'tokenLifetime']), 'createRevocationList')
    this.#tokenLifetimeMs = seconds(options.tokenLifetime ?? DEFAULT_TOKEN_LIFETIME, 'tokenLifetime', { min: 1 }) * 1000
    if (options.keyPrefix !== undefined && options.redis === undefined) throw new TypeError('createRevocationList: keyPrefix needs redis')
    if (options.redis !== undefined) {
      const { RedisRevocationStore } = require('./revocation-store.js')
      this.#store = new RedisRevocationStore(options.redis, options.keyPrefix, (entry) => this.#apply(entry))
    }
  }

  /** Tokens of `sessionId` fail from now until `until` (when they expire anyway; default 24 h). */
  async revokeSession(sessionId, until) {
    checkId(sessionId, 'revokeSession: sessionId')
    const entry = { type: 'session', id: sessionId, until: instant(until, 'revokeSession: until', Date.now() + DEFAULT_SESSION_TTL_MS) }
    this.#apply(entry)
    if (debug.enabled) debug('revoked session %s until %s', sessionId, new Date(entry.until).toISOString())
    if (this.#store !== null) await this.#store.write(entry)
  }

  /** Tokens of `userId` issued at or before `at` (default now) fail, for `tokenLifetime` after `at`. */
  async revokeUser(userId, at) {
    checkId(userId, 'revokeUser: userId')
    const revokedAt = instant(at, 'revokeUser: at', Date.now())
    const entry = { type: 'user', id: userId, at: revokedAt, until: revokedAt + this.#tokenLifetimeMs }
    this.#apply(entry)
    if (debug.enabled) debug('revoked user %s: tokens issued up to %s', userId, new Date(revokedAt).toISOString())
    if (this.#store !== null) await this.#store.write(entry)
  }

  /**
   * Whether verified claims belong to a revoked session or user: synchronous, local, no I/O. A missed
   * lookup (the common case) reads no clock.
   */
  isRevoked(claims) {
    if (this.#sessions.size !== 0) {
      const until = this.#sessions.get(claims.session_id)
      if (until !== undefined && until > Date.now()) return true
    }
    if (this.#users.size !== 0) {
      const user = this.#users.get(claims.sub)
      // Revoked at or after its iat (a token without a numeric iat cannot show it came later).
      if (user !== undefined && user.until > Date.now() && !(typeof claims.iat === 'number' && claims.iat * 1000 > user.at)) return true
    }
    return false
  }

  /** Resolves once the list has loaded what the store holds (at once without `redis`). */
  async ready() {
    if (this.#store !== null) await this.#store.ready()
  }

  /** Stops listening to Redis (a client the user made is left open). */
  async close() {
    if (this.#store !== null) await this.#store.close()
  }

  /**
   * Moves on every revocation added. Entries only ever stop refusing by themselves (expiry), so claims
   * found not revoked at one version stay not revoked until it moves: the cache-hit path skips the lookups.
   */
  get version() {
    return this.#version
  }

  stats() {
    return {
      sessions: this.#sessions.size,
      users: this.#users.size,
      store: this.#store === null ? STORES.memory : this.#store.connected ? STORES.connected : STORES.disconnected,
      ...(this.#store === null ? {} : this.#store.stats()),
    }
  }

  /** Applies an entry (made here, from a message, or from the store's load); later entries win only if longer. */
  #apply(entry) {
    const now = Date.now()
    if (entry.until <= now) return
    if (entry.type === 'session') {
      if ((this.#sessions.get(entry.id) ?? 0) >= entry.until) return
      this.#sessions.set(entry.id, entry.until)
    } else {
      const known = this.#users.get(entry.id)
      if (known !== undefined && known.at >= entry.at) return
      this.#users.set(entry.id, { at: entry.at, until: entry.until })
    }
    this.#version++
    if (now >= this.#nextSweep) this.#sweep(now)
  }

  /** Drops the entries whose tokens have expired anyway: memory is bounded by token lifetime. */
  #sweep(now) {
    this.#nextSweep = now + SWEEP_INTERVAL_MS
    for (const [id, until] of this.#sessions) if (until <= now) this.#sessions.delete(id)
    for (const [id, user] of this.#users) if (user.until <= now) this.#users.delete(id)
  }
}

function createRevocationList(options) {
  return new RevocationList(options)
}

module.exports = { RevocationList, createRevocationList, DEFAULT_SESSION_TTL_MS }
