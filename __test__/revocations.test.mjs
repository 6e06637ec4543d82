// The revocation list in one process (README: Instant logout): what it refuses, for how long, and where
// the verifier and the middleware consult it (rule 6: isRevoked, then the list, then validateSession).
import assert from 'node:assert/strict'
import Module from 'node:module'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import { createRevocationList, createVerifier, hankoAuth } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { claimsOf, getWithToken, listen } from './helpers.mjs'

let issuer
before(async () => {
  issuer = await createTestIssuer({ modulusLength: 2048 })
})
after(() => issuer.close())

const now = () => Math.floor(Date.now() / 1000)

/** An app protected by hankoAuth with `options`; errors as JSON `{ code, inner }`. */
async function protectedApp(options) {
  const app = express()
  const auth = hankoAuth(issuer.url, options)
  app.get('/me', auth, (req, res) => res.json({ sub: req.auth.sub }))
  app.use((err, req, res, _next) => res.status(err.status ?? 500).json({ code: err.code, inner: err.inner?.code }))
  const server = await listen(app)
  return { ...server, auth }
}

describe('createRevocationList (in memory)', () => {
  test('revokeSession refuses that session only, until `until`', async () => {
    const list = createRevocationList()
    await list.revokeSession('s-1', Date.now() + 60_000)
    await list.revokeSession('s-past', Date.now() - 1)
    assert.equal(list.isRevoked({ sub: 'u', iat: now(), session_id: 's-1' }), true)
    assert.equal(list.isRevoked({ sub: 'u', iat: now(), session_id: 's-2' }), false)
    assert.equal(list.isRevoked({ sub: 'u', iat: now(), session_id: 's-past' }), false, 'an expiry in the past revokes nothing')
    assert.equal(list.isRevoked({ sub: 'u', iat: now() }), false, 'no session_id')
    assert.deepEqual(list.stats(), { sessions: 1, users: 0, store: 'memory' })
  })

  test('an entry stops refusing when its tokens have expired anyway', async () => {
    const list = createRevocationList()
    await list.revokeSession('s-short', Date.now() + 150)
    assert.equal(list.isRevoked({ session_id: 's-short' }), true)
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(list.isRevoked({ session_id: 's-short' }), false)
  })

  test('revokeUser refuses tokens issued at or before the revocation, not after', async () => {
    const list = createRevocationList()
    const at = Date.now()
    await list.revokeUser('user-1', at)
    const atSeconds = Math.floor(at / 1000)
    assert.equal(list.isRevoked({ sub: 'user-1', iat: atSeconds - 60 }), true, 'issued before')
    assert.equal(list.isRevoked({ sub: 'user-1', iat: at / 1000 }), true, 'issued at the same instant')
    assert.equal(list.isRevoked({ sub: 'user-1', iat: atSeconds + 2 }), false, 'issued after (a new login)')
    assert.equal(list.isRevoked({ sub: 'user-1' }), true, 'no iat: cannot show it came later')
    assert.equal(list.isRevoked({ sub: 'user-2', iat: atSeconds - 60 }), false)
    assert.deepEqual(list.stats(), { sessions: 0, users: 1, store: 'memory' })
  })

  test('a revoked user stays revoked for tokenLifetime after `at`', async () => {
    const list = createRevocationList({ tokenLifetime: 1 })
    await list.revokeUser('old', Date.now() - 2_000)
    assert.equal(list.isRevoked({ sub: 'old', iat: now() - 3600 }), false, 'its tokens expired 1 s after the revocation')
  })

  test('revocations are idempotent; a later user revocation moves `at` forward only', async () => {
    const list = createRevocationList()
    const until = Date.now() + 60_000
    await list.revokeSession('s', until)
    await list.revokeSession('s', until)
    await list.revokeSession('s', until - 30_000)
    assert.deepEqual(list.stats(), { sessions: 1, users: 0, store: 'memory' })
    const at = Date.now()
    await list.revokeUser('u', at)
    await list.revokeUser('u', at - 10_000)
    assert.equal(list.isRevoked({ sub: 'u', iat: Math.floor(at / 1000) }), true, 'an older revocation does not shrink it')
  })

  test('bad arguments and options are refused with the option named', async () => {
    const list = createRevocationList()
    await assert.rejects(list.revokeSession(''), { name: 'TypeError', message: /revokeSession: sessionId must be a non-empty string/ })
    await assert.rejects(list.revokeSession('x'.repeat(257)), { name: 'TypeError', message: /at most 256 characters/ })
    await assert.rejects(list.revokeSession('s', 'tomorrow'), { name: 'TypeError', message: /revokeSession: until must be a Date or a number/ })
    await assert.rejects(list.revokeUser(42), { name: 'TypeError', message: /revokeUser: userId/ })
    await assert.rejects(list.revokeUser('u', new Date('nope')), { name: 'TypeError', message: /revokeUser: at/ })
    assert.throws(() => createRevocationList({ redis: 42 }), { name: 'TypeError', message: /redis must be a redis:\/\/ URL or a node-redis client/ })
    assert.throws(() => createRevocationList({ keyPrefix: 'a:' }), { name: 'TypeError', message: /keyPrefix needs redis/ })
    assert.throws(() => createRevocationList({ ttl: 1 }), { name: 'TypeError', message: /createRevocationList: unknown option "ttl"/ })
    assert.throws(() => createVerifier({ jwksHost: issuer.url, revocations: {} }), { name: 'TypeError', message: /revocations must be a revocation list/ })
  })

  test('redis given but the redis package is not installed: ERR_REDIS_CLIENT_MISSING', () => {
    // The package resolves as if it were absent from node_modules, for this test only.
    const resolve = Module._resolveFilename
    Module._resolveFilename = function (request, ...rest) {
      if (request === 'redis') throw Object.assign(new Error("Cannot find module 'redis'"), { code: 'MODULE_NOT_FOUND' })
      return resolve.call(this, request, ...rest)
    }
    try {
      assert.throws(() => createRevocationList({ redis: 'redis://127.0.0.1:1' }), {
        name: 'HankoAuthError',
        code: 'ERR_REDIS_CLIENT_MISSING',
        message: 'createRevocationList({ redis }) needs the node-redis client: `npm install redis` (an optional peer dependency of hanko-auth)',
      })
    } finally {
      Module._resolveFilename = resolve
    }
  })

  test('ready() and close() resolve at once without Redis', async () => {
    const list = createRevocationList()
    await list.ready()
    await list.close()
  })
})

