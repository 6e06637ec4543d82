// The fleet-wide revocation list on a real redis-server (README: Instant logout): propagation, loading
// on start and on reconnect, every fault, and Redis never on the request path.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import { createClient } from 'redis'
import { createRevocationList, hankoAuth, hankoWebhooks } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { claimsOf, getWithToken, listen, sleep } from './helpers.mjs'
import { redisMissing, startProxy, startRedis } from './redis-server.mjs'

let issuer
let redis
before(async () => {
  issuer = await createTestIssuer({ modulusLength: 2048 })
  redis = await startRedis()
})
after(async () => {
  await issuer.close()
  await redis?.stop()
})

let prefixes = 0
/** Each test its own key prefix: lists in one test never see another test's revocations. */
const freshPrefix = () => `t${process.pid}-${++prefixes}:`
const lists = []
/** A list on `url` (default: the shared Redis), closed after the test. */
function list(options = {}) {
  const made = createRevocationList({ redis: redis.url, keyPrefix: options.keyPrefix, ...options })
  lists.push(made)
  return made
}
after(() => Promise.all(lists.map((l) => l.close())))

/** Waits until `predicate()` holds (polled on every turn of the event loop), up to `ms`. */
async function until(predicate, ms = 5_000) {
  const started = Date.now()
  while (!predicate()) {
    if (Date.now() - started > ms) return false
    await sleep(5)
  }
  return true
}

