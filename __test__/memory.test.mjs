// Memory bounds (issue #8): a million distinct tokens, valid and invalid, through one verifier; the
// token and session caches stay within their limits and RSS stays bounded (sampled as it runs).
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, test } from 'node:test'
import { createVerifier } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'

let issuer
before(async () => {
  issuer = await createTestIssuer({ algorithm: 'EdDSA' }) // cheap to sign, so many valid tokens are affordable
})
after(() => issuer.close())

const mb = (bytes) => Math.round(bytes / 2 ** 20)

test('1 000 000 distinct tokens: the token cache stays at maxEntries and RSS stays flat', async () => {
  const maxEntries = 1000
  const verifier = createVerifier({ jwksHost: issuer.url, algorithms: ['EdDSA'], tokenCache: { maxEntries } })
  await verifier.ready()
  const TOTAL = 1_000_000
  const VALID_EVERY = 100 // 10 000 valid tokens; the rest fail fast in different ways
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'unknown-kid' })).toString('base64url')
  const samples = []
  let accepted = 0
  let refused = 0
  for (let i = 0; i < TOTAL; i++) {
    let token
    if (i % VALID_EVERY === 0) token = issuer.token({ sub: `user-${i}` })
    else if (i % 2 === 0) token = `${header}.${Buffer.from(`{"sub":"${i}"}`).toString('base64url')}.c2ln` // unknown kid
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
      samples.push(process.memoryUsage().rss)
    }
  }
  assert.equal(accepted, TOTAL / VALID_EVERY)
  assert.equal(refused, TOTAL - TOTAL / VALID_EVERY)
  assert.equal(verifier.stats().tokenCacheSize, maxEntries)
  const warm = samples[1]
  const peak = Math.max(...samples.slice(1))
  console.log(`# RSS every 100 000 tokens (MB): ${samples.map(mb).join(', ')}`)
  assert.ok(peak - warm < 64 * 2 ** 20, `RSS grew ${mb(peak - warm)} MB after warm-up`)
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
