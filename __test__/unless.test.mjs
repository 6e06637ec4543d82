// middleware.unless(options): express-unless's documented cases, with plain mocks and in a real app.
import assert from 'node:assert/strict'
import express from 'express'
import { after, before, describe, test } from 'node:test'
import { hankoAuth } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'

let issuer
let auth
before(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256' })
  auth = hankoAuth(issuer.url, { algorithms: ['ES256'] })
  await auth.verifier.ready()
})
after(() => issuer.close())

/** 'skipped' when next() got no error (the auth middleware did not run, or passed), else the code. */
function outcome(middleware, req) {
  return new Promise((resolve) => {
    if (req.headers === undefined) req.headers = {}
    middleware(req, {}, (err) => resolve(err === undefined ? 'skipped' : err.code))
  })
}

const cases = [
  // [title, options, request, expected]
  ['path string matches', { path: '/login' }, { method: 'GET', url: '/login' }, 'skipped'],
  ['path string does not match another path', { path: '/login' }, { method: 'GET', url: '/api' }, 'credentials_required'],
  ['path ignores the query string', { path: '/login' }, { method: 'GET', url: '/login?next=/x' }, 'skipped'],
  ['path string is exact (no prefix match)', { path: '/login' }, { method: 'GET', url: '/login/extra' }, 'credentials_required'],
  ['path array', { path: ['/index.html', '/'] }, { method: 'GET', url: '/' }, 'skipped'],
  ['path RegExp', { path: /^\/public\// }, { method: 'GET', url: '/public/a.css' }, 'skipped'],
  ['path global RegExp matches every time', { path: /^\/public/g }, { method: 'GET', url: '/public' }, 'skipped'],
  ['path RegExp in an array with strings', { path: ['/a', /^\/b/] }, { method: 'GET', url: '/bcd' }, 'skipped'],
  ['path { url, methods }: method listed', { path: [{ url: '/items', methods: ['GET', 'PUT'] }] }, { method: 'GET', url: '/items' }, 'skipped'],
  [
    'path { url, methods }: method not listed',
    { path: [{ url: '/items', methods: ['GET', 'PUT'] }] },
    { method: 'POST', url: '/items' },
    'credentials_required',
  ],
  ['path { url, method } (one method)', { path: { url: '/items', method: 'DELETE' } }, { method: 'DELETE', url: '/items' }, 'skipped'],
  ['path { url: RegExp, methods }', { path: { url: /^\/items/, methods: 'GET' } }, { method: 'GET', url: '/items/7' }, 'skipped'],
  ['method string', { method: 'OPTIONS' }, { method: 'OPTIONS', url: '/x' }, 'skipped'],
  ['method string, other method', { method: 'OPTIONS' }, { method: 'GET', url: '/x' }, 'credentials_required'],
  ['method array', { method: ['GET', 'HEAD'] }, { method: 'HEAD', url: '/x' }, 'skipped'],
  ['ext string', { ext: '.html' }, { method: 'GET', url: '/index.html' }, 'skipped'],
  ['ext array', { ext: ['.jpg', '.css'] }, { method: 'GET', url: '/a/b.css?v=2' }, 'skipped'],
  ['ext, other extension', { ext: ['.jpg', '.css'] }, { method: 'GET', url: '/a/b.js' }, 'credentials_required'],
  ['custom true', { custom: (req) => req.url === '/c' }, { method: 'GET', url: '/c' }, 'skipped'],
  ['custom false', { custom: (req) => req.url === '/c' }, { method: 'GET', url: '/d' }, 'credentials_required'],
  ['custom async', { custom: async (req) => req.url === '/c' }, { method: 'GET', url: '/c' }, 'skipped'],
  ['a function as options is custom', (req) => req.method === 'GET', { method: 'GET', url: '/x' }, 'skipped'],
  ['useOriginalUrl (default): originalUrl is matched', { path: '/api/login' }, { method: 'GET', originalUrl: '/api/login', url: '/login' }, 'skipped'],
  ['useOriginalUrl: false matches req.url', { path: '/login', useOriginalUrl: false }, { method: 'GET', originalUrl: '/api/login', url: '/login' }, 'skipped'],
  [
    'useOriginalUrl: false ignores originalUrl',
    { path: '/api/login', useOriginalUrl: false },
    { method: 'GET', originalUrl: '/api/login', url: '/login' },
    'credentials_required',
  ],
  ['no originalUrl falls back to url', { path: '/login' }, { method: 'GET', url: '/login' }, 'skipped'],
  ['rules combine: any match skips', { path: '/a', method: 'OPTIONS', ext: '.png' }, { method: 'GET', url: '/b.png' }, 'skipped'],
]

describe('unless rules (express-unless semantics)', () => {
  for (const [title, options, req, expected] of cases) {
    test(title, async () => {
      assert.equal(await outcome(auth.unless(options), req), expected)
    })
  }

  test('a valid token still authenticates where no rule matches', async () => {
    const req = { method: 'GET', url: '/api', headers: { authorization: `Bearer ${issuer.token({ sub: 'u' })}` } }
    assert.equal(await outcome(auth.unless({ path: '/login' }), req), 'skipped')
    assert.equal(req.auth.sub, 'u')
  })

  test('custom that throws or rejects goes to next(err) once', async () => {
    const boom = new Error('boom')
    for (const custom of [
      () => {
        throw boom
      },
      () => Promise.reject(boom),
    ]) {
      const calls = []
      auth.unless({ custom })({ headers: {}, url: '/' }, {}, (err) => calls.push(err))
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.deepEqual(calls, [boom])
    }
  })

  test('options are validated at creation', () => {
    const bad = [
      [{ path: 5 }, /path must be/],
      [{ path: [{ methods: ['GET'] }] }, /path must be/],
      [{ method: 3 }, /method must be/],
      [{ ext: [''] }, /ext must be/],
      [{ custom: 'yes' }, /custom must be a function/],
      [{ useOriginalUrl: 'no' }, /useOriginalUrl must be a boolean/],
      [{ paths: ['/x'] }, /unknown option "paths"/],
      ['/login', /options must be an object or a function/],
    ]
    for (const [options, pattern] of bad)
      assert.throws(
        () => auth.unless(options),
        (err) => err.name === 'TypeError' && pattern.test(err.message),
        String(pattern),
      )
  })
})

test('in an Express app: app.use(hankoAuth(url).unless({ path: [...] }))', async () => {
  const app = express()
  app.use(hankoAuth(issuer.url, { algorithms: ['ES256'] }).unless({ path: ['/login', { url: '/health', methods: ['GET'] }] }))
  app.all('/{*any}', (req, res) => res.json({ sub: req.auth?.sub ?? null }))
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  const url = `http://127.0.0.1:${server.address().port}`
  try {
    assert.equal((await fetch(`${url}/login`)).status, 200)
    assert.equal((await fetch(`${url}/health`)).status, 200)
    assert.equal((await fetch(`${url}/health`, { method: 'POST' })).status, 401)
    assert.equal((await fetch(`${url}/api`)).status, 401)
    const ok = await fetch(`${url}/api`, { headers: { authorization: `Bearer ${issuer.token({ sub: 'app-user' })}` } })
    assert.deepEqual(await ok.json(), { sub: 'app-user' })
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})
