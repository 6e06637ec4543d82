// hankoWebhooks (README: Instant logout): Hanko's signed webhooks, delivered by the test issuer to a real
// Express app, act on the revocation list; every refusal has its exact status and code, and revokes nothing.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import { promisify } from 'node:util'
import { PassThrough } from 'node:stream'
import { after, before, describe, mock, test } from 'node:test'
import express from 'express'
import { createRevocationList, hankoAuth, hankoWebhooks } from '../index.mjs'
import { createTestIssuer, signJws } from '../testing.mjs'
import { claimsOf, getWithToken, listen } from './helpers.mjs'

let issuer
before(async () => {
  issuer = await createTestIssuer({ modulusLength: 2048 })
})
after(() => issuer.close())

const LOGOUT = 'session.delete.explicit.logout'

/** An app with the webhook route and a protected route sharing one list; `events` records onEvent. */
async function webhookApp({ host = issuer.url, parser, ...options } = {}) {
  const revocations = createRevocationList()
  const events = []
  const app = express()
  const handlers = parser === undefined ? [] : [parser]
  app.post(
    '/hanko/webhooks',
    ...handlers,
    hankoWebhooks(host, {
      revocations,
      onEvent: (evt, data) => {
        events.push([evt, data])
        if (evt === 'user.update') throw new Error('the app failed')
      },
      ...options,
    }),
  )
  app.get('/me', hankoAuth(host, { revocations }), (req, res) => res.json({ sub: req.auth.sub }))
  app.use((err, req, res, _next) => res.status(err.status ?? 500).json({ code: err.code, message: err.message }))
  const server = await listen(app)
  const post = (body, headers = {}) =>
    fetch(`${server.url}/hanko/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }))
  return { ...server, revocations, events, post, hook: `${server.url}/hanko/webhooks` }
}

const session = (id, expiresAt = new Date(Date.now() + 3600_000).toISOString()) => ({
  id,
  user_id: crypto.randomUUID(),
  user_agent: 'test',
  ip_address: '127.0.0.1',
  created_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
  expires_at: expiresAt,
  last_used: new Date().toISOString(),
})

describe('hankoWebhooks', () => {
  test('a logout webhook: 200, and the next request with that session is refused (revoked_token)', async () => {
    const app = await webhookApp()
    try {
      const token = issuer.token()
      const sessionId = claimsOf(token).session_id
      assert.equal((await getWithToken(`${app.url}/me`, token)).status, 200)
      const delivered = await issuer.webhook(LOGOUT, session(sessionId), { url: app.hook })
      assert.deepEqual(delivered, { status: 200, body: { ok: true, event: LOGOUT, action: 'revoked-session' } })
      const next = await getWithToken(`${app.url}/me`, token)
      assert.deepEqual([next.status, next.body.code], [401, 'revoked_token'])
      assert.equal((await getWithToken(`${app.url}/me`, issuer.token())).status, 200, 'other sessions pass')
      assert.deepEqual(
        app.events.map(([evt, data]) => [evt, data.id]),
        [[LOGOUT, sessionId]],
        'onEvent saw the signed evt and data',
      )
    } finally {
      await app.close()
    }
  })

  test('every session.delete.* event revokes; expires_at null revokes for 24 h', async () => {
    const app = await webhookApp()
    try {
      const kinds = ['explicit.revoke', 'admin.revoke', 'passive.expire', 'passive.limit']
      for (const kind of kinds) {
        const id = crypto.randomUUID()
        const delivered = await issuer.webhook(`session.delete.${kind}`, session(id, null), { url: app.hook })
        assert.deepEqual(delivered.body.action, 'revoked-session', kind)
        assert.equal(app.revocations.isRevoked({ session_id: id }), true, kind)
      }
      assert.equal(app.revocations.stats().sessions, 4)
    } finally {
      await app.close()
    }
  })

  test('user.delete revokes the user; other verified events are passed to onEvent and ignored', async () => {
    const app = await webhookApp()
    try {
      const userId = crypto.randomUUID()
      const token = issuer.token({ sub: userId })
      assert.equal((await getWithToken(`${app.url}/me`, token)).status, 200)
      assert.deepEqual((await issuer.webhook('user.delete', { id: userId }, { url: app.hook })).body.action, 'revoked-user')
      assert.equal((await getWithToken(`${app.url}/me`, token)).body.code, 'revoked_token')
      const created = await issuer.webhook('user.create', { id: 'new-user' }, { url: app.hook })
      assert.deepEqual(created, { status: 200, body: { ok: true, event: 'user.create', action: 'ignored' } })
      const flow = await issuer.webhook('session.create.flow', session('s-new'), { url: app.hook })
      assert.equal(flow.body.action, 'ignored')
      assert.deepEqual(
        app.events.map(([evt]) => evt),
        ['user.delete', 'user.create', 'session.create.flow'],
      )
      assert.deepEqual(app.revocations.stats(), { sessions: 0, users: 1, store: 'memory' })
    } finally {
      await app.close()
    }
  })

  test('only the signed evt counts: the body says logout, the token says user.create', async () => {
    const app = await webhookApp()
    try {
      const token = issuer.webhookToken('user.create', { id: 'someone' })
      const answer = await app.post(JSON.stringify({ token, event: LOGOUT }))
      assert.deepEqual(answer, { status: 200, body: { ok: true, event: 'user.create', action: 'ignored' } })
      assert.deepEqual(app.revocations.stats(), { sessions: 0, users: 0, store: 'memory' })
    } finally {
      await app.close()
    }
  })

  test('a replayed webhook is harmless (idempotent)', async () => {
    const app = await webhookApp()
    try {
      const body = JSON.stringify({ token: issuer.webhookToken(LOGOUT, session('replayed')), event: LOGOUT })
      for (let i = 0; i < 3; i++) assert.equal((await app.post(body)).status, 200)
      assert.deepEqual(app.revocations.stats(), { sessions: 1, users: 0, store: 'memory' })
    } finally {
      await app.close()
    }
  })

  test('refusals: 401 with the exact code, nothing revoked', async () => {
    const app = await webhookApp({ audience: 'localhost' })
    try {
      const now = Math.floor(Date.now() / 1000)
      const stranger = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
      const forged = signJws(
        { alg: 'RS256', kid: issuer.kid, typ: 'JWT' },
        { sub: 'hanko webhooks', iat: now, exp: now + 300, aud: ['localhost'], evt: LOGOUT, data: session('a') },
        stranger,
      )
      const cases = [
        ['a signature by another key', forged, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
        ['expired', issuer.webhookToken(LOGOUT, session('b'), { iat: now - 600, exp: now - 300 }), 'ERR_JWT_EXPIRED'],
        ['no exp', issuer.webhookToken(LOGOUT, session('c'), { exp: undefined }), 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
        ['a session token (wrong sub)', issuer.token({ evt: LOGOUT, data: session('d') }), 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
        ['the wrong audience', issuer.webhookToken(LOGOUT, session('e'), { aud: ['other.example'] }), 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
        ['no evt', issuer.webhookToken(LOGOUT, session('f'), { evt: undefined }), 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
        ['evt not a string', issuer.webhookToken(LOGOUT, session('g'), { evt: 7 }), 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
        ['not a JWT', 'not.a.jwt', 'ERR_JWS_INVALID'],
      ]
      for (const [name, token, code] of cases) {
        const answer = await app.post(JSON.stringify({ token, event: LOGOUT }))
        assert.deepEqual([answer.status, answer.body.error], [401, code], name)
      }
      assert.deepEqual(app.revocations.stats(), { sessions: 0, users: 0, store: 'memory' })
      assert.deepEqual(app.events, [])
    } finally {
      await app.close()
    }
  })

  test('bodies that are not {token, event}: 400, nothing revoked', async () => {
    const app = await webhookApp()
    try {
      const token = issuer.webhookToken(LOGOUT, session('h'))
      const cases = [
        ['not JSON', 'nope', 'ERR_WEBHOOK_BODY_INVALID'],
        ['empty', '', 'ERR_WEBHOOK_BODY_INVALID'],
        ['an array', JSON.stringify([token]), 'ERR_WEBHOOK_BODY_INVALID'],
        ['null', 'null', 'ERR_WEBHOOK_BODY_INVALID'],
        ['no event', JSON.stringify({ token }), 'ERR_WEBHOOK_BODY_INVALID'],
        ['token not a string', JSON.stringify({ token: 1, event: LOGOUT }), 'ERR_WEBHOOK_BODY_INVALID'],
        ['deeply nested', '['.repeat(100_000), 'ERR_WEBHOOK_BODY_TOO_LARGE'],
        ['over 64 KiB', JSON.stringify({ token, event: LOGOUT, pad: 'x'.repeat(64 * 1024) }), 'ERR_WEBHOOK_BODY_TOO_LARGE'],
        ['nested but small', '['.repeat(60_000), 'ERR_WEBHOOK_BODY_INVALID'],
      ]
      for (const [name, body, code] of cases) {
        const answer = await app.post(body)
        assert.deepEqual([answer.status, answer.body.error], [400, code], name)
      }
      // A chunked body over the limit (no content-length): refused while it streams.
      const chunked = await fetch(app.hook, {
        method: 'POST',
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)))
            controller.close()
          },
        }),
        duplex: 'half',
      }).then(async (r) => [r.status, (await r.json()).error])
      assert.deepEqual(chunked, [400, 'ERR_WEBHOOK_BODY_TOO_LARGE'])
      assert.deepEqual(app.revocations.stats(), { sessions: 0, users: 0, store: 'memory' })
    } finally {
      await app.close()
    }
  })

  test('a body parser that ran first (express.json, express.raw, express.text) is used', async () => {
    for (const parser of [express.json(), express.raw({ type: '*/*' }), express.text({ type: '*/*' })]) {
      const app = await webhookApp({ parser })
      try {
        const delivered = await issuer.webhook(LOGOUT, session('parsed'), { url: app.hook })
        assert.deepEqual(delivered.body.action, 'revoked-session')
        assert.equal(app.revocations.isRevoked({ session_id: 'parsed' }), true)
      } finally {
        await app.close()
      }
    }
  })

  test('a tenant whose keys rotated: the unknown kid is refetched, the webhook verifies', async () => {
    const tenant = await createTestIssuer({ modulusLength: 2048 })
    const app = await webhookApp({ host: tenant.url })
    try {
      assert.equal((await tenant.webhook(LOGOUT, session('before'), { url: app.hook })).status, 200)
      const fetches = tenant.requests.jwks
      await tenant.rotate()
      const delivered = await tenant.webhook(LOGOUT, session('after-rotation'), { url: app.hook })
      assert.deepEqual([delivered.status, delivered.body.action], [200, 'revoked-session'])
      assert.equal(tenant.requests.jwks, fetches + 1, 'one refetch for the new kid')
    } finally {
      await app.close()
      await tenant.close()
    }
  })

  test('the key set cannot be had: 503, so Hanko retries', async () => {
    const gone = await createTestIssuer({ modulusLength: 2048 })
    const token = gone.webhookToken(LOGOUT, session('unreachable'))
    const url = gone.url
    await gone.close()
    const app = await webhookApp({ host: url, jwks: { timeout: 1_000 } })
    try {
      const answer = await app.post(JSON.stringify({ token, event: LOGOUT }))
      assert.deepEqual([answer.status, answer.body.error], [503, 'ERR_JWKS_UNAVAILABLE'])
      assert.deepEqual(app.revocations.stats(), { sessions: 0, users: 0, store: 'memory' })
    } finally {
      await app.close()
    }
  })

  test('onEvent that throws goes to next(err) (a 5xx: Hanko retries; revoking again is harmless)', async () => {
    const app = await webhookApp()
    try {
      const answer = await issuer.webhook('user.update', { id: 'u' }, { url: app.hook })
      assert.deepEqual(answer, { status: 500, body: { message: 'the app failed' } })
    } finally {
      await app.close()
    }
  })

  test('NODE_DEBUG=hanko-auth logs webhooks and revocations, one line each', async () => {
    const script = `
      import express from 'express'
      import { createRevocationList, hankoWebhooks } from './index.mjs'
      import { createTestIssuer } from './testing.mjs'
      const issuer = await createTestIssuer({ modulusLength: 2048 })
      const app = express()
      app.post('/hooks', hankoWebhooks(issuer.url, { revocations: createRevocationList() }))
      const server = app.listen(0, '127.0.0.1')
      await new Promise((resolve) => server.once('listening', resolve))
      const url = 'http://127.0.0.1:' + server.address().port + '/hooks'
      await issuer.webhook('${LOGOUT}', { id: 's-debug', expires_at: '2099-01-01T00:00:00Z' }, { url })
      await fetch(url, { method: 'POST', body: 'nope' })
      server.close()
      await issuer.close()`
    const run = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, NODE_DEBUG: 'hanko-auth' },
    })
    const lines = run.stderr.split('\n').filter((line) => /^HANKO-AUTH \d+: (revoked|webhook)/.test(line))
    assert.deepEqual(
      lines.map((line) => line.replace(/^HANKO-AUTH \d+: /, '')),
      [
        'revoked session s-debug until 2099-01-01T00:00:00.000Z',
        `webhook ${LOGOUT}: revoked-session`,
        'webhook refused (ERR_WEBHOOK_BODY_INVALID): the body is not JSON',
      ],
    )
  })

  test('a body that has not arrived within 10 s: 400 ERR_WEBHOOK_BODY_TIMEOUT, nothing revoked', async () => {
    const revocations = createRevocationList()
    const handler = hankoWebhooks(issuer.url, { revocations })
    try {
      mock.timers.enable({ apis: ['setTimeout'] })
    } catch {
      mock.timers.enable(['setTimeout']) // Node 18's form
    }
    try {
      // A sender that sends headers and part of a body, then nothing.
      const req = Object.assign(new PassThrough(), { method: 'POST', headers: { 'content-type': 'application/json' } })
      req.write('{"token": "')
      const written = {}
      const answered = new Promise((resolve) => {
        const res = {
          headersSent: false,
          statusCode: 200,
          setHeader: (name, value) => {
            written[name] = value
          },
          end: (body) => resolve({ status: res.statusCode, body: JSON.parse(body) }),
        }
        handler(req, res, (err) => resolve({ nextCalledWith: err }))
      })
      mock.timers.tick(10_000)
      const answer = await answered
      assert.deepEqual(answer, { status: 400, body: { error: 'ERR_WEBHOOK_BODY_TIMEOUT', message: 'the body did not arrive within 10 s' } })
      assert.equal(written.connection, 'close')
      assert.deepEqual(revocations.stats(), { sessions: 0, users: 0, store: 'memory' })
    } finally {
      mock.timers.reset()
    }
  })

  test('options are checked at creation', () => {
    assert.throws(() => hankoWebhooks(issuer.url), { name: 'TypeError', message: 'hankoWebhooks: pass revocations, onEvent, or both' })
    assert.throws(() => hankoWebhooks(issuer.url, { onEvent: 1 }), { name: 'TypeError', message: /onEvent must be a function/ })
    assert.throws(() => hankoWebhooks(issuer.url, { revocations: {} }), { name: 'TypeError', message: /revocations must be a revocation list/ })
    assert.throws(() => hankoWebhooks(issuer.url, { onEvent() {}, subject: 'x' }), { name: 'TypeError', message: /unknown option "subject"/ })
  })
})
