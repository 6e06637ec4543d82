// The verified-token cache (README: Key caching, Benchmarks): bounded, never past exp, dropped when the key leaves.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createVerifier, hankoAuth } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { serveJson, sleep, startServer } from './helpers.mjs'

let issuer
before(async () => {
  issuer = await createTestIssuer({ modulusLength: 2048 })
})
after(() => issuer.close())

test('a repeated token is answered from the cache: no signature check, no JSON parse', async () => {
  const verifier = createVerifier({ jwksHost: issuer.url })
  const token = issuer.token()
  const first = await verifier.verify(token)
  const parse = JSON.parse
  let parses = 0
  JSON.parse = (...args) => {
    parses++
    return parse(...args)
  }
  try {
    assert.equal(verifier.verifySync(token), first)
    assert.equal(await verifier.verify(token), first)
  } finally {
    JSON.parse = parse
  }
  assert.equal(parses, 0)
  const stats = verifier.stats()
  assert.equal(stats.tokenCacheHits, 2)
  assert.equal(stats.tokenCacheMisses, 1)
})

test("cached claims are frozen, so no request sees another request's mutation", async () => {
  const verifier = createVerifier({ jwksHost: issuer.url })
  const token = issuer.token()
  const claims = await verifier.verify(token)
  assert.throws(() => {
    claims.sub = 'admin'
  }, TypeError)
  assert.throws(() => {
    claims.email.address = 'evil@example.com'
  }, TypeError)
  assert.equal((await verifier.verify(token)).email.address, 'user@example.com')
})

test('tokenCache: false verifies every time and hands out fresh, mutable claims', async () => {
  const verifier = createVerifier({ jwksHost: issuer.url, tokenCache: false })
  const token = issuer.token()
  const a = await verifier.verify(token)
  a.sub = 'changed'
  assert.notEqual((await verifier.verify(token)).sub, 'changed')
  assert.equal(verifier.stats().tokenCacheHits, 0)
})

test('the cache is bounded by maxEntries', async () => {
  const verifier = createVerifier({ jwksHost: issuer.url, tokenCache: { maxEntries: 3 } })
  const tokens = Array.from({ length: 5 }, (_, i) => issuer.token({ sub: `u${i}` }))
  for (const t of tokens) await verifier.verify(t)
  assert.equal(verifier.stats().tokenCacheSize, 3)
  await verifier.verify(tokens[4])
  assert.equal(verifier.stats().tokenCacheHits, 1, 'the newest stays')
  await verifier.verify(tokens[0])
  assert.equal(verifier.stats().tokenCacheMisses, 6, 'the oldest was evicted')
})

test('an entry never outlives exp (with clockTolerance) or maxTokenAge', async () => {
  const now = Math.floor(Date.now() / 1000)
  const verifier = createVerifier({ jwksHost: issuer.url })
  const soon = issuer.token({ exp: now + 1 })
  await verifier.verify(soon)
  await sleep((now + 1) * 1000 - Date.now() + 50)
  await assert.rejects(verifier.verify(soon), { code: 'ERR_JWT_EXPIRED' })

  const aged = createVerifier({ jwksHost: issuer.url, maxTokenAge: 1 })
  const t = issuer.token({ iat: Math.floor(Date.now() / 1000) })
  await aged.verify(t)
  await sleep(2100)
  await assert.rejects(aged.verify(t), { code: 'ERR_JWT_EXPIRED', claim: 'iat' })
})

test('a cached token dies when its key leaves the key set', async () => {
  let published = issuer.jwks
  const server = await startServer((req, res) => serveJson(published)(req, res))
  try {
    const verifier = createVerifier({ jwksHost: server.url })
    const token = issuer.token()
    await verifier.verify(token)
    assert.ok(verifier.verifySync(token))
    published = { keys: [{ ...issuer.jwks.keys[0], kid: 'another-kid' }] }
    await verifier.reload()
    assert.throws(() => verifier.verifySync(token), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
  } finally {
    await server.close()
  }
})

test("a key removed by one verifier's reload() fails every other verifier's and the middleware's cached token at once", async () => {
  let published = issuer.jwks
  const server = await startServer((req, res) => serveJson(published)(req, res))
  try {
    const reloader = createVerifier({ jwksHost: server.url })
    const other = createVerifier({ jwksHost: server.url, audience: 'localhost' }) // other rules, same key cache
    const middleware = hankoAuth(server.url)
    const token = issuer.token()
    await other.verify(token)
    const through = () =>
      new Promise((resolve) => {
        const req = { headers: { authorization: `Bearer ${token}` } }
        middleware(req, {}, (err) => resolve(err?.inner?.code ?? 'ok'))
      })
    assert.equal(await through(), 'ok')
    assert.equal(await through(), 'ok') // now a cache hit
    const hitsBefore = other.stats().tokenCacheHits
    assert.ok(other.verifySync(token))
    assert.equal(other.stats().tokenCacheHits, hitsBefore + 1)
    published = { keys: [{ ...issuer.jwks.keys[0], kid: 'another-kid' }] }
    await reloader.reload()
    // No waiting, no second: the next use in every verifier fails (README: Key caching).
    assert.throws(() => other.verifySync(token), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
    assert.equal(await through(), 'ERR_JWKS_NO_MATCHING_KEY')
  } finally {
    await server.close()
  }
})

test('a cache hit makes no native call', async () => {
  const verifier = createVerifier({ jwksHost: issuer.url })
  const token = issuer.token()
  await verifier.verify(token)
  // Every native method lives on the NativeVerifier prototype: count calls to all of them.
  const { NativeVerifier } = await import('../binding.js').then((m) => m.default ?? m)
  const proto = NativeVerifier.prototype
  const originals = {}
  let calls = 0
  for (const name of Object.getOwnPropertyNames(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)
    if (name === 'constructor' || typeof descriptor.value !== 'function') continue // getters count below
    originals[name] = proto[name]
    proto[name] = function (...args) {
      calls++
      return originals[name].apply(this, args)
    }
  }
  try {
    for (let i = 0; i < 100; i++) verifier.verifySync(token)
    await verifier.verify(token)
  } finally {
    Object.assign(proto, originals)
  }
  assert.equal(calls, 0)
  assert.deepEqual(
    Object.getOwnPropertyNames(proto).filter((name) => typeof Object.getOwnPropertyDescriptor(proto, name).get === 'function'),
    ['jwksUri'],
    'the only getter, read once at construction',
  )
})

test('failures are not cached as successes, and a failed token stays failed', async () => {
  const verifier = createVerifier({ jwksHost: issuer.url, audience: 'other' })
  const token = issuer.token()
  await assert.rejects(verifier.verify(token), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' })
  await assert.rejects(verifier.verify(token), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' })
  assert.equal(verifier.stats().tokenCacheSize, 0)
})
