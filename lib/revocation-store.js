'use strict'

// The fleet-wide half of the revocation list (README: Instant logout): every revocation is a Redis key
// that expires when its tokens would have (`SET … PXAT`, so Redis holds only what still matters) and a
// message on `<prefix>revocations`; every process subscribes and applies it at once, and loads the keys
// (SCAN) on start and after every reconnect, so a revocation written while it was away is not missed.
// Redis is never on the request path. node-redis is an optional peer dependency, loaded only here.
// Commands go through `sendCommand` (raw RESP replies), which node-redis 4, 5 and 6 all have alike.

const { debug } = require('./debug.js')
const { HankoAuthError } = require('./errors.js')
const { decode, encode } = require('./revocation-entry.js')

const DEFAULT_KEY_PREFIX = 'hanko-auth:'
/** How long `ready()` waits for the first load before it rejects (the list keeps trying meanwhile). */
const READY_TIMEOUT_MS = 5_000
const SCAN_BATCH = '1000'

/** Our own clients reconnect quickly (capped backoff) and fail commands at once while offline. */
const reconnectStrategy = (retries) => Math.min(50 * 2 ** retries, 1_000)

function loadRedis() {
  try {
    return require('redis')
  } catch (cause) {
    throw new HankoAuthError(
      'createRevocationList({ redis }) needs the node-redis client: `npm install redis` (an optional peer dependency of hanko-auth)',
      'ERR_REDIS_CLIENT_MISSING',
      { cause },
    )
  }
}

const isRedisClient = (value) => value !== null && typeof value === 'object' && typeof value.duplicate === 'function' && typeof value.sendCommand === 'function'

/** A glob-safe MATCH pattern for every key under `prefix` (Redis glob: `*?[]\` are special). */
const matchAll = (prefix) => `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`

function closeClient(client) {
  // destroy() (node-redis 5+) or disconnect() (4): at once, even while offline.
  return Promise.resolve(typeof client.destroy === 'function' ? client.destroy() : client.disconnect?.()).catch(() => {})
}

class RedisRevocationStore {
  #client
  #subscriber
  #ownsClient
  #prefix
  #channel
  #apply
  /** Writes that could not reach Redis (key → entry), sent after the next reconnect. */
  #pending = new Map()
  #loadedSinceConnect = false
  #firstLoad
  #markLoaded
  #syncing = null
  #closed = false
  #counters = { loads: 0, messages: 0, ignoredMessages: 0, writeFailures: 0 }

