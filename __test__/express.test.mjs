// The middleware in real Express 4 and Express 5 apps on 127.0.0.1, answered by Express's own
// default error handler (and by a JSON 401 handler as users write it).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import express5 from 'express'
import express4 from 'express4'
import { hankoAuth, UnauthorizedError, JwksError } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { startServer } from './helpers.mjs'

let issuer
before(async () => {
  issuer = await createTestIssuer()
})
after(() => issuer.close())

async function listen(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

function protectedApp(express, options = {}, { jsonErrors = false, host = issuer.url, before: pre } = {}) {
  const app = express()
  if (pre) app.use(pre)
  app.get('/public', (req, res) => res.json({ ok: true }))
  app.use('/api', hankoAuth(host, options))
  app.all('/api/me', (req, res) => res.json({ auth: req.auth ?? null, user: req.user ?? null }))
  app.get('/api/throws', () => {
    throw new Error('downstream failure')
  })
  if (jsonErrors) {
    app.use((err, req, res, next) => {
      if (err.name === 'UnauthorizedError') return res.status(err.status).json({ error: err.code, detail: err.inner.code })
      next(err)
    })
  }
  return app
}

async function call(server, path, { headers = {}, method = 'GET' } = {}) {
  const res = await fetch(server.url + path, { method, headers })
  const text = await res.text()
  let body = null
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, body, text, challenge: res.headers.get('www-authenticate') }
}

