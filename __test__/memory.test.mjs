// Memory bounds (issue #8): a million distinct tokens, valid and invalid, through one verifier; the
// token and session caches stay within their limits and memory stays bounded, on every Node version.
// Absolute RSS growth depends on how each V8 sizes its heap (Node 24 grows ~75 MB where Node 20 grows
// ~40 MB, with nothing leaked), so the bounds are on what a leak changes: the JS heap after a full GC
// against the warm baseline, and RSS growth over the last 300 000 tokens, once the heap has sized itself
// (Node 24 steps up until ~600 000). A leak of ~100 bytes per token fails both (checked by injecting one:
// the heap then grew 146 MB and RSS 103 MB).
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, test } from 'node:test'
import v8 from 'node:v8'
import vm from 'node:vm'
import { createVerifier } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'

let issuer
before(async () => {
  issuer = await createTestIssuer({ algorithm: 'EdDSA' }) // cheap to sign, so many valid tokens are affordable
})
after(() => issuer.close())

const mb = (bytes) => Math.round(bytes / 2 ** 20)

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')
/** Heap in use after a full collection. */
function heapAfterGc() {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

test('1 000 000 distinct tokens: the token cache stays at maxEntries and memory stays bounded', async () => {
  const maxEntries = 1000
  const verifier = createVerifier({ jwksHost: issuer.url, algorithms: ['EdDSA'], tokenCache: { maxEntries } })
  await verifier.ready()
  const TOTAL = 1_000_000
  const VALID_EVERY = 100 // 10 000 valid tokens; the rest fail fast in different ways
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'unknown-kid' })).toString('base64url')
  const samples = []
  const heaps = []
  let accepted = 0
  let refused = 0
  for (let i = 0; i < TOTAL; i++) {
    let token
    if (i % VALID_EVERY === 0) token = issuer.token({ sub: `user-${i}` })
    else if (i % 2 === 0)
      token = `${header}.${Buffer.from(`{"sub":"${i}"}`).toString('base64url')}.c2ln` // unknown kid
    else token = `garbage-${i}.${crypto.randomBytes(6).toString('base64url')}` // not a JWS
    try {
      verifier.verifySync(token)
      accepted++
    } catch {
      refused++
    }
    if (i % 100_000 === 99_999) {
      const stats = verifier.stats()
      assert.ok(stats.tokenCacheSize <= maxEntries, `cache at ${stats.tokenCacheSize}`)
      heaps.push(heapAfterGc())
      samples.push(process.memoryUsage().rss)
    }
  }
  assert.equal(accepted, TOTAL / VALID_EVERY)
  assert.equal(refused, TOTAL - TOTAL / VALID_EVERY)
  assert.equal(verifier.stats().tokenCacheSize, maxEntries)
  console.log(`# ${process.version}: heap after GC every 100 000 tokens (MB): ${heaps.map(mb).join(', ')}`)
  console.log(`# ${process.version}: RSS every 100 000 tokens (MB): ${samples.map(mb).join(', ')}`)
  const heapGrowth = Math.max(...heaps.slice(1)) - heaps[0]
  assert.ok(heapGrowth < 24 * 2 ** 20, `the JS heap after GC grew ${mb(heapGrowth)} MB after the first 100 000 tokens`)
  const tail = samples.length - 4 // the last 300 000 tokens
  const lateGrowth = Math.max(...samples.slice(tail + 1)) - samples[tail]
  assert.ok(lateGrowth < 24 * 2 ** 20, `RSS grew ${mb(lateGrowth)} MB over the last 300 000 tokens`)
})

test('the session cache stays at maxEntries', async () => {
  const verifier = createVerifier({ jwksHost: issuer.url, algorithms: ['EdDSA'], tokenCache: false, validateSession: { maxEntries: 200 } })
  for (let i = 0; i < 1500; i++) {
    await verifier.verify(issuer.token({ session_id: crypto.randomUUID() }))
    if (i % 250 === 0) assert.ok(verifier.stats().sessionCacheSize <= 200)
  }
  const stats = verifier.stats()
  assert.equal(stats.sessionCacheSize, 200)
  assert.equal(stats.sessionChecks, 1500)
})
