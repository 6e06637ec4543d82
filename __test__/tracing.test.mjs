// Tracing channels (issue #15 item 6): `hanko-auth:verify` per verification that is not a cache hit,
// `hanko-auth:jwks` per key-set fetch (background refreshes too), with { jwksUri, kid, alg, outcome,
// code } and never the token; a cache hit publishes nothing.
import assert from 'node:assert/strict'
import dc from 'node:diagnostics_channel'
import { after, before, test } from 'node:test'
import { createVerifier } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { freshPath, serveJson, sleep, startServer } from './helpers.mjs'

const skip = typeof dc.tracingChannel !== 'function' && 'node:diagnostics_channel has no tracingChannel in this Node'

let issuer
let keys
before(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256' })
  keys = await startServer((req, res) =>
    req.url.includes('/down/') ? serveJson({}, { status: 500 })(req, res) : serveJson(issuer.jwks, { headers: { 'cache-control': 'max-age=0' } })(req, res),
  )
})
after(async () => {
  await issuer.close()
  await keys.close()
})

/** Subscribes to every event of a tracing channel; returns the events and an unsubscribe. */
function record(name) {
  const events = []
  const handlers = Object.fromEntries(
    ['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((event) => [event, (context) => events.push({ event, ...context, error: context.error?.code })]),
  )
  const channel = dc.tracingChannel(name)
  channel.subscribe(handlers)
  return { events, stop: () => channel.unsubscribe(handlers) }
}

test('hanko-auth:verify: start/end for a verification, error for a refusal, nothing for a cache hit', { skip }, async () => {
  const verify = record('hanko-auth:verify')
  try {
    const verifier = createVerifier({ jwksUri: `${keys.url}${freshPath()}/jwks.json?secret=s`, algorithms: ['ES256'] })
    const token = issuer.token()
    await verifier.verify(token) // waits for the first fetch: start, end, asyncStart, asyncEnd
    verifier.verifySync(issuer.token({ sub: 'second' })) // keys cached: start, end
    const before = verify.events.length
    verifier.verifySync(token) // a cache hit
    assert.equal(verify.events.length, before, 'a cache hit publishes nothing')
    assert.throws(() => verifier.verifySync(issuer.token({ exp: 1 })), { code: 'ERR_JWT_EXPIRED' })
    const kinds = verify.events.map((e) => e.event)
    assert.deepEqual(kinds, ['start', 'end', 'asyncStart', 'asyncEnd', 'start', 'end', 'start', 'error', 'end'])
    const last = verify.events.at(-1)
    assert.deepEqual([last.kid, last.alg, last.outcome, last.code], [issuer.kid, 'ES256', 'refused', 'ERR_JWT_EXPIRED'])
    assert.equal(verify.events[3].outcome, 'ok')
    assert.match(verify.events[0].jwksUri, /\/jwks\.json$/, 'the URL without its query string')
    const published = JSON.stringify(verify.events)
    assert.ok(!published.includes(token.split('.')[2]) && !published.includes('secret'), 'never the token, never the query')
  } finally {
    verify.stop()
  }
})

test('hanko-auth:jwks: every fetch, a failure with its code, and background refreshes', { skip }, async () => {
  const jwks = record('hanko-auth:jwks')
  try {
    const down = createVerifier({ jwksUri: `${keys.url}/down${freshPath()}/jwks.json`, algorithms: ['ES256'] })
    await assert.rejects(down.ready(), { code: 'ERR_JWKS_UNAVAILABLE' })
    const up = createVerifier({ jwksUri: `${keys.url}${freshPath()}/jwks.json`, algorithms: ['ES256'], jwks: { minCacheAge: 0, cooldown: 0 } })
    await up.ready()
    await sleep(20) // fresh for 0 ms (max-age=0): the next use refreshes in the background
    up.verifySync(issuer.token())
    for (let i = 0; i < 100 && jwks.events.filter((e) => e.event === 'asyncEnd').length < 3; i++) await sleep(10)
    const ends = jwks.events.filter((e) => e.event === 'asyncEnd')
    assert.deepEqual(
      ends.map((e) => [e.outcome, e.code ?? null]),
      [
        ['refused', 'ERR_JWKS_UNAVAILABLE'],
        ['ok', null],
        ['ok', null],
      ],
    )
    assert.equal(jwks.events.filter((e) => e.event === 'error').length, 1)
    assert.equal(ends[1].keys, 1)
  } finally {
    jwks.stop()
  }
})