describe('enforcement', () => {
  test('verify() and verifySync() refuse a revoked session with ERR_SESSION_INVALID', async () => {
    const revocations = createRevocationList()
    const verifier = createVerifier({ jwksHost: issuer.url, revocations })
    const token = issuer.token()
    assert.equal((await verifier.verify(token)).sub, claimsOf(token).sub)
    await revocations.revokeSession(claimsOf(token).session_id)
    await assert.rejects(verifier.verify(token), { name: 'JwtError', code: 'ERR_SESSION_INVALID', message: 'The token has been revoked.' })
    assert.throws(() => verifier.verifySync(token), { code: 'ERR_SESSION_INVALID' })
    assert.equal(verifier.verifySync(issuer.token()).aud[0], 'localhost', 'another session still passes')
  })

  test('the middleware refuses a cached token on the next request after the revocation', async () => {
    const revocations = createRevocationList()
    const app = await protectedApp({ revocations })
    try {
      const token = issuer.token()
      assert.equal((await getWithToken(`${app.url}/me`, token)).status, 200)
      assert.equal((await getWithToken(`${app.url}/me`, token)).status, 200)
      const hitsBefore = app.auth.verifier.stats().tokenCacheHits
      await revocations.revokeSession(claimsOf(token).session_id)
      const refused = await getWithToken(`${app.url}/me`, token)
      assert.deepEqual([refused.status, refused.body], [401, { code: 'revoked_token', inner: 'ERR_SESSION_INVALID' }])
      assert.equal(app.auth.verifier.stats().tokenCacheHits, hitsBefore + 1, 'refused on the cache-hit path')
      assert.equal((await getWithToken(`${app.url}/me`, issuer.token())).status, 200, 'other sessions pass')
    } finally {
      await app.close()
    }
  })

  test('a deleted user: every token issued before fails, a later login passes', async () => {
    const revocations = createRevocationList()
    const app = await protectedApp({ revocations })
    try {
      const old = issuer.token({ sub: 'deleted-user', iat: now() - 10 })
      assert.equal((await getWithToken(`${app.url}/me`, old)).status, 200)
      // Revoked 5 s ago: the token issued 10 s ago fails, one issued now (a new account, same id) passes.
      await revocations.revokeUser('deleted-user', Date.now() - 5_000)
      assert.deepEqual((await getWithToken(`${app.url}/me`, old)).body, { code: 'revoked_token', inner: 'ERR_SESSION_INVALID' })
      const later = issuer.token({ sub: 'deleted-user', iat: now() })
      assert.equal((await getWithToken(`${app.url}/me`, later)).status, 200)
    } finally {
      await app.close()
    }
  })

  test('rule 6 order: isRevoked first, then the list, then validateSession (no call to Hanko for a listed token)', async () => {
    const revocations = createRevocationList()
    const order = []
    const listed = issuer.token()
    await revocations.revokeSession(claimsOf(listed).session_id)
    const spy = {
      isRevoked(claims) {
        order.push('list')
        return revocations.isRevoked(claims)
      },
    }
    const app = await protectedApp({
      revocations: spy,
      validateSession: true,
      isRevoked: () => {
        order.push('isRevoked')
        return false
      },
    })
    try {
      const sessionsBefore = issuer.requests.sessions
      assert.deepEqual((await getWithToken(`${app.url}/me`, listed)).body, { code: 'revoked_token', inner: 'ERR_SESSION_INVALID' })
      assert.deepEqual(order, ['isRevoked', 'list'])
      assert.equal(issuer.requests.sessions, sessionsBefore, 'validateSession never asked Hanko')
      order.length = 0
      assert.equal((await getWithToken(`${app.url}/me`, issuer.token())).status, 200)
      assert.deepEqual(order, ['isRevoked', 'list'])
      assert.equal(issuer.requests.sessions, sessionsBefore + 1, 'a token the list passes goes on to validateSession')
    } finally {
      await app.close()
    }
  })

  test('an isRevoked refusal never consults the list', async () => {
    let consulted = 0
    const app = await protectedApp({
      revocations: {
        isRevoked: () => {
          consulted++
          return false
        },
      },
      isRevoked: () => true,
    })
    try {
      assert.deepEqual((await getWithToken(`${app.url}/me`, issuer.token())).body, { code: 'revoked_token', inner: 'ERR_SESSION_INVALID' })
      assert.equal(consulted, 0)
    } finally {
      await app.close()
    }
  })

  test('verify(token, { revocations }) keeps one verifier per list', async () => {
    const { verify } = await import('../index.mjs')
    const first = createRevocationList()
    const second = createRevocationList()
    const token = issuer.token()
    await first.revokeSession(claimsOf(token).session_id)
    await assert.rejects(verify(token, { jwksHost: issuer.url, revocations: first }), { code: 'ERR_SESSION_INVALID' })
    assert.equal((await verify(token, { jwksHost: issuer.url, revocations: second })).sub, claimsOf(token).sub)
  })
})
