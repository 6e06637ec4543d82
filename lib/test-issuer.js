'use strict'

// The test issuer (hanko-auth/testing): a stand-in Hanko for tests and demos. It serves a real JWKS on 127.0.0.1 and
// mints Hanko-shaped tokens signed with node:crypto (never with hanko-auth's own code).

const crypto = require('node:crypto')
const http = require('node:http')

const ALGORITHMS = {
  RS256: { hash: 'sha256', keyType: 'rsa' },
  RS384: { hash: 'sha384', keyType: 'rsa' },
  RS512: { hash: 'sha512', keyType: 'rsa' },
  PS256: { hash: 'sha256', keyType: 'rsa', pss: true },
  PS384: { hash: 'sha384', keyType: 'rsa', pss: true },
  PS512: { hash: 'sha512', keyType: 'rsa', pss: true },
  ES256: { hash: 'sha256', keyType: 'ec', namedCurve: 'P-256' },
  ES384: { hash: 'sha384', keyType: 'ec', namedCurve: 'P-384' },
  EdDSA: { hash: null, keyType: 'ed25519' },
}

/** Hanko's webhook tokens live 5 minutes. */
const WEBHOOK_LIFETIME_S = 300

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

// RSA key pairs made in advance (TEST ONLY, see the file): an issuer starts in milliseconds instead of
// the 1–9 s an RSA-4096 key takes to generate. Each issuer (and each rotation) in a process takes the next
// unused one, so two issuers never share a key; past the pool, keys are generated.
const FIXTURES = require('./test-issuer-keys.json')
const fixturesUsed = { 4096: 0, 2048: 0 }

function fixtureKey(modulusLength) {
  const pool = FIXTURES[`rsa-${modulusLength}`]
  if (pool === undefined || fixturesUsed[modulusLength] >= pool.length) return null
  const privateKey = crypto.createPrivateKey(pool[fixturesUsed[modulusLength]++])
  return { privateKey, publicKey: crypto.createPublicKey(privateKey) }
}

function generateKey(alg, modulusLength) {
  const spec = ALGORITHMS[alg]
  if (!spec) throw new TypeError(`createTestIssuer: unsupported algorithm ${JSON.stringify(alg)}`)
  if (spec.keyType === 'rsa') {
    const fixture = fixtureKey(modulusLength)
    if (fixture !== null) return Promise.resolve(fixture)
  }
  const options = spec.keyType === 'rsa' ? { modulusLength } : spec.keyType === 'ec' ? { namedCurve: spec.namedCurve } : {}
  return new Promise((resolve, reject) => {
    crypto.generateKeyPair(spec.keyType, options, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey })))
  })
}

/** Signs `header.payload` with node:crypto; exported so tests can forge tokens with any header. */
function signJws(header, payload, privateKey, alg = header.alg) {
  const spec = ALGORITHMS[alg]
  const input = `${b64url(header)}.${b64url(payload)}`
  const options = { key: privateKey }
  if (spec.keyType === 'ec') options.dsaEncoding = 'ieee-p1363'
  if (spec.pss) {
    options.padding = crypto.constants.RSA_PKCS1_PSS_PADDING
    options.saltLength = crypto.constants.RSA_PSS_SALTLEN_DIGEST
  }
  return `${input}.${crypto.sign(spec.hash, Buffer.from(input), options).toString('base64url')}`
}

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', () => resolve(''))
  })
}

/**
 * Starts a loopback Hanko stand-in: `GET /.well-known/jwks.json` and `POST /sessions/validate`.
 * @param {object} [options]
 * @param {string} [options.algorithm='RS256'] signing algorithm of the keys it makes
 * @param {number} [options.modulusLength=4096] RSA key size (Hanko uses 4096). 4096 and 2048 start at once
 *   from test-only key pairs shipped with the package (never use them outside tests); other sizes generate.
 * @param {string[]} [options.audience=['localhost']] default `aud` of minted tokens
 * @param {number} [options.port=0] port on 127.0.0.1 (0: any free port)
 */