for (const [name, express] of [
  ['Express 5', express5],
  ['Express 4', express4],
]) {
  describe(name, () => {
    let server
    let token
    before(async () => {
      server = await listen(protectedApp(express))
      token = issuer.token({ sub: 'user-1' })
    })
    after(() => server.close())

    test('public routes need no token', async () => {
      assert.equal((await call(server, '/public')).status, 200)
    })

    test('Authorization: Bearer → 200 with req.auth', async () => {
      const res = await call(server, '/api/me', { headers: { authorization: `Bearer ${token}` } })
      assert.equal(res.status, 200)
      assert.equal(res.body.auth.sub, 'user-1')
      assert.deepEqual(res.body.auth.aud, ['localhost'])
    })

    test('the scheme is case-insensitive', async () => {
      assert.equal((await call(server, '/api/me', { headers: { authorization: `bEaReR ${token}` } })).status, 200)
    })

    test('the hanko cookie → 200', async () => {
      const res = await call(server, '/api/me', { headers: { cookie: `theme=dark; hanko=${token}; other=1` } })
      assert.equal(res.status, 200)
      assert.equal(res.body.auth.sub, 'user-1')
    })

    test('a quoted cookie value works', async () => {
      assert.equal((await call(server, '/api/me', { headers: { cookie: `hanko="${token}"` } })).status, 200)
    })

    test('Bearer wins over the cookie, and a bad Bearer does not fall back to it', async () => {
      const res = await call(server, '/api/me', { headers: { authorization: 'Bearer nope', cookie: `hanko=${token}` } })
      assert.equal(res.status, 401)
      assert.match(res.challenge, /^Bearer error="invalid_token", error_description=".+"$/)
    })

    test('another scheme is ignored and the cookie is used', async () => {
      const res = await call(server, '/api/me', { headers: { authorization: 'Basic dXNlcjpwdw==', cookie: `hanko=${token}` } })
      assert.equal(res.status, 200)
    })

    test('no token → 401 credentials_required with WWW-Authenticate: Bearer', async () => {
      for (const headers of [{}, { authorization: 'Basic dXNlcjpwdw==' }, { cookie: 'hanko=' }, { cookie: 'hankoo=x' }]) {
        const res = await call(server, '/api/me', { headers })
        assert.equal(res.status, 401, JSON.stringify(headers))
        assert.equal(res.challenge, 'Bearer')
      }
    })

    test('a malformed Bearer header → 401 with error="invalid_request"', async () => {
      for (const authorization of ['Bearer', 'Bearer ', `Bearer ${token} extra`, `Bearer  ${token}`]) {
        const res = await call(server, '/api/me', { headers: { authorization } })
        assert.equal(res.status, 401, authorization)
        assert.match(res.challenge, /^Bearer error="invalid_request", error_description="Format is Authorization: Bearer \[token\]"$/)
      }
    })

    test('an expired token → 401 with error="invalid_token"', async () => {
      const res = await call(server, '/api/me', { headers: { authorization: `Bearer ${issuer.token({ exp: 1 })}` } })
      assert.equal(res.status, 401)
      assert.match(res.challenge, /error="invalid_token", error_description="the token has expired \('exp'\)"/)
    })

    test('a forged signature → 401', async () => {
      const [h, , s] = token.split('.')
      const forged = `${h}.${Buffer.from('{"sub":"admin","exp":9999999999}').toString('base64url')}.${s}`
      assert.equal((await call(server, '/api/me', { headers: { authorization: `Bearer ${forged}` } })).status, 401)
    })

    test('a CORS preflight asking for Authorization passes untouched', async () => {
      const preflight = { 'access-control-request-headers': 'content-type, Authorization', origin: 'http://a.example', 'access-control-request-method': 'GET' }
      const res = await call(server, '/api/me', { method: 'OPTIONS', headers: preflight })
      assert.equal(res.status, 200)
      assert.equal(res.body.auth, null)
      const plain = await call(server, '/api/me', { method: 'OPTIONS', headers: { 'access-control-request-headers': 'content-type' } })
      assert.equal(plain.status, 401)
    })

    test('an error thrown downstream is not relabelled as an auth failure', async () => {
      const res = await call(server, '/api/throws', { headers: { authorization: `Bearer ${token}` } })
      assert.equal(res.status, 500)
      assert.equal(res.challenge, null)
    })

    test('options: credentialsRequired, requestProperty, cookieName', async () => {
      const app = protectedApp(express, { credentialsRequired: false, requestProperty: 'user.jwt', cookieName: 'session' })
      const s = await listen(app)
      try {
        const none = await call(s, '/api/me')
        assert.equal(none.status, 200)
        assert.equal(none.body.auth, null)
        assert.equal(none.body.user, null)
        const bad = await call(s, '/api/me', { headers: { authorization: 'Bearer x.y.z' } })
        assert.equal(bad.status, 401, 'a bad token still fails')
        const ok = await call(s, '/api/me', { headers: { cookie: `session=${token}` } })
        assert.equal(ok.status, 200)
        assert.equal(ok.body.user.jwt.sub, 'user-1')
        assert.equal((await call(s, '/api/me', { headers: { cookie: `hanko=${token}` } })).body.user, null)
      } finally {
        await s.close()
      }
    })

    test('req.cookies is used when a cookie parser ran', async () => {
      const pre = (req, res, next) => {
        req.cookies = { hanko: token }
        next()
      }
      const s = await listen(protectedApp(express, {}, { before: pre }))
      try {
        assert.equal((await call(s, '/api/me')).status, 200)
      } finally {
        await s.close()
      }
    })

    test('getToken (sync and async) replaces the extraction', async () => {
      for (const getToken of [(req) => req.headers['x-token'], async (req) => req.headers['x-token']]) {
        const s = await listen(protectedApp(express, { getToken }))
        try {
          assert.equal((await call(s, '/api/me', { headers: { 'x-token': token } })).status, 200)
          assert.equal((await call(s, '/api/me', { headers: { authorization: `Bearer ${token}` } })).status, 401)
        } finally {
          await s.close()
        }
      }
      const notAString = await listen(protectedApp(express, { getToken: () => 42 }, { jsonErrors: true }))
      try {
        const res = await call(notAString, '/api/me')
        assert.deepEqual([res.status, res.body], [401, { error: 'invalid_token', detail: 'ERR_JWS_INVALID' }])
      } finally {
        await notAString.close()
      }
    })

    test('isRevoked (sync and async) → 401 revoked_token', async () => {
      let seen
      const isRevoked = (req, { header, payload }) => {
        seen = { header, payload }
        return payload.sub === 'revoked'
      }
      for (const fn of [isRevoked, async (...args) => isRevoked(...args)]) {
        const s = await listen(protectedApp(express, { isRevoked: fn }, { jsonErrors: true }))
        try {
          const res = await call(s, '/api/me', { headers: { authorization: `Bearer ${issuer.token({ sub: 'revoked' })}` } })
          assert.deepEqual([res.status, res.body.error], [401, 'revoked_token'])
          assert.equal(seen.header.kid, issuer.kid)
          assert.equal((await call(s, '/api/me', { headers: { authorization: `Bearer ${token}` } })).status, 200)
        } finally {
          await s.close()
        }
      }
    })

    test('a JSON 401 handler sees express-jwt codes', async () => {
      const s = await listen(protectedApp(express, {}, { jsonErrors: true }))
      try {
        const cases = [
          [{}, 'credentials_required'],
          [{ authorization: 'Bearer' }, 'credentials_bad_format'],
          [{ authorization: `Bearer ${issuer.token({ exp: 1 })}` }, 'invalid_token', 'ERR_JWT_EXPIRED'],
          [{ authorization: `Bearer ${issuer.token({}, { kid: 'unknown' })}` }, 'invalid_token', 'ERR_JWKS_NO_MATCHING_KEY'],
          [{ authorization: 'Bearer a.b' }, 'invalid_token', 'ERR_JWS_INVALID'],
        ]
        for (const [headers, code, detail] of cases) {
          const res = await call(s, '/api/me', { headers })
          assert.equal(res.status, 401)
          assert.equal(res.body.error, code)
          if (detail) assert.equal(res.body.detail, detail)
        }
      } finally {
        await s.close()
      }
    })

    test('a key set that cannot be had → 503, not 500 or 401', async () => {
      const down = await startServer((req, res) => {
        res.writeHead(500)
        res.end()
      })
      const s = await listen(protectedApp(express, {}, { host: down.url }))
      try {
        const res = await call(s, '/api/me', { headers: { authorization: `Bearer ${token}` } })
        assert.equal(res.status, 503)
        assert.equal(res.challenge, null)
      } finally {
        await s.close()
        await down.close()
      }
    })
  })
}