describe('createRevocationList({ redis })', { skip: redisMissing ?? false }, () => {
  test('a revocation in one list is applied by every list on the same Redis and prefix, at once', async () => {
    const keyPrefix = freshPrefix()
    const [a, b, other] = [list({ keyPrefix }), list({ keyPrefix }), list({ keyPrefix: freshPrefix() })]
    await Promise.all([a.ready(), b.ready(), other.ready()])
    assert.equal(a.stats().store, 'connected')
    const started = performance.now()
    await a.revokeSession('fleet-session', Date.now() + 60_000)
    assert.equal(await until(() => b.isRevoked({ session_id: 'fleet-session' })), true)
    const delay = performance.now() - started
    console.log(`# propagation between two lists in one process: ${delay.toFixed(1)} ms`)
    await a.revokeUser('fleet-user', Date.now())
    assert.equal(await until(() => b.isRevoked({ sub: 'fleet-user', iat: 1 })), true)
    assert.equal(other.isRevoked({ session_id: 'fleet-session' }), false, 'another prefix is another fleet')
  })

  test('the revocation is a key with the expiry of its tokens (SET … PXAT) and a message on <prefix>revocations', async () => {
    const keyPrefix = freshPrefix()
    const probe = createClient({ url: redis.url })
    await probe.connect()
    const received = []
    const subscriber = probe.duplicate()
    await subscriber.connect()
    await subscriber.subscribe(`${keyPrefix}revocations`, (message) => received.push(JSON.parse(message)))
    try {
      const a = list({ keyPrefix })
      await a.ready()
      const expiry = Date.now() + 60_000
      await a.revokeSession('keyed', expiry)
      const stored = JSON.parse(await probe.get(`${keyPrefix}session:keyed`))
      assert.deepEqual(stored, { type: 'session', id: 'keyed', until: expiry })
      assert.equal(Number(await probe.sendCommand(['PEXPIRETIME', `${keyPrefix}session:keyed`])), expiry)
      assert.equal(await until(() => received.length === 1), true)
      assert.deepEqual(received, [{ type: 'session', id: 'keyed', until: expiry }])
    } finally {
      await subscriber.destroy()
      await probe.destroy()
    }
  })

  test('a list that starts later loads what is already revoked (SCAN)', async () => {
    const keyPrefix = freshPrefix()
    const first = list({ keyPrefix })
    await first.ready()
    for (let i = 0; i < 2_500; i++) await first.revokeSession(`s-${i}`, Date.now() + 60_000)
    const late = list({ keyPrefix })
    await late.ready()
    assert.equal(late.isRevoked({ session_id: 's-0' }), true)
    assert.equal(late.isRevoked({ session_id: 's-2499' }), true)
    assert.deepEqual([late.stats().sessions, late.stats().loads], [2_500, 1])
  })

  test('values in Redis and messages that are not ours are ignored, not trusted', async () => {
    const keyPrefix = freshPrefix()
    const probe = createClient({ url: redis.url })
    await probe.connect()
    try {
      await probe.set(`${keyPrefix}session:bad`, 'not json')
      await probe.set(`${keyPrefix}session:huge`, JSON.stringify({ type: 'session', id: 'x'.repeat(300), until: Date.now() + 60_000 }))
      await probe.set(`${keyPrefix}session:weird`, JSON.stringify({ type: 'admin', id: 'x', until: Date.now() + 60_000 }))
      const a = list({ keyPrefix })
      await a.ready()
      assert.equal(a.stats().sessions, 0)
      for (const message of ['{', '[]', 'null', JSON.stringify({ type: 'session', id: 1, until: 2 }), 'x'.repeat(5000)]) {
        await probe.publish(`${keyPrefix}revocations`, message)
      }
      assert.equal(await until(() => a.stats().ignoredMessages === 5), true)
      assert.equal(a.stats().sessions, 0)
    } finally {
      await probe.destroy()
    }
  })

  test('a node-redis client the user made works; close() leaves it open', async () => {
    const keyPrefix = freshPrefix()
    const client = createClient({ url: redis.url })
    client.on('error', () => {})
    await client.connect()
    try {
      const mine = createRevocationList({ redis: client, keyPrefix })
      const theirs = list({ keyPrefix })
      await Promise.all([mine.ready(), theirs.ready()])
      await mine.revokeSession('made-by-user', Date.now() + 60_000)
      assert.equal(await until(() => theirs.isRevoked({ session_id: 'made-by-user' })), true)
      await mine.close()
      assert.equal(client.isReady, true, 'the user’s client stays open')
      assert.equal(await client.sendCommand(['PING']), 'PONG')
    } finally {
      await client.destroy()
    }
  })

  test('Redis is never touched per request: 2 000 requests, 0 commands', async () => {
    const keyPrefix = freshPrefix()
    const revocations = list({ keyPrefix })
    await revocations.ready()
    await revocations.revokeSession('someone-else', Date.now() + 60_000)
    const app = express()
    app.get('/me', hankoAuth(issuer.url, { revocations }), (req, res) => res.json({ sub: req.auth.sub }))
    const server = await listen(app)
    try {
      const tokens = Array.from({ length: 20 }, () => issuer.token())
      await getWithToken(`${server.url}/me`, tokens[0])
      const before = redis.commandCalls()
      for (let i = 0; i < 2_000; i++) assert.equal((await getWithToken(`${server.url}/me`, tokens[i % tokens.length])).status, 200)
      const afterCalls = redis.commandCalls()
      const used = Object.keys(afterCalls).filter((command) => command !== 'info' && afterCalls[command] !== before[command])
      assert.deepEqual(used, [], 'commands Redis served during the requests')
    } finally {
      await server.close()
    }
  })
})