async function createTestIssuer(options = {}) {
  const alg = options.algorithm ?? 'RS256'
  const modulusLength = options.modulusLength ?? 4096
  const audience = options.audience ?? ['localhost']
  const keys = []
  const revoked = new Set()
  const counters = { jwks: 0, sessions: 0 }

  async function addKey() {
    const pair = await generateKey(alg, modulusLength)
    const kid = crypto.randomUUID()
    const jwk = { ...pair.publicKey.export({ format: 'jwk' }), alg, kid, use: 'sig' }
    if (jwk.kty === 'OKP') jwk.crv = 'Ed25519'
    keys.push({ kid, jwk, privateKey: pair.privateKey })
    return kid
  }
  await addKey()

  function sign(claims = {}, header = {}) {
    const current = keys[keys.length - 1]
    const now = Math.floor(Date.now() / 1000)
    const payload = {
      sub: crypto.randomUUID(),
      iat: now,
      exp: now + 12 * 3600,
      aud: audience,
      session_id: crypto.randomUUID(),
      email: { address: 'user@example.com', is_primary: true, is_verified: true },
      ...claims,
    }
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k]
    const fullHeader = { alg, kid: current.kid, typ: 'JWT', ...header }
    for (const [k, v] of Object.entries(fullHeader)) if (v === undefined) delete fullHeader[k]
    // A header naming one of our kids is signed with that key; any other kid, with the current one.
    const signingKey = keys.find((k) => k.kid === header.kid)?.privateKey ?? current.privateKey
    return signJws(fullHeader, payload, signingKey, alg)
  }

  /** A webhook token as Hanko signs one (README: Instant logout): sub "hanko webhooks", exp = iat + 5 min. */
  function webhookToken(event, data = {}, claims = {}) {
    const current = keys[keys.length - 1]
    const now = Math.floor(Date.now() / 1000)
    const payload = { sub: 'hanko webhooks', iat: now, exp: now + WEBHOOK_LIFETIME_S, aud: audience, evt: event, data, ...claims }
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k]
    return signJws({ alg, kid: current.kid, typ: 'JWT' }, payload, current.privateKey, alg)
  }

  function claimsOf(token) {
    try {
      return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))
    } catch {
      return null
    }
  }

  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url, 'http://127.0.0.1').pathname
    if (req.method === 'GET' && path === '/.well-known/jwks.json') {
      counters.jwks++
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' })
      return res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }))
    }
    if (req.method === 'POST' && path === '/sessions/validate') {
      counters.sessions++
      let token
      try {
        token = JSON.parse(await readBody(req)).session_token
      } catch {
        token = undefined
      }
      const claims = typeof token === 'string' ? claimsOf(token) : null
      const valid = claims !== null && !revoked.has(claims.session_id) && claims.exp > Date.now() / 1000
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(JSON.stringify(valid ? { is_valid: true, claims } : { is_valid: false }))
    }
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end('{"code":404,"message":"Not Found"}')
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  const url = `http://127.0.0.1:${server.address().port}`

  return {
    /** The Hanko API URL to pass as jwksHost. */
    url,
    jwksUri: `${url}/.well-known/jwks.json`,
    algorithm: alg,
    /** kid of the key new tokens are signed with. */
    get kid() {
      return keys[keys.length - 1].kid
    },
    /** The public key set as served. */
    get jwks() {
      return { keys: keys.map((k) => k.jwk) }
    },
    /** The private key new tokens are signed with (a node:crypto KeyObject). */
    get privateKey() {
      return keys[keys.length - 1].privateKey
    },
    /** Requests served so far: `{ jwks, sessions }`. */
    get requests() {
      return { ...counters }
    },
    /** A signed Hanko-shaped token; `claims` and `header` override (an `undefined` value removes). */
    token: sign,
    /** A signed Hanko-shaped webhook token for `event` with `data`; `claims` override (`undefined` removes). */
    webhookToken,
    /**
     * Signs a webhook and POSTs it as Hanko does, `{"token": "<jwt>", "event": "<name>"}` as JSON, to `url`
     * (your app's webhook route). Resolves to `{ status, body }` (the body parsed when it is JSON).
     */
    async webhook(event, data, { url, claims } = {}) {
      if (typeof url !== 'string') throw new TypeError('webhook: options.url (where to POST) is required')
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: webhookToken(event, data, claims), event }),
      })
      const text = await response.text()
      let body = text
      try {
        body = JSON.parse(text)
      } catch {}
      return { status: response.status, body }
    },
    /** Adds a new key (old keys stay published, as Hanko does) and signs new tokens with it. */
    rotate: addKey,
    /** Makes `POST /sessions/validate` answer `{ is_valid: false }` for this session. */
    revokeSession(sessionId) {
      revoked.add(sessionId)
    },
    /** Stops the server at once: idle keep-alive sockets too (Node 18's close() waits for them). */
    async close() {
      const closed = new Promise((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}

module.exports = { createTestIssuer, signJws }
