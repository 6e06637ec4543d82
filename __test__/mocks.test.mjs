// Any req/res (README: Hosts): the middleware driven with plain-object mocks, as express-jwt's own
// tests write them. Every path calls `next` exactly once, never throws, and leaves no unhandled rejection.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { hankoAuth } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { freshPath, serveJson, sleep, startServer } from './helpers.mjs'

const unhandled = []
const onUnhandled = (reason) => unhandled.push(reason)
process.on('unhandledRejection', onUnhandled)

let issuer
before(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256' })
})
after(async () => {
  await issuer.close()
  process.off('unhandledRejection', onUnhandled)
  assert.deepEqual(unhandled, [], 'no path leaves an unhandled rejection')
})

/** Runs the middleware once; resolves with every argument list `next` got, after a settle window. */
async function run(middleware, req, res = {}) {
  const calls = []
  assert.doesNotThrow(() => middleware(req, res, (...args) => calls.push(args)))
  for (let i = 0; i < 200 && calls.length === 0; i++) await sleep(5)
  await sleep(20) // a second call would land here
  return calls
}

function once(calls) {
  assert.equal(calls.length, 1, `next called ${calls.length} times`)
  return calls[0][0]
}

describe('plain-object req and res', () => {
  let middleware
  before(async () => {
    middleware = hankoAuth(issuer.url, { algorithms: ['ES256'] })
    await middleware.verifier.ready()
  })

  test('req = {} and res = {}: credentials_required, no throw, no header', async () => {
    const err = once(await run(middleware, {}, {}))
    assert.equal(err.code, 'credentials_required')
    assert.equal(err.status, 401)
  })

  test('req = { headers: {} } with a res whose setHeader is missing', async () => {
    assert.equal(once(await run(middleware, { headers: {} }, { headersSent: false })).code, 'credentials_required')
  })

  test('a valid Bearer token: next() once and req.auth set', async () => {
    const req = { headers: { authorization: `Bearer ${issuer.token({ sub: 'mock-user' })}` } }
    assert.equal(once(await run(middleware, req, {})), undefined)
    assert.equal(req.auth.sub, 'mock-user')
    assert.equal(typeof req.auth.then, 'undefined')
  })

  test('the same token again (a cache hit) answers synchronously', () => {
    const token = issuer.token({ sub: 'hit' })
    const first = { headers: { authorization: `Bearer ${token}` } }
    const calls = []
    middleware(first, {}, (...args) => calls.push(args))
    return sleep(50).then(() => {
      const req = { headers: { authorization: `Bearer ${token}` } }
      let sync = 0
      middleware(req, {}, (err) => {
        assert.equal(err, undefined)
        sync++
      })
      assert.equal(sync, 1)
      assert.equal(req.auth.sub, 'hit')
    })
  })

  test('an expired token: invalid_token / ERR_JWT_EXPIRED', async () => {
    const req = { headers: { authorization: `Bearer ${issuer.token({ exp: Math.floor(Date.now() / 1000) - 10 })}` } }
    const err = once(await run(middleware, req, {}))
    assert.equal(err.code, 'invalid_token')
    assert.equal(err.inner.code, 'ERR_JWT_EXPIRED')
    assert.equal(req.auth, undefined)
  })

  test('garbage and a malformed Bearer header', async () => {
    assert.equal(once(await run(middleware, { headers: { authorization: 'Bearer not-a-jwt' } })).inner.code, 'ERR_JWS_INVALID')
    assert.equal(once(await run(middleware, { headers: { authorization: 'Bearer' } })).code, 'credentials_bad_format')
  })

  test('req.cookies without req.headers', async () => {
    const req = { cookies: { hanko: issuer.token({ sub: 'cookie-user' }) } }
    assert.equal(once(await run(middleware, req)), undefined)
    assert.equal(req.auth.sub, 'cookie-user')
  })

  test('headersSent: the challenge is not set', async () => {
    let set = 0
    const res = { headersSent: true, setHeader: () => set++ }
    assert.equal(once(await run(middleware, {}, res)).code, 'credentials_required')
    assert.equal(set, 0)
  })

  test('a res with setHeader gets the RFC 6750 challenge', async () => {
    const headers = {}
    const res = { setHeader: (name, value) => (headers[name] = value) }
    once(await run(middleware, {}, res))
    assert.equal(headers['WWW-Authenticate'], 'Bearer')
  })

  test('credentialsRequired: false with req = {}', async () => {
    const lenient = hankoAuth(issuer.url, { algorithms: ['ES256'], credentialsRequired: false })
    const req = {}
    assert.equal(once(await run(lenient, req)), undefined)
    assert.equal(req.auth, undefined)
  })

  test('getToken that throws, rejects, or returns a non-string', async () => {
    const boom = new Error('boom')
    const cases = [
      [
        () => {
          throw boom
        },
        (err) => assert.equal(err, boom),
      ],
      [() => Promise.reject(boom), (err) => assert.equal(err, boom)],
      [() => 42, (err) => assert.equal(err.code, 'invalid_token')],
      [async () => issuer.token({ sub: 'async-get' }), (err) => assert.equal(err, undefined)],
    ]
    for (const [getToken, check] of cases) {
      check(once(await run(hankoAuth(issuer.url, { algorithms: ['ES256'], getToken }), {})))
    }
  })

  test('isRevoked that throws, rejects, or says true', async () => {
    const boom = new Error('boom')
    const token = issuer.token()
    const cases = [
      [
        () => {
          throw boom
        },
        (err) => assert.equal(err, boom),
      ],
      [() => Promise.reject(boom), (err) => assert.equal(err, boom)],
      [async () => true, (err) => assert.equal(err.code, 'revoked_token')],
      [() => true, (err) => assert.equal(err.code, 'revoked_token')],
      [() => false, (err) => assert.equal(err, undefined)],
    ]
    for (const [isRevoked, check] of cases) {
      const m = hankoAuth(issuer.url, { algorithms: ['ES256'], isRevoked })
      check(once(await run(m, { headers: { authorization: `Bearer ${token}` } }, {})))
    }
  })

  test('a frozen req: setting req.auth fails through next(err), once', async () => {
    const req = Object.freeze({ headers: Object.freeze({ authorization: `Bearer ${issuer.token()}` }) })
    const err = once(await run(middleware, req))
    assert.equal(err.name, 'TypeError')
  })
})

