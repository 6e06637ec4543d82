// validateSession against a stand-in /sessions/validate on 127.0.0.1 (README: Local verification and revocation).
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import { createVerifier, hankoAuth, JwksError, JwtError } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { serveJson, sleep, startServer } from './helpers.mjs'

let issuer
before(async () => {
  issuer = await createTestIssuer({ modulusLength: 2048 })
})
after(() => issuer.close())

/** A Hanko stand-in whose session answers the test scripts; JWKS from the issuer. */
async function hanko(sessionHandler) {
  const calls = []
  const server = await startServer(async (req, res) => {
    if (req.url.endsWith('/.well-known/jwks.json')) return serveJson(issuer.jwks)(req, res)
    let body = ''
    for await (const chunk of req) body += chunk
    calls.push({ method: req.method, url: req.url, body, type: req.headers['content-type'] })
    return state.handler(req, res, JSON.parse(body || '{}'))
  })
  const state = { handler: sessionHandler }
  return {
    url: server.url,
    calls,
    set handler(fn) {
      state.handler = fn
    },
    close: () => server.close(),
  }
}
const live = (req, res) => serveJson({ is_valid: true, claims: {} })(req, res)
const dead = (req, res) => serveJson({ is_valid: false })(req, res)

describe('validateSession', () => {
  test('a live session passes; the request is POST {"session_token": …}', async () => {
    const h = await hanko(live)
    try {
      const verifier = createVerifier({ jwksHost: h.url, validateSession: true })
      const token = issuer.token()
      assert.ok(await verifier.verify(token))
      assert.equal(h.calls.length, 1)
      assert.deepEqual([h.calls[0].method, h.calls[0].url, h.calls[0].type], ['POST', '/sessions/validate', 'application/json'])
      assert.deepEqual(JSON.parse(h.calls[0].body), { session_token: token })
    } finally {
      await h.close()
    }
  })

  test('a dead session fails with ERR_SESSION_INVALID', async () => {
    const h = await hanko(dead)
    try {
      const verifier = createVerifier({ jwksHost: h.url, validateSession: true })
      await assert.rejects(verifier.verify(issuer.token()), (err) => err instanceof JwtError && err.code === 'ERR_SESSION_INVALID')
    } finally {
      await h.close()
    }
  })

  test('with the test issuer: revoked while cached is refused once ttl has passed', async () => {
    const verifier = createVerifier({ jwksHost: issuer.url, validateSession: { ttl: 300 } })
    const sessionId = crypto.randomUUID()
    const token = issuer.token({ session_id: sessionId })
    assert.ok(await verifier.verify(token))
    issuer.revokeSession(sessionId)
    assert.ok(await verifier.verify(token), 'still cached')
    await sleep(350)
    await assert.rejects(verifier.verify(token), { code: 'ERR_SESSION_INVALID' })
  })

  test('100 requests of one session within ttl → 1 call; 50 concurrent first requests → 1 call', async () => {
    const h = await hanko(async (req, res) => {
      await sleep(50)
      live(req, res)
    })
    try {
      const verifier = createVerifier({ jwksHost: h.url, validateSession: true })
      const token = issuer.token()
      for (let i = 0; i < 100; i++) await verifier.verify(token)
      assert.equal(h.calls.length, 1)
      const sessionId = crypto.randomUUID()
      const tokens = Array.from({ length: 50 }, () => issuer.token({ session_id: sessionId, sub: 'one-user' }))
      await Promise.all(tokens.map((t) => verifier.verify(t)))
      assert.equal(h.calls.length, 2)
      // The cache is keyed by session_id and sub together: another user's token with that session_id
      // is not confirmed from the cache (issue #13 item 7).
      await verifier.verify(issuer.token({ session_id: sessionId, sub: 'another-user' }))
      assert.equal(h.calls.length, 3)
      assert.ok(verifier.stats().sessionCacheHits >= 99)
    } finally {
      await h.close()
    }
  })

  // failOpen covers only a Hanko that cannot be reached, times out, or answers 5xx/429 (README: Local verification and revocation).
  const unreachable = [
    ['a 500', (req, res) => serveJson({ message: 'oops' }, { status: 500 })(req, res)],
    ['a 429', (req, res) => serveJson({ message: 'slow down' }, { status: 429 })(req, res)],
    [
      'a slow answer',
      async (req, res) => {
        await sleep(800)
        live(req, res)
      },
    ],
    ['a dropped connection', (req, res) => res.socket.destroy()],
  ]
  for (const [name, handler] of unreachable) {
    test(`${name} → 503 ERR_SESSION_UNAVAILABLE, or accepted with failOpen`, async () => {
      const h = await hanko(handler)
      try {
        const closed = createVerifier({ jwksHost: h.url, validateSession: true, jwks: { timeout: 300 } })
        await assert.rejects(closed.verify(issuer.token()), (err) => err instanceof JwksError && err.code === 'ERR_SESSION_UNAVAILABLE' && err.status === 503)
        const open = createVerifier({ jwksHost: h.url, validateSession: { failOpen: true }, jwks: { timeout: 300 } })
        assert.ok(await open.verify(issuer.token()))
        assert.equal(open.stats().sessionFailOpen, 1)
      } finally {
        await h.close()
      }
    })
  }

  // Any other answer is not Hanko's documented one: 503 whatever failOpen says (issue #13 item 6).
  const unexpected = [
    ['garbage', (req, res) => serveJson('<html>hi</html>')(req, res)],
    ['JSON without is_valid', (req, res) => serveJson({ valid: true })(req, res)],
    [
      'a 302 to a live answer',
      (req, res) => {
        if (req.method === 'GET') return live(req, res)
        res.writeHead(302, { location: '/sessions/validate' })
        res.end()
      },
    ],
    ['a 404', (req, res) => serveJson({ message: 'not found' }, { status: 404 })(req, res)],
    ['a 401 with is_valid: true', (req, res) => serveJson({ is_valid: true }, { status: 401 })(req, res)],
  ]
  for (const [name, handler] of unexpected) {
    test(`${name} → 503 ERR_SESSION_UNAVAILABLE, with failOpen too`, async () => {
      const h = await hanko(handler)
      try {
        for (const validateSession of [true, { failOpen: true }]) {
          const verifier = createVerifier({ jwksHost: h.url, validateSession, jwks: { timeout: 300 } })
          await assert.rejects(
            verifier.verify(issuer.token()),
            (err) => err instanceof JwksError && err.code === 'ERR_SESSION_UNAVAILABLE' && err.status === 503,
          )
          assert.equal(verifier.stats().sessionFailOpen, 0)
        }
        assert.equal(h.calls.filter((c) => c.method === 'GET').length, 0, 'a redirect is never followed')
      } finally {
        await h.close()
      }
    })
  }

  for (const status of [400, 401, 403, 500]) {
    test(`{"is_valid": false} with HTTP ${status} → ERR_SESSION_INVALID, with failOpen too`, async () => {
      const h = await hanko((req, res) => serveJson({ is_valid: false }, { status })(req, res))
      try {
        const verifier = createVerifier({ jwksHost: h.url, validateSession: { failOpen: true } })
        await assert.rejects(verifier.verify(issuer.token()), { code: 'ERR_SESSION_INVALID' })
      } finally {
        await h.close()
      }
    })
  }

  test('verifySync never accepts an unconfirmed session, failOpen or not (issue #13 item 5)', async () => {
    const h = await hanko((req, res) => serveJson({ is_valid: false })(req, res))
    try {
      const verifier = createVerifier({ jwksHost: h.url, jwksUri: issuer.jwksUri, validateSession: { failOpen: true } })
      await verifier.ready()
      const token = issuer.token()
      let accepted = 0
      for (let i = 0; i < 1000; i++) {
        try {
          verifier.verifySync(token)
          accepted++
        } catch (err) {
          assert.ok(err.code === 'ERR_SESSION_UNAVAILABLE' || err.code === 'ERR_SESSION_INVALID', err.code)
        }
      }
      assert.equal(accepted, 0)
      await sleep(100)
      assert.throws(() => verifier.verifySync(token), { code: 'ERR_SESSION_INVALID' })
      assert.equal(verifier.stats().sessionFailOpen, 0)
    } finally {
      await h.close()
    }
  })

  test('isRevoked refusing a token means zero calls to /sessions/validate (rule 6 order)', async () => {
    const h = await hanko(live)
    try {
      const middleware = hankoAuth(h.url, { jwksUri: issuer.jwksUri, validateSession: true, isRevoked: () => true })
      for (let i = 0; i < 5; i++) {
        const err = await new Promise((resolve) => middleware({ headers: { authorization: `Bearer ${issuer.token()}` } }, {}, resolve))
        assert.equal(err.code, 'revoked_token')
      }
      assert.equal(h.calls.length, 0)
      const allowing = hankoAuth(h.url, { jwksUri: issuer.jwksUri, validateSession: true, isRevoked: async () => false })
      const err = await new Promise((resolve) => allowing({ headers: { authorization: `Bearer ${issuer.token()}` } }, {}, resolve))
      assert.equal(err, undefined)
      assert.equal(h.calls.length, 1)
    } finally {
      await h.close()
    }
  })

  test('Hanko down → 503', async () => {
    const h = await hanko(live)
    await h.close()
    // Keys come from the issuer; the session service is the closed port.
    const verifier = createVerifier({ jwksUri: issuer.jwksUri, jwksHost: h.url, validateSession: true })
    await assert.rejects(verifier.verify(issuer.token()), { code: 'ERR_SESSION_UNAVAILABLE' })
  })

  test('a token without session_id fails with claim session_id', async () => {
    const verifier = createVerifier({ jwksHost: issuer.url, validateSession: true })
    await assert.rejects(verifier.verify(issuer.token({ session_id: undefined })), {
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'session_id',
      reason: 'missing',
    })
  })

  test('validateSession needs jwksHost, and its options are checked', () => {
    assert.throws(
      () => createVerifier({ jwksUri: issuer.jwksUri, validateSession: true }),
      (e) => e instanceof TypeError && /jwksHost/.test(e.message),
    )
    assert.throws(() => createVerifier({ jwksHost: issuer.url, validateSession: { ttl: 0 } }), RangeError)
    assert.throws(() => createVerifier({ jwksHost: issuer.url, validateSession: { failopen: true } }), /failopen/)
    assert.throws(() => createVerifier({ jwksHost: issuer.url, validateSession: 'yes' }), TypeError)
  })

  test('verifySync: a confirmed session passes, an unknown one is 503 until confirmed', async () => {
    const verifier = createVerifier({ jwksHost: issuer.url, validateSession: true })
    await verifier.ready()
    const token = issuer.token()
    assert.throws(() => verifier.verifySync(token), { code: 'ERR_SESSION_UNAVAILABLE' })
    await sleep(100) // the check it started in the background
    assert.ok(verifier.verifySync(token))
  })

  test('the middleware answers a revoked session with 401 revoked_token; calls per request under load', async () => {
    const app = express()
    app.use(hankoAuth(issuer.url, { validateSession: true }))
    app.get('/', (req, res) => res.json({ sub: req.auth.sub }))
    app.use((err, req, res, next) => res.status(err.status).json({ code: err.code }))
    const server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    const url = `http://127.0.0.1:${server.address().port}/`
    try {
      const sessionId = crypto.randomUUID()
      const token = issuer.token({ session_id: sessionId })
      const before = issuer.requests.sessions
      const requests = 500
      for (let i = 0; i < requests; i++) {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
        assert.equal(res.status, 200)
        await res.arrayBuffer()
      }
      const calls = issuer.requests.sessions - before
      assert.equal(calls, 1)
      console.log(`# session calls per request, one token, ${requests} requests: ${calls / requests}`)
      const other = crypto.randomUUID()
      issuer.revokeSession(other)
      const res = await fetch(url, { headers: { authorization: `Bearer ${issuer.token({ session_id: other })}` } })
      assert.deepEqual([res.status, await res.json()], [401, { code: 'revoked_token' }])
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })
})
