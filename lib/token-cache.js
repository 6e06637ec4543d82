'use strict'

// The verified-token cache (SPEC §5). A hit costs no native call, no signature check and no JSON parse.
//
// Keyed by the token's last KEY_LENGTH characters (the end of its signature) rather than the whole
// ~1 KB token: V8 hashes a string key in full, which was most of a hit's cost. The whole token is then
// compared with the one cached, so a different token that shares the tail is a miss; only tokens that
// verified are ever stored, so a forged token never enters.

const KEY_LENGTH = 24

/** Freezes the claims (and nested objects) so a cached object can be shared by every request. */
function deepFreeze(value) {
  for (const key of Object.keys(value)) {
    const inner = value[key]
    if (inner !== null && typeof inner === 'object') deepFreeze(inner)
  }
  return Object.freeze(value)
}

class TokenCache {
  /** tail → { token, result, until (ms), epoch }; insertion order is eviction order. */
  #entries = new Map()
  #maxEntries
  /** The core's key-set epoch for this verifier, in shared memory; or a function that asks for it. */
  #epochView
  #readEpoch
  hits = 0
  misses = 0

  /**
   * @param {number} maxEntries
   * @param {Uint32Array | null} epochView memory the core updates the moment a key leaves the set
   * @param {() => number} readEpoch used when the host gave no shared memory
   */
  constructor(maxEntries, epochView, readEpoch) {
    this.#maxEntries = maxEntries
    this.#epochView = epochView
    this.#readEpoch = readEpoch
  }

  get size() {
    return this.#entries.size
  }

  /** The cached result for `token`, or `null`. */
  get(token) {
    const key = token.slice(-KEY_LENGTH)
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.token !== token) return null
    const epoch = this.#epochView === null ? this.#readEpoch() : this.#epochView[0]
    if (entry.epoch === epoch && Date.now() < entry.until) {
      this.hits++
      return entry.result
    }
    this.#entries.delete(key)
    return null
  }

  /**
   * Remembers a verified token's result (made immutable, as every request shares it) until `until`
   * (ms), while the key-set epoch stays `epoch`. Returns the result to hand out.
   */
  remember(token, result, until, epoch) {
    this.misses++
    deepFreeze(result.claims)
    Object.freeze(result)
    if (typeof until !== 'number' || !(until > Date.now())) return result
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value)
    this.#entries.set(token.slice(-KEY_LENGTH), { token, result, until, epoch })
    return result
  }
}

module.exports = { TokenCache, KEY_LENGTH }