describe('the first request for a key set (the async path)', () => {
  test('a fresh key-set URL: the token waits for the fetch, next once', async () => {
    const keys = await startServer(serveJson(issuer.jwks))
    try {
      const m = hankoAuth({ jwksUri: `${keys.url}${freshPath()}`, algorithms: ['ES256'] })
      const req = { headers: { authorization: `Bearer ${issuer.token({ sub: 'first' })}` } }
      assert.equal(once(await run(m, req, {})), undefined)
      assert.equal(req.auth.sub, 'first')
    } finally {
      await keys.close()
    }
  })

  test('a key set that cannot be had: a 503 JwksError, next once', async () => {
    const keys = await startServer(serveJson('nope', { status: 500 }))
    try {
      const m = hankoAuth({ jwksUri: `${keys.url}${freshPath()}`, algorithms: ['ES256'] })
      const err = once(await run(m, { headers: { authorization: `Bearer ${issuer.token()}` } }, {}))
      assert.equal(err.status, 503)
      assert.equal(err.code, 'ERR_JWKS_UNAVAILABLE')
    } finally {
      await keys.close()
    }
  })
})

test('a next() that throws on the async path surfaces as one uncaught exception, not an unhandled rejection', () => {
  const script = `
    const { hankoAuth } = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
    const { createTestIssuer } = require(${JSON.stringify(fileURLToPath(new URL('../testing.js', import.meta.url)))})
    const seen = { calls: 0, uncaught: [], unhandled: 0 }
    process.on('uncaughtException', (err) => seen.uncaught.push(err.message))
    process.on('unhandledRejection', () => seen.unhandled++)
    createTestIssuer({ algorithm: 'ES256' }).then((issuer) => {
      const m = hankoAuth(issuer.url, { algorithms: ['ES256'] }) // keys not loaded yet: the async path
      m({ headers: { authorization: 'Bearer ' + issuer.token() } }, {}, () => {
        seen.calls++
        throw new Error('thrown by next')
      })
      setTimeout(() => { console.log(JSON.stringify(seen)); issuer.close() }, 500)
    })`
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(child.status, 0, child.stderr)
  assert.deepEqual(JSON.parse(child.stdout), { calls: 1, uncaught: ['thrown by next'], unhandled: 0 })
})
