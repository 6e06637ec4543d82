'use strict'

// The verified-token cache (README: Benchmarks). A hit costs no native call, no signature check and no JSON parse.
//
// Keyed by a small integer made from the last characters of the token (the end of its signature), not
// by the ~1 KB token itself: V8 hashes a string key in full on every lookup of a fresh header string,
// which was most of a hit's cost (and even a short slice of it must be hashed). The whole token is then
// compared with the one cached, so a different token with the same key is a miss (and replaces the
// entry only if it verifies); only tokens that verified are ever stored, so a forged token never enters.

const KEY_CHARS = 5 // 5 × 6 bits of base64url: a 30-bit key, a small integer (no heap number)

/** The cache key of a token: its last KEY_CHARS characters, folded into a small integer. */
function keyOf(token) {
  const end = token.length
  let key = end & 0x3f
  for (let i = end - KEY_CHARS; i < end; i++) key = ((key << 6) ^ token.charCodeAt(i)) & 0x3fffffff
  return key
}

/** Freezes the claims (and nested objects) so a cached object can be shared by every request. */
function deepFreeze(value) {
  for (const key of Object.keys(value)) {
    const inner = value[key]
    if (inner !== null && typeof inner === 'object') deepFreeze(inner)
  }
  return Object.freeze(value)
}

class TokenCache {
  /** keyOf(token) → { token, result, until (ms), epoch }; insertion order is eviction order. */
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
    const key = keyOf(token)
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
    // The one mutable part: what later checks found for this token (the revocation list's version it
    // passed at, listRefuses in lib/verifier.js), so a hit can skip a check whose answer cannot have changed.
    result.passed = { listVersion: -1 }
    Object.freeze(result)
    if (typeof until !== 'number' || !(until > Date.now())) return result
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value)
    this.#entries.set(keyOf(token), { token, result, until, epoch })
    return result
  }
}

module.exports = { TokenCache, keyOf }
