// The native verifier through its JS API: RFC 7515 / RFC 7519 rule by rule (README: Security notes), against a real JWKS on 127.0.0.1.
// Tokens are signed with node:crypto (hanko-auth/testing), never by the code under test.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { createRequire } from 'node:module'
import { after, before, describe, test } from 'node:test'
import { createVerifier, verify, JwtError, JwksError, Verifier } from '../index.mjs'
import { createTestIssuer, signJws } from '../testing.mjs'
import { b64url, hmacToken, rawToken, startServer, serveJson } from './helpers.mjs'

const require = createRequire(import.meta.url)

let issuer
let other // a second issuer: keys the verifier must not trust
before(async () => {
  ;[issuer, other] = await Promise.all([createTestIssuer(), createTestIssuer({ modulusLength: 2048 })])
})
after(async () => {
  await issuer.close()
  await other.close()
})

async function rejects(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, code, `${err.code}: ${err.message}`)
    return true
  })
}

describe('a Hanko-shaped token verifies', () => {
  test('through verify(), createVerifier().verify() and verifySync() after ready()', async () => {
    const token = issuer.token({ username: 'ada', amr: ['passkey'] })
    const claims = await verify(token, { jwksHost: issuer.url })
    assert.deepEqual(claims.aud, ['localhost'])
    assert.equal(typeof claims.session_id, 'string')
    assert.deepEqual(claims.email, { address: 'user@example.com', is_primary: true, is_verified: true })
    assert.equal(claims.username, 'ada')
    const verifier = createVerifier({ jwksHost: issuer.url, audience: 'localhost' })
    assert.deepEqual(await verifier.verify(token), claims)
    await verifier.ready()
    assert.deepEqual(verifier.verifySync(token), claims)
    assert.ok(verifier instanceof Verifier)
  })

  test('from CommonJS too, with the same classes', async () => {
    const cjs = require('../index.js')
    assert.equal(cjs.JwtError, JwtError)
    const verifier = cjs.createVerifier({ jwksHost: issuer.url })
    await verifier.ready()
    assert.equal(verifier.verifySync(issuer.token({ sub: 'cjs' })).sub, 'cjs')
  })

  test('verify(token) uses HANKO_API_URL when no options are given', async () => {
    process.env.HANKO_API_URL = issuer.url
    try {
      assert.equal((await verify(issuer.token({ sub: 'env' }))).sub, 'env')
    } finally {
      delete process.env.HANKO_API_URL
    }
  })

  test('verifySync before the first load throws ERR_JWKS_NOT_LOADED (503)', async () => {
    const server = await startServer(serveJson(issuer.jwks))
    try {
      const verifier = createVerifier({ jwksHost: server.url })
      assert.throws(
        () => verifier.verifySync(issuer.token()),
        (err) => {
          assert.ok(err instanceof JwksError)
          assert.equal(err.code, 'ERR_JWKS_NOT_LOADED')
          assert.equal(err.status, 503)
          return true
        },
      )
    } finally {
      await server.close()
    }
  })

  test('verifiers with the same JWKS URL share one key cache', async () => {
    const server = await startServer(serveJson(issuer.jwks))
    try {
      const a = createVerifier({ jwksHost: server.url })
      const b = createVerifier({ jwksHost: server.url, audience: 'localhost' })
      await Promise.all([a.verify(issuer.token()), b.verify(issuer.token())])
      b.verifySync(issuer.token())
      assert.equal(server.hits, 1)
      assert.equal(a.stats().jwksFetches, 1)
    } finally {
      await server.close()
    }
  })
})