  constructor(redis, keyPrefix = DEFAULT_KEY_PREFIX, apply) {
    if (typeof keyPrefix !== 'string' || keyPrefix.length > 128) throw new TypeError('keyPrefix must be a string of at most 128 characters')
    this.#prefix = keyPrefix
    this.#channel = `${keyPrefix}revocations`
    this.#apply = apply
    if (typeof redis === 'string') {
      const { createClient } = loadRedis()
      this.#client = createClient({ url: redis, socket: { reconnectStrategy, connectTimeout: 2_000 }, disableOfflineQueue: true })
      this.#ownsClient = true
    } else if (isRedisClient(redis)) {
      this.#client = redis
      this.#ownsClient = false
    } else {
      throw new TypeError('redis must be a redis:// URL or a node-redis client (createClient() from the redis package)')
    }
    this.#subscriber = this.#client.duplicate()
    // A client with no 'error' listener crashes the process on a lost connection; ours only go offline.
    if (this.#ownsClient) this.#client.on('error', () => {})
    this.#subscriber.on('error', () => {})
    for (const client of [this.#client, this.#subscriber]) {
      client.on('ready', () => this.#resync())
      client.on('end', () => this.#lost())
      client.on('reconnecting', () => this.#lost())
    }
    let loaded
    this.#firstLoad = new Promise((resolve) => {
      loaded = resolve
    })
    this.#markLoaded = loaded
    this.#start()
  }

  get connected() {
    return this.#loadedSinceConnect && this.#client.isReady && this.#subscriber.isReady
  }

  stats() {
    return { pendingWrites: this.#pending.size, ...this.#counters }
  }

  async #start() {
    // connect() resolves once connected: with Redis down it keeps retrying (reconnectStrategy).
    const opening = [this.#subscriber.connect()]
    if (!this.#client.isOpen) opening.push(this.#client.connect())
    try {
      await Promise.all(opening)
      await this.#subscriber.subscribe(this.#channel, (message) => this.#onMessage(message))
    } catch {
      return // closed before it connected
    }
    this.#resync()
  }

  /** Whether both connections are up and subscribed, so a load now misses nothing from here on. */
  #bothReady() {
    return !this.#closed && this.#client.isReady && this.#subscriber.isReady
  }

  #lost() {
    if (this.#loadedSinceConnect) debug('revocations: lost Redis; known revocations stay in force, new ones apply locally')
    this.#loadedSinceConnect = false
  }

  /** After a (re)connect: send what could not be written, then load the whole list. One at a time. */
  #resync() {
    if (!this.#bothReady()) return
    if (this.#syncing !== null) {
      this.#syncing.again = true
      return
    }
    const run = { again: false }
    this.#syncing = run
    const pass = async () => {
      do {
        run.again = false
        try {
          const pending = this.#pending.size
          for (const [key, entry] of this.#pending) {
            if (entry.until > Date.now()) await this.#send(entry)
            this.#pending.delete(key)
          }
          const loaded = await this.#load()
          debug('revocations: loaded %d entries from Redis (%s*), sent %d written while away', loaded, this.#prefix, pending)
          this.#loadedSinceConnect = this.#bothReady()
          this.#markLoaded()
        } catch {
          // Lost again mid-way: the next 'ready' starts over.
        }
      } while (run.again && this.#bothReady())
      this.#syncing = null
    }
    pass()
  }

  /** Applies every entry Redis holds under the prefix; returns how many there were. */
  async #load() {
    let count = 0
    let cursor = '0'
    do {
      const [next, keys] = await this.#client.sendCommand(['SCAN', cursor, 'MATCH', matchAll(this.#prefix), 'COUNT', SCAN_BATCH])
      cursor = String(next)
      const entryKeys = keys.map(String).filter((key) => key !== this.#channel)
      if (entryKeys.length > 0) {
        const values = await this.#client.sendCommand(['MGET', ...entryKeys])
        for (const value of values) {
          const entry = decode(value === null ? null : String(value))
          if (entry === null) continue
          this.#apply(entry)
          count++
        }
      }
    } while (cursor !== '0')
    this.#counters.loads++
    return count
  }

  #onMessage(message) {
    const entry = decode(String(message))
    if (entry === null) {
      this.#counters.ignoredMessages++
      debug('revocations: ignored a message on %s that is not a revocation', this.#channel)
      return
    }
    this.#counters.messages++
    this.#apply(entry)
  }

  async #send(entry) {
    const text = encode(entry)
    await this.#client.sendCommand(['SET', `${this.#prefix}${entry.type}:${entry.id}`, text, 'PXAT', String(Math.ceil(entry.until))])
    await this.#client.sendCommand(['PUBLISH', this.#channel, text])
  }

  /** Writes and publishes an entry; while Redis is away it is kept and sent after the reconnect. */
  async write(entry) {
    if (this.#closed) return
    const key = `${entry.type}:${entry.id}`
    if (this.#client.isReady) {
      try {
        await this.#send(entry)
        return
      } catch {
        this.#counters.writeFailures++
      }
    }
    debug('revocations: Redis is away; %s %s is kept and written on reconnect', entry.type, entry.id)
    this.#pending.set(key, entry)
  }

  async ready() {
    let timer
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HankoAuthError(
              `the revocation list could not load from Redis within ${READY_TIMEOUT_MS / 1000} s; it works locally and keeps trying`,
              'ERR_REVOCATIONS_UNAVAILABLE',
            ),
          ),
        READY_TIMEOUT_MS,
      )
    })
    try {
      await Promise.race([this.#firstLoad, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async close() {
    if (this.#closed) return
    this.#closed = true
    this.#loadedSinceConnect = false
    await closeClient(this.#subscriber)
    if (this.#ownsClient) await closeClient(this.#client)
  }
}

module.exports = { RedisRevocationStore, DEFAULT_KEY_PREFIX }