describe('faults', { skip: redisMissing ?? false }, () => {
  test('Redis down at start: the list works locally, says disconnected, requests are not held up; it catches up when Redis comes', async () => {
    const later = await startRedis()
    await later.stop()
    const revocations = createRevocationList({ redis: later.url })
    lists.push(revocations)
    await assert.rejects(revocations.ready(), { code: 'ERR_REVOCATIONS_UNAVAILABLE' })
    assert.equal(revocations.stats().store, 'disconnected')
    await revocations.revokeSession('local-while-down', Date.now() + 60_000)
    assert.equal(revocations.isRevoked({ session_id: 'local-while-down' }), true)
    assert.equal(revocations.stats().pendingWrites, 1)

    const app = express()
    app.get('/me', hankoAuth(issuer.url, { revocations }), (req, res) => res.json({ sub: req.auth.sub }))
    app.use((err, req, res, _next) => res.status(err.status ?? 500).json({ code: err.code }))
    const server = await listen(app)
    try {
      const token = issuer.token()
      assert.equal((await getWithToken(`${server.url}/me`, token)).status, 200)
      await revocations.revokeSession(claimsOf(token).session_id)
      assert.equal((await getWithToken(`${server.url}/me`, token)).status, 401, 'a revocation made while Redis is down bites at once')
      // Redis arrives: the pending writes go out, a list started now sees them.
      await later.restart()
      assert.equal(await until(() => revocations.stats().store === 'connected', 10_000), true)
      assert.equal(revocations.stats().pendingWrites, 0)
      const fresh = createRevocationList({ redis: later.url })
      lists.push(fresh)
      await fresh.ready()
      assert.equal(fresh.isRevoked({ session_id: 'local-while-down' }), true)
    } finally {
      await server.close()
      await later.stop()
    }
  })

  test('lost mid-run and back: known revocations stay in force, nothing written meanwhile is missed', async () => {
    const keyPrefix = freshPrefix()
    const proxy = await startProxy(redis.port)
    const away = createRevocationList({ redis: proxy.url, keyPrefix })
    const peer = list({ keyPrefix })
    lists.push(away)
    try {
      await Promise.all([away.ready(), peer.ready()])
      await peer.revokeSession('known', Date.now() + 60_000)
      assert.equal(await until(() => away.isRevoked({ session_id: 'known' })), true)
      await proxy.cut()
      assert.equal(await until(() => away.stats().store === 'disconnected'), true)
      assert.equal(away.isRevoked({ session_id: 'known' }), true, 'still in force while Redis is away')
      // Written while `away` cannot hear: no message reaches it.
      await peer.revokeSession('written-while-away', Date.now() + 60_000)
      await peer.revokeUser('user-while-away', Date.now())
      await away.revokeSession('local-while-away', Date.now() + 60_000)
      await sleep(100)
      assert.equal(away.isRevoked({ session_id: 'written-while-away' }), false)
      await proxy.heal()
      assert.equal(await until(() => away.stats().store === 'connected', 10_000), true)
      assert.equal(away.isRevoked({ session_id: 'written-while-away' }), true, 'loaded on reconnect')
      assert.equal(away.isRevoked({ sub: 'user-while-away', iat: 1 }), true)
      assert.equal(await until(() => peer.isRevoked({ session_id: 'local-while-away' })), true, 'its own pending write went out')
      assert.ok(away.stats().loads >= 2)
    } finally {
      await proxy.close()
    }
  })

  test('Redis restarted (empty): known revocations stay in force, the lists reconnect and messages flow again', async () => {
    const keyPrefix = freshPrefix()
    const a = list({ keyPrefix })
    const b = list({ keyPrefix })
    await Promise.all([a.ready(), b.ready()])
    await a.revokeSession('before-restart', Date.now() + 60_000)
    assert.equal(await until(() => b.isRevoked({ session_id: 'before-restart' })), true)
    await redis.stop()
    assert.equal(await until(() => a.stats().store === 'disconnected'), true)
    assert.equal(b.isRevoked({ session_id: 'before-restart' }), true, 'known revocations stay in force')
    await redis.restart()
    assert.equal(await until(() => a.stats().store === 'connected' && b.stats().store === 'connected', 10_000), true)
    await a.revokeSession('after-restart', Date.now() + 60_000)
    assert.equal(await until(() => b.isRevoked({ session_id: 'after-restart' })), true, 'messages flow again')
  })

  test('a webhook with Redis down still revokes locally at once and answers 200', async () => {
    const gone = await startRedis()
    await gone.stop()
    const revocations = createRevocationList({ redis: gone.url })
    lists.push(revocations)
    const app = express()
    app.post('/hooks', hankoWebhooks(issuer.url, { revocations }))
    const server = await listen(app)
    try {
      // Answered without waiting for Redis (a wait would never end: nothing listens there).
      const answer = await issuer.webhook('session.delete.explicit.logout', { id: 'down-logout', expires_at: null }, { url: `${server.url}/hooks` })
      assert.deepEqual([answer.status, answer.body.action], [200, 'revoked-session'])
      assert.equal(revocations.isRevoked({ session_id: 'down-logout' }), true)
      assert.deepEqual([revocations.stats().store, revocations.stats().pendingWrites], ['disconnected', 1])
    } finally {
      await server.close()
    }
  })
})
