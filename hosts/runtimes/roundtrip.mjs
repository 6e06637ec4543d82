// The package under Bun and Deno (and any Node): require and import it, verify tokens, and run the
// Express round trip. Prints "N passed, N failed" and exits non-zero on any failure.
import { createRequire } from 'node:module'
import express from 'express'
import * as esm from 'hanko-auth'
import { createTestIssuer } from 'hanko-auth/testing'

const require = createRequire(import.meta.url)
const cjs = require('hanko-auth')
const host = typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : typeof Deno !== 'undefined' ? `Deno ${Deno.version.deno}` : `Node ${process.version}`
let passed = 0
let failed = 0

async function check(name, fn) {
  try {
    await fn()
    passed++
    console.log(`ok - ${name}`)
  } catch (err) {
    failed++
    console.log(`not ok - ${name}: ${err?.stack ?? err}`)
  }
}

function equal(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
}

const issuer = await createTestIssuer({ modulusLength: 2048 })
const now = Math.floor(Date.now() / 1000)
const expired = issuer.token({ exp: now - 60 })

await check('require and import give the same API', () => {
  equal(typeof cjs.hankoAuth, 'function', 'require().hankoAuth')
  equal(typeof esm.hankoAuth, 'function', 'import { hankoAuth }')
  equal(
    Object.keys(esm)
      .filter((k) => k !== 'default')
      .sort(),
    Object.keys(cjs).sort(),
    'export names',
  )
})

await check('verify() resolves a valid token and rejects an expired one', async () => {
  const verifier = esm.createVerifier({ jwksHost: issuer.url })
  equal((await verifier.verify(issuer.token({ sub: 'runtime-user' }))).sub, 'runtime-user', 'sub')
  equal(
    await verifier.verify(expired).then(
      () => 'accepted',
      (err) => err.code,
    ),
    'ERR_JWT_EXPIRED',
    'expired',
  )
  equal(cjs.createVerifier({ jwksHost: issuer.url }).verifySync(issuer.token({ sub: 's' })).sub, 's', 'verifySync via require')
})

const app = express()
app.use(esm.hankoAuth(issuer.url))
app.get('/me', (req, res) => res.json({ sub: req.auth.sub }))
app.use((err, req, res, next) => res.status(err.status ?? 500).json({ error: err.code, reason: err.inner?.code }))
const server = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s))
})
const base = `http://127.0.0.1:${server.address().port}`
const get = async (headers) => {
  const res = await fetch(`${base}/me`, { headers })
  return { status: res.status, body: await res.json() }
}

await check('Express: Bearer → 200', async () => {
  equal(await get({ authorization: `Bearer ${issuer.token({ sub: 'bearer-user' })}` }), { status: 200, body: { sub: 'bearer-user' } }, 'answer')
})
await check('Express: hanko cookie → 200', async () => {
  equal(await get({ cookie: `hanko=${issuer.token({ sub: 'cookie-user' })}` }), { status: 200, body: { sub: 'cookie-user' } }, 'answer')
})
await check('Express: no token → 401 credentials_required', async () => {
  equal(await get({}), { status: 401, body: { error: 'credentials_required', reason: 'ERR_JWT_MISSING' } }, 'answer')
})
await check('Express: expired → 401 invalid_token', async () => {
  equal(await get({ authorization: `Bearer ${expired}` }), { status: 401, body: { error: 'invalid_token', reason: 'ERR_JWT_EXPIRED' } }, 'answer')
})

server.closeAllConnections?.()
await new Promise((resolve) => server.close(resolve))
await issuer.close()
console.log(`${host}: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
