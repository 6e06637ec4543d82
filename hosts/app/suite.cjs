// One app test suite, run by every test runner in hosts/ (Jest, Vitest's four pools). The runner hands
// in its own describe/test/expect, so the cases are the same everywhere. Hooks run with each runner's
// default timeout (5 s for Jest): the test issuers start from shipped test-only keys in milliseconds. Tokens are signed by the test
// issuer (node:crypto), never by hanko-auth.
const request = require('supertest')
const { createTestIssuer } = require('hanko-auth/testing')
const { createVerifier } = require('hanko-auth')
const { createApp } = require('./app.cjs')

/** Ways a token travels: `(req, token) => req`. */
const transports = {
  bearer: (req, token) => req.set('Authorization', `Bearer ${token}`),
  cookie: (req, token) => req.set('Cookie', `theme=dark; hanko=${token}`),
}

function badTokens(issuer, foreign) {
  const now = Math.floor(Date.now() / 1000)
  const [header, , signature] = issuer.token().split('.')
  const forgedPayload = Buffer.from(JSON.stringify({ sub: 'admin', exp: now + 3600, aud: ['localhost'] })).toString('base64url')
  return [
    ['expired', issuer.token({ exp: now - 60 }), 'ERR_JWT_EXPIRED'],
    ['garbage', 'not.a.jwt', 'ERR_JWS_INVALID'],
    ['tampered', `${header}.${forgedPayload}.${signature}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['foreign (signed by another issuer with our kid)', foreign.token({}, { kid: issuer.kid }), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['foreign (another issuer, its own kid)', foreign.token(), 'ERR_JWKS_NO_MATCHING_KEY'],
  ]
}

/** The Express round trip over one transport: 200 for a valid token, 401 + code for every bad one. */
function appSuite({ describe, test, expect, beforeAll, afterAll }, transportName) {
  const send = transports[transportName]
  describe(`Express app, token in the ${transportName}`, () => {
    let issuer
    let foreign
    let app
    beforeAll(async () => {
      ;[issuer, foreign] = await Promise.all([createTestIssuer(), createTestIssuer({ modulusLength: 2048 })])
      app = createApp(issuer.url)
    })
    afterAll(async () => {
      await Promise.all([issuer?.close(), foreign?.close()])
    })

    test('a public route needs no token', async () => {
      expect((await request(app).get('/public')).status).toBe(200)
    })

    test('no token: 401 credentials_required', async () => {
      const res = await request(app).get('/me')
      expect(res.status).toBe(401)
      expect(res.body.error).toBe('credentials_required')
      expect(res.headers['www-authenticate']).toBe('Bearer')
    })

    test('a valid token: 200 with the claims on req.auth (twice: new, then cached)', async () => {
      const token = issuer.token({ sub: `user-${transportName}` })
      for (let i = 0; i < 2; i++) {
        const res = await send(request(app).get('/me'), token)
        expect(res.status).toBe(200)
        expect(res.body).toEqual({ sub: `user-${transportName}`, isPromise: false })
      }
    })

    test('bad tokens: 401 invalid_token with the exact reason', async () => {
      for (const [name, token, reason] of badTokens(issuer, foreign)) {
        for (let i = 0; i < 2; i++) {
          const res = await send(request(app).get('/me'), token)
          expect({ name, status: res.status, error: res.body.error, reason: res.body.reason }).toEqual({ name, status: 401, error: 'invalid_token', reason })
        }
      }
    })
  })
}

/** verify() and verifySync() outside Express, plus a session Hanko has ended. */
function verifySuite({ describe, test, expect, beforeAll, afterAll }) {
  describe('createVerifier', () => {
    let issuer
    let foreign
    beforeAll(async () => {
      ;[issuer, foreign] = await Promise.all([createTestIssuer(), createTestIssuer({ modulusLength: 2048 })])
    })
    afterAll(async () => {
      await Promise.all([issuer?.close(), foreign?.close()])
    })

    test('verify() resolves a valid token and rejects each bad one with its code', async () => {
      const verifier = createVerifier({ jwksHost: issuer.url })
      expect((await verifier.verify(issuer.token({ sub: 'v' }))).sub).toBe('v')
      for (const [name, token, code] of badTokens(issuer, foreign)) {
        const outcome = await verifier.verify(token).then(
          () => 'accepted',
          (err) => err.code,
        )
        expect({ name, outcome }).toEqual({ name, outcome: code })
      }
    })

    test('verifySync() after ready()', async () => {
      const verifier = createVerifier({ jwksHost: issuer.url })
      await verifier.ready()
      expect(verifier.verifySync(issuer.token({ sub: 's' })).sub).toBe('s')
      expect(() => verifier.verifySync(issuer.token({ exp: 1 }))).toThrow(expect.objectContaining({ code: 'ERR_JWT_EXPIRED' }))
    })

    test('validateSession: a session Hanko ended gets 401 revoked_token', async () => {
      const app = createApp(issuer.url, { validateSession: true })
      const token = issuer.token()
      expect((await transports.bearer(request(app).get('/me'), token)).status).toBe(200)
      const fresh = issuer.token()
      issuer.revokeSession(JSON.parse(Buffer.from(fresh.split('.')[1], 'base64url')).session_id)
      const res = await transports.bearer(request(app).get('/me'), fresh)
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'revoked_token' })
    })
  })
}

module.exports = { appSuite, verifySuite }