describe('rule 1: structure', () => {
  let verifier
  before(async () => {
    verifier = createVerifier({ jwksHost: issuer.url })
    await verifier.ready()
  })
  const header = { alg: 'RS256', kid: 'x', typ: 'JWT' }
  const cases = [
    ['two segments', 'eyJhbGciOiJSUzI1NiJ9.e30', 'ERR_JWS_INVALID'],
    ['four segments', () => `${issuer.token()}.e30`, 'ERR_JWS_INVALID'],
    ['a 20 KiB token', () => rawToken(header, b64url({ sub: 'x', pad: 'a'.repeat(20 * 1024) })), 'ERR_JWS_INVALID'],
    ['padding', () => `${issuer.token()}=`, 'ERR_JWS_INVALID'],
    ['a non-base64url header', rawToken('ey*', 'e30'), 'ERR_JWS_INVALID'],
    ['a header that is an array', rawToken(['RS256'], {}), 'ERR_JWS_INVALID'],
    ['a header that is not JSON', rawToken(b64url('{alg'), {}), 'ERR_JWS_INVALID'],
    ['a payload that is a string', rawToken(header, b64url('"sub"')), 'ERR_JWT_INVALID'],
    ['a payload that is not JSON', rawToken(header, b64url('not json')), 'ERR_JWT_INVALID'],
    ['deep JSON nesting', rawToken(header, b64url(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`)), 'ERR_JWT_INVALID'],
    ['duplicate claim names', rawToken(header, b64url('{"sub":"a","sub":"b"}')), 'ERR_JWT_INVALID'],
    ['an empty string', '', 'ERR_JWS_INVALID'],
    ['a number', 42, 'ERR_JWS_INVALID'],
  ]
  for (const [name, token, code] of cases) {
    test(`${name} → ${code}`, async () => {
      const value = typeof token === 'function' ? token() : token
      assert.throws(
        () => verifier.verifySync(value),
        (err) => err instanceof JwtError && err.code === code,
      )
      await rejects(verifier.verify(value), code)
    })
  }
})

describe('rule 2: algorithm and header', () => {
  let verifier
  let decoy // jku/x5u/jwk targets: must never be contacted
  before(async () => {
    verifier = createVerifier({ jwksHost: issuer.url })
    await verifier.ready()
    decoy = await startServer(serveJson(other.jwks))
  })
  after(() => decoy.close())

  test('alg none is refused', async () => {
    const token = rawToken({ alg: 'none', typ: 'JWT' }, b64url({ sub: 'x', exp: 9999999999 }), '')
    await rejects(verifier.verify(token), 'ERR_JOSE_ALG_NOT_ALLOWED')
  })

  test('HS256 signed with the RSA public key as the secret is refused', async () => {
    const pem = crypto.createPublicKey({ key: issuer.jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' })
    const token = hmacToken({ alg: 'HS256', kid: issuer.kid }, { sub: 'x', exp: 9999999999 }, pem)
    await rejects(verifier.verify(token), 'ERR_JOSE_ALG_NOT_ALLOWED')
  })

  test('a listed algorithm the key does not serve fails with no matching key', async () => {
    const token = signJws({ alg: 'RS512', kid: issuer.kid }, { sub: 'x', exp: 9999999999 }, issuer.privateKey)
    await rejects(verifier.verify(token), 'ERR_JOSE_ALG_NOT_ALLOWED')
    const wide = createVerifier({ jwksHost: issuer.url, algorithms: ['RS256', 'RS512'] })
    await rejects(wide.verify(token), 'ERR_JWKS_NO_MATCHING_KEY')
  })

  test('an unknown crit extension is refused', async () => {
    await rejects(verifier.verify(issuer.token({}, { crit: ['exp'], exp: 1 })), 'ERR_JWS_INVALID')
  })

  test('jku, x5u, jwk and x5c are ignored and never fetched', async () => {
    const attackerKey = other.jwks.keys[0]
    for (const header of [
      { jku: `${decoy.url}/jwks.json`, kid: attackerKey.kid },
      { x5u: `${decoy.url}/cert.pem`, kid: attackerKey.kid },
      { jwk: attackerKey, kid: attackerKey.kid },
      { jwk: attackerKey, kid: undefined },
      { x5c: ['MIIB'], kid: attackerKey.kid },
    ]) {
      const token = other.token({}, header)
      await assert.rejects(verifier.verify(token), (err) => {
        assert.ok(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'].includes(err.code), err.code)
        return true
      })
    }
    assert.equal(decoy.hits, 0)
  })
})

describe('rule 3: key selection', () => {
  test('an unknown kid fails with ERR_JWKS_NO_MATCHING_KEY', async () => {
    const verifier = createVerifier({ jwksHost: issuer.url })
    await rejects(verifier.verify(issuer.token({}, { kid: 'not-a-kid' })), 'ERR_JWKS_NO_MATCHING_KEY')
  })

  test('without a kid: the single usable key, else ERR_JWKS_MULTIPLE_MATCHING_KEYS', async () => {
    const one = await startServer(serveJson(issuer.jwks))
    const two = await startServer(serveJson({ keys: [...issuer.jwks.keys, ...other.jwks.keys] }))
    try {
      const token = issuer.token({}, { kid: undefined })
      assert.ok(await createVerifier({ jwksHost: one.url }).verify(token))
      await rejects(createVerifier({ jwksHost: two.url }).verify(token), 'ERR_JWKS_MULTIPLE_MATCHING_KEYS')
      assert.ok(await createVerifier({ jwksHost: two.url }).verify(issuer.token()), 'with a kid it picks one')
    } finally {
      await one.close()
      await two.close()
    }
  })

  test('a key under 2048 bits is not usable', async () => {
    const small = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 })
    const jwk = { ...small.publicKey.export({ format: 'jwk' }), kid: 'small', alg: 'RS256', use: 'sig' }
    const server = await startServer(serveJson({ keys: [jwk, ...issuer.jwks.keys] }))
    try {
      const verifier = createVerifier({ jwksHost: server.url })
      const token = signJws({ alg: 'RS256', kid: 'small' }, { sub: 'x', exp: 9999999999 }, small.privateKey)
      await rejects(verifier.verify(token), 'ERR_JWKS_NO_MATCHING_KEY')
      assert.deepEqual(verifier.stats().kids, [issuer.kid])
    } finally {
      await server.close()
    }
  })

  test('use: enc and key_ops without verify make a key unusable', async () => {
    const [key] = issuer.jwks.keys
    const server = await startServer(
      serveJson({ keys: [{ ...key, use: 'enc' }, { ...key, kid: 'ops', use: undefined, key_ops: ['encrypt'] }, other.jwks.keys[0]] }),
    )
    try {
      const verifier = createVerifier({ jwksHost: server.url })
      await rejects(verifier.verify(issuer.token()), 'ERR_JWKS_NO_MATCHING_KEY')
      await rejects(verifier.verify(issuer.token({}, { kid: 'ops' })), 'ERR_JWKS_NO_MATCHING_KEY')
    } finally {
      await server.close()
    }
  })
})

describe('rule 4: signature', () => {
  let verifier
  before(() => {
    verifier = createVerifier({ jwksHost: issuer.url })
  })
  test('a tampered payload fails', async () => {
    const [h, , s] = issuer.token().split('.')
    const forged = `${h}.${b64url({ sub: 'admin', exp: 9999999999 })}.${s}`
    await rejects(verifier.verify(forged), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
  })
  test('a signature by another key under a trusted kid fails', async () => {
    const token = signJws({ alg: 'RS256', kid: issuer.kid }, { sub: 'x', exp: 9999999999 }, other.privateKey)
    await rejects(verifier.verify(token), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
  })
  test('a truncated signature (510 of 512 bytes) fails', async () => {
    await rejects(verifier.verify(issuer.token().slice(0, -3)), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
  })
})

describe('rule 5: claims', () => {
  const now = () => Math.floor(Date.now() / 1000)
  const cases = [
    ['expired', {}, () => ({ exp: now() - 1 }), 'ERR_JWT_EXPIRED', 'exp'],
    ['exp exactly now', {}, () => ({ exp: now() }), 'ERR_JWT_EXPIRED', 'exp'],
    ['expired within clockTolerance', { clockTolerance: 60 }, () => ({ exp: now() - 30 }), null],
    ['expired beyond clockTolerance', { clockTolerance: '30s' }, () => ({ exp: now() - 40 }), 'ERR_JWT_EXPIRED', 'exp'],
    ['exp as a string', {}, () => ({ exp: String(now() + 100) }), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'exp'],
    ['no exp', {}, () => ({ exp: undefined }), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'exp'],
    ['no sub', {}, () => ({ sub: undefined }), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'sub'],
    ['nbf in the future', {}, () => ({ nbf: now() + 60 }), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'nbf'],
    ['iat in the future', {}, () => ({ iat: now() + 60 }), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'iat'],
    ['iat older than maxTokenAge', { maxTokenAge: '1h' }, () => ({ iat: now() - 7200 }), 'ERR_JWT_EXPIRED', 'iat'],
    ['iat within maxTokenAge', { maxTokenAge: 3600 }, () => ({ iat: now() - 60 }), null],
    ['aud matches (array)', { audience: 'localhost' }, () => ({}), null],
    ['aud matches one of several', { audience: ['app.example', 'localhost'] }, () => ({}), null],
    ['aud as a string', { audience: 'app.example' }, () => ({ aud: 'app.example' }), null],
    ['wrong aud', { audience: 'app.example' }, () => ({}), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'aud'],
    ['missing aud', { audience: 'localhost' }, () => ({ aud: undefined }), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'aud'],
    ['iss matches', { issuer: 'https://hanko.example' }, () => ({ iss: 'https://hanko.example' }), null],
    ['missing iss', { issuer: 'https://hanko.example' }, () => ({}), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'iss'],
    ['wrong iss', { issuer: ['https://hanko.example'] }, () => ({ iss: 'https://evil' }), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'iss'],
    ['wrong sub', { subject: 'user-1' }, () => ({ sub: 'user-2' }), 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'sub'],
    [
      'required claim missing',
      { requiredClaims: ['sub', 'exp', 'session_id', 'email'] },
      () => ({ email: undefined }),
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
      'email',
    ],
  ]
  for (const [name, options, claims, code, claim] of cases) {
    test(`${name} → ${code ?? 'ok'}`, async () => {
      const verifier = createVerifier({ jwksHost: issuer.url, ...options })
      const token = issuer.token(claims())
      if (code === null) return assert.ok(await verifier.verify(token))
      await assert.rejects(verifier.verify(token), (err) => {
        assert.ok(err instanceof JwtError)
        assert.equal(err.code, code, err.message)
        assert.equal(err.claim, claim)
        return true
      })
    })
  }

  test('typ, when configured, must match (case-insensitive, application/ optional)', async () => {
    const verifier = createVerifier({ jwksHost: issuer.url, typ: 'jwt' })
    assert.ok(await verifier.verify(issuer.token({}, { typ: 'application/JWT' })))
    await assert.rejects(verifier.verify(issuer.token({}, { typ: 'at+jwt' })), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'typ' })
    await assert.rejects(verifier.verify(issuer.token({}, { typ: undefined })), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'typ' })
  })

  test('messages never echo the token', async () => {
    const token = issuer.token({ exp: 1 })
    await assert.rejects(verify(token, { jwksHost: issuer.url }), (err) => !err.message.includes(token.split('.')[2]))
  })
})

describe('options are validated at creation', () => {
  const host = 'https://auth.example.com'
  const cases = [
    [{}, TypeError, /jwksHost/],
    [{ jwksHost: 42 }, TypeError, /jwksHost/],
    [{ jwksHost: 'not a url' }, TypeError, /jwksHost/],
    [{ jwksHost: 'http://auth.example.com' }, TypeError, /jwksHost must use https/],
    [{ jwksUri: 'ftp://127.0.0.1/jwks' }, TypeError, /jwksUri/],
    [{ jwksHost: host, algorithms: ['HS256'] }, TypeError, /HS256.*never allowed/],
    [{ jwksHost: host, algorithms: ['none'] }, TypeError, /never allowed/],
    [{ jwksHost: host, algorithms: ['RS1'] }, TypeError, /not supported/],
    [{ jwksHost: host, algorithms: [] }, TypeError, /algorithms/],
    [{ jwksHost: host, audience: 5 }, TypeError, /audience/],
    [{ jwksHost: host, issuer: [] }, TypeError, /issuer/],
    [{ jwksHost: host, clockTolerance: -1 }, RangeError, /clockTolerance/],
    [{ jwksHost: host, clockTolerance: '5 parsecs' }, TypeError, /clockTolerance/],
    [{ jwksHost: host, maxTokenAge: {} }, TypeError, /maxTokenAge/],
    [{ jwksHost: host, requiredClaims: 'sub' }, TypeError, /requiredClaims/],
    [{ jwksHost: host, jwks: { timeout: 0 } }, RangeError, /jwks.timeout/],
    [{ jwksHost: host, jwks: { cooldown: -1 } }, RangeError, /jwks.cooldown/],
    [{ jwksHost: host, jwks: { cacheMaxAge: 1.5 } }, RangeError, /jwks.cacheMaxAge/],
    [{ jwksHost: host, jwks: { maxBytes: '1mb' } }, TypeError, /jwks.maxBytes/],
    [{ jwksHost: host, jwks: { minCacheAge: 10, maxCacheAge: 5 } }, RangeError, /minCacheAge/],
    [{ jwksHost: host, jwks: { headers: { 'bad header': 'x' } } }, TypeError, /jwks.headers/],
    [{ jwksHost: host, jwks: { retries: 3 } }, TypeError, /retries/],
    [{ jwksHost: host, tokenCache: { maxEntries: 0 } }, RangeError, /tokenCache.maxEntries/],
    [{ jwksHost: host, allowInsecureHttp: 'yes' }, TypeError, /allowInsecureHttp/],
    [{ jwksHost: host, secret: 'shh' }, TypeError, /unknown option "secret".*JWKS/],
    [{ jwksHost: host, audiance: 'typo' }, TypeError, /audiance/],
  ]
  for (const [options, type, message] of cases) {
    test(`${JSON.stringify(options)} → ${type.name}`, () => {
      assert.throws(
        () => createVerifier(options),
        (err) => err.constructor === type && message.test(err.message),
      )
    })
  }

  test('http is fine on loopback, and elsewhere with allowInsecureHttp', () => {
    for (const jwksHost of ['http://localhost:1', 'http://127.0.0.5:1', 'http://[::1]:1']) assert.ok(createVerifier({ jwksHost }))
    assert.ok(createVerifier({ jwksHost: 'http://auth.internal', allowInsecureHttp: true }))
  })

  test('a tenant path is kept: <api>/<tenant>/.well-known/jwks.json', async () => {
    const server = await startServer((req, res) =>
      serveJson(req.url === '/tenant-1/.well-known/jwks.json' ? issuer.jwks : {}, { status: req.url === '/tenant-1/.well-known/jwks.json' ? 200 : 404 })(
        req,
        res,
      ),
    )
    try {
      assert.ok(await createVerifier({ jwksHost: `${server.url}/tenant-1` }).verify(issuer.token()))
      assert.deepEqual(server.paths, ['/tenant-1/.well-known/jwks.json'])
    } finally {
      await server.close()
    }
  })

  test('ready() rejects on a wrong host (fail fast at startup)', async () => {
    const server = await startServer()
    const { url } = server
    await server.close()
    await assert.rejects(
      createVerifier({ jwksHost: url }).ready(),
      (err) => err instanceof JwksError && err.code === 'ERR_JWKS_UNAVAILABLE' && err.status === 503,
    )
  })
})