describe('the middleware function', () => {
  test('is named, validates options at creation, and answers synchronously on the hot path', async () => {
    const middleware = hankoAuth(issuer.url)
    assert.equal(middleware.name, 'hankoAuthMiddleware')
    for (const [options, pattern] of [
      [{ cookieName: 'a b' }, /cookieName/],
      [{ requestProperty: '__proto__.x' }, /requestProperty/],
      [{ requestProperty: '' }, /requestProperty/],
      [{ getToken: 'header' }, /getToken/],
      [{ isRevoked: true }, /isRevoked/],
      [{ credentialsRequired: 'no' }, /credentialsRequired/],
      [{ secret: 'x' }, /unknown option "secret"/],
    ]) {
      assert.throws(
        () => hankoAuth(issuer.url, options),
        (err) => err instanceof TypeError && pattern.test(err.message),
      )
    }
    assert.throws(() => hankoAuth(42), TypeError)
    assert.throws(() => hankoAuth(issuer.url, { jwksHost: issuer.url }), /twice/)
    assert.ok(hankoAuth({ jwksHost: issuer.url, audience: 'localhost' }))

    const token = issuer.token()
    const req = { method: 'GET', headers: { authorization: `Bearer ${token}` } }
    const res = { headersSent: false, setHeader() {} }
    // First request: the key set is fetched, so `next` comes later.
    await new Promise((resolve, reject) => middleware(req, res, (err) => (err ? reject(err) : resolve())))
    // Now the token is cached: `next` is called before the middleware returns.
    let calledSync = false
    let error
    middleware({ method: 'GET', headers: { authorization: `Bearer ${token}` } }, res, (err) => {
      calledSync = true
      error = err
    })
    assert.equal(calledSync, true)
    assert.equal(error, undefined)
  })

  test('UnauthorizedError and JwksError have the documented shape', async () => {
    const errors = []
    const res = {
      headersSent: false,
      headers: {},
      setHeader(k, v) {
        this.headers[k] = v
      },
    }
    await new Promise((resolve) =>
      hankoAuth(issuer.url)({ method: 'GET', headers: {} }, res, (err) => {
        errors.push(err)
        resolve()
      }),
    )
    const [err] = errors
    assert.ok(err instanceof UnauthorizedError)
    assert.equal(err.name, 'UnauthorizedError')
    assert.equal(err.status, 401)
    assert.equal(err.code, 'credentials_required')
    assert.equal(err.inner, err.cause)
    assert.equal(res.headers['WWW-Authenticate'], 'Bearer')
    const down = await startServer((req, r) => r.destroy())
    try {
      const jwksErr = await new Promise((resolve) =>
        hankoAuth(down.url)({ method: 'GET', headers: { authorization: `Bearer ${issuer.token()}` } }, res, resolve),
      )
      assert.ok(jwksErr instanceof JwksError)
      assert.equal(jwksErr.status, 503)
      assert.equal(jwksErr.code, 'ERR_JWKS_UNAVAILABLE')
    } finally {
      await down.close()
    }
  })
})
