// A vm realm, as Jest's default environment and Vitest's vmThreads/vmForks pools make one (README: Options
// Hosts): index.js is evaluated inside a fresh context while the addon stays in the main realm, so a
// Promise or Error the addon makes is not `instanceof` the context's. Outcomes must still be right.
// (The real Jest and Vitest runs are in hosts/; this is the fast, dependency-free tier.)
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { after, before, test } from 'node:test'
import { createTestIssuer } from '../testing.mjs'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const mainRequire = createRequire(path.join(root, 'index.js'))

/** Loads index.js inside `context`; everything it requires (the addon included) comes from the main realm. */
function loadInRealm(context) {
  const file = path.join(root, 'index.js')
  const wrapper = vm.runInContext(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, context, { filename: file })
  const module = { exports: {} }
  wrapper(module.exports, mainRequire, module, file, root)
  return module.exports
}

let issuer
let realm
before(async () => {
  issuer = await createTestIssuer()
  const context = vm.createContext({ process, Buffer, URL, console, queueMicrotask, setTimeout, clearTimeout, setImmediate })
  realm = loadInRealm(context)
  // The precondition that made 0.1 accept everything under Jest:
  assert.equal(vm.runInContext('Promise', context) === Promise, false)
})
after(() => issuer.close())

function callMiddleware(middleware, req) {
  return new Promise((resolve) => middleware(req, {}, (err) => resolve(err)))
}

const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } })

test('in a vm realm the middleware refuses every bad token with the right code', async () => {
  const middleware = realm.hankoAuth(issuer.url)
  const now = Math.floor(Date.now() / 1000)
  const valid = issuer.token({ sub: 'realm-user' })
  const [h, , signature] = valid.split('.')
  const cases = [
    ['expired', issuer.token({ exp: now - 60 }), 'ERR_JWT_EXPIRED'],
    ['garbage', 'garbage', 'ERR_JWS_INVALID'],
    [
      'tampered',
      `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', exp: now + 60 })).toString('base64url')}.${signature}`,
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    ],
  ]
  const other = await createTestIssuer({ modulusLength: 2048 })
  cases.push(['foreign key, our kid', other.token({}, { kid: issuer.kid }), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'])
  cases.push(['foreign key, its own kid', other.token(), 'ERR_JWKS_NO_MATCHING_KEY'])
  await other.close()
  for (const [name, token, code] of cases) {
    // Twice: the first may take the async path (key fetch), the second the sync one.
    for (let round = 0; round < 2; round++) {
      const req = bearer(token)
      const err = await callMiddleware(middleware, req)
      assert.equal(err?.code, 'invalid_token', `${name}, round ${round}`)
      assert.equal(err.inner.code, code, `${name}, round ${round}`)
      assert.equal(req.auth, undefined)
    }
  }
})

test('in a vm realm a valid token sets req.auth to the claims, never a Promise', async () => {
  const middleware = realm.hankoAuth(issuer.url, { tokenCache: false })
  for (let round = 0; round < 2; round++) {
    const req = bearer(issuer.token({ sub: 'realm-user' }))
    assert.equal(await callMiddleware(middleware, req), undefined)
    assert.equal(typeof req.auth?.then, 'undefined')
    assert.equal(req.auth.sub, 'realm-user')
  }
})

test('in a vm realm verify() and verifySync() reject bad tokens and resolve good ones', async () => {
  const verifier = realm.createVerifier({ jwksHost: issuer.url })
  await assert.rejects(verifier.verify('garbage'), (err) => err.code === 'ERR_JWS_INVALID')
  await assert.rejects(verifier.verify(issuer.token({ exp: 1 })), (err) => err.code === 'ERR_JWT_EXPIRED')
  assert.equal((await verifier.verify(issuer.token({ sub: 'v' }))).sub, 'v')
  assert.throws(
    () => verifier.verifySync(issuer.token({ exp: 1 })),
    (err) => err.code === 'ERR_JWT_EXPIRED',
  )
  assert.equal(verifier.verifySync(issuer.token({ sub: 's' })).sub, 's')
})

test('in a vm realm validateSession refuses an ended session', async () => {
  const verifier = realm.createVerifier({ jwksHost: issuer.url, validateSession: true })
  const token = issuer.token()
  issuer.revokeSession(JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).session_id)
  await assert.rejects(verifier.verify(token), (err) => err.code === 'ERR_SESSION_INVALID')
  const middleware = realm.hankoAuth(issuer.url, { validateSession: true })
  const err = await callMiddleware(middleware, bearer(token))
  assert.equal(err?.code, 'revoked_token')
})
