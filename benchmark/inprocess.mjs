// The middleware's cost per request, in process (SPEC §5): each middleware is called directly with a
// plain `req` whose `Authorization` header is a fresh string every time (as a server hands it over:
// flat, never hashed) carrying a real-size Hanko token (RS256, RSA-4096, Hanko's claims), after the
// token was seen once. Side by side in one run: hanko-auth, express-jwt + jwks-rsa, jose and fast-jwt,
// each as its users mount it. Prints medians of several rounds and ratios to hanko-auth.
//   node benchmark/inprocess.mjs [--rounds 7] [--json]
import { createRequire } from 'node:module'
import v8 from 'node:v8'
import vm from 'node:vm'
import { createTestIssuer } from '../testing.mjs'

const require = createRequire(import.meta.url)
const { hankoAuth, createRevocationList } = require('../index.js')
const { expressjwt } = require('express-jwt')
const jwksRsa = require('jwks-rsa')
const fastJwt = require('fast-jwt')
const jose = await import('jose')

const argValue = (name, fallback) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback)
const ROUNDS = argValue('--rounds', 7)
// Sync middlewares: BATCHES batches of BATCH requests per round (each batch a median sample); async
// ones: one batch of ASYNC_BATCH per round (each request costs ~1000× more).
const BATCH = 2_000
const BATCHES = 10
const ASYNC_BATCH = 300

const issuer = await createTestIssuer() // RSA-4096, RS256, UUID kid: Hanko's keys
const token = issuer.token({ sub: crypto.randomUUID(), username: 'benchmark-user', amr: ['passkey'] })
const header = `Bearer ${token}`

/** `count` fresh, flat copies of the header (a string spliced by concatenation would be a rope). */
const freshHeaders = (count) => Array.from({ length: count }, () => Buffer.from(header).toString('latin1'))

// Each contender gets a loop compiled for it alone (`new Function`), so no contender runs through a call
// site that another one made polymorphic.
const syncLoop = () =>
  new Function('middleware', 'headers', 'done', 'for (const authorization of headers) middleware({ headers: { authorization } }, {}, done)')
const asyncLoop = () =>
  new Function(
    'middleware',
    'headers',
    'done',
    'return (async () => { for (const authorization of headers) await new Promise((resolve) => middleware({ headers: { authorization } }, {}, (err) => { done(err); resolve() })) })()',
  )

function syncMiddleware(name, middleware, note) {
  return { name, note, sync: true, middleware, loop: syncLoop() }
}

function asyncMiddleware(name, middleware, note) {
  return { name, note, sync: false, middleware, loop: asyncLoop() }
}

const contenders = []
const auth = hankoAuth(issuer.url)
await auth.verifier.ready()
contenders.push(syncMiddleware('hanko-auth', auth, 'token cache hit'))
// The same, with a revocation list holding 100 000 other sessions and 1 000 users (the lookups miss, as
// for every live session).
const revocations = createRevocationList()
for (let i = 0; i < 100_000; i++) await revocations.revokeSession(crypto.randomUUID())
for (let i = 0; i < 1_000; i++) await revocations.revokeUser(crypto.randomUUID())
const withRevocations = hankoAuth(issuer.url, { revocations })
await withRevocations.verifier.ready()
contenders.push(syncMiddleware('hanko-auth + revocations', withRevocations, 'token cache hit, 100 000 revoked sessions checked'))

contenders.push(
  asyncMiddleware(
    'express-jwt + jwks-rsa',
    expressjwt({ secret: jwksRsa.expressJwtSecret({ jwksUri: issuer.jwksUri, cache: true, rateLimit: true }), algorithms: ['RS256'], audience: 'localhost' }),
    'Hanko backend guide setup; verifies the signature every time',
  ),
)

const remote = jose.createRemoteJWKSet(new URL(issuer.jwksUri))
async function joseMiddleware(req, res, next) {
  // The middleware jose's users write: Bearer → jwtVerify against the remote key set.
  const authorization = req.headers.authorization ?? ''
  try {
    const { payload } = await jose.jwtVerify(authorization.slice(7), remote, { algorithms: ['RS256'], audience: 'localhost' })
    req.auth = payload
  } catch (err) {
    return next(err)
  }
  next()
}
contenders.push(asyncMiddleware('jose', joseMiddleware, 'createRemoteJWKSet; verifies the signature every time'))

const jwk = issuer.jwks.keys[0]
const pem = (await import('node:crypto')).createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
const fast = fastJwt.createVerifier({ key: pem, algorithms: ['RS256'], allowedAud: 'localhost', cache: 1000 })
function fastJwtMiddleware(req, res, next) {
  let payload
  try {
    payload = fast((req.headers.authorization ?? '').slice(7))
  } catch (err) {
    return next(err)
  }
  req.auth = payload
  next()
}
contenders.push(syncMiddleware('fast-jwt (cache)', fastJwtMiddleware, 'its token cache; key given as PEM (no JWKS)'))

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

/** ns per request over one batch of fresh headers. */
async function measure(contender, headers) {
  let failures = 0
  const done = (err) => {
    if (err) failures++
  }
  const start = process.hrtime.bigint()
  await contender.loop(contender.middleware, headers, done)
  const ns = Number(process.hrtime.bigint() - start) / headers.length
  if (failures > 0) throw new Error(`${contender.name} refused the token ${failures} times`)
  return ns
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const results = new Map(contenders.map((c) => [c.name, []]))
for (const contender of contenders) await measure(contender, freshHeaders(contender.sync ? 20 * BATCH : 200)) // warm-up: seen once, JIT
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order every round: this VM drifts within minutes. A full GC before each contender, so
  // none pays for the garbage another left (the async peers leave a lot).
  const order = round % 2 === 0 ? contenders : [...contenders].reverse()
  for (const contender of order) {
    gc()
    for (let batch = 0; batch < (contender.sync ? BATCHES : 1); batch++) {
      results.get(contender.name).push(await measure(contender, freshHeaders(contender.sync ? BATCH : ASYNC_BATCH)))
    }
  }
}

// What the revocation list itself adds (README: Benchmarks): batches of the two hanko-auth rows back to
// back, in alternating order, so the drift between rounds that separates rows above cancels; the median
// of the per-pair differences.
const PAIRS = 20 * ROUNDS
const plain = contenders.find((c) => c.name === 'hanko-auth')
const listed = contenders.find((c) => c.name === 'hanko-auth + revocations')
const listCost = []
for (let pair = 0; pair < PAIRS; pair++) {
  const [first, second] = pair % 2 === 0 ? [plain, listed] : [listed, plain]
  const [headersA, headersB] = [freshHeaders(BATCH), freshHeaders(BATCH)]
  const a = await measure(first, headersA)
  const b = await measure(second, headersB)
  listCost.push(first === listed ? a - b : b - a)
}
await issuer.close()

if (process.env.BENCH_DEBUG) console.log(Object.fromEntries(results))
const base = median(results.get('hanko-auth'))
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * q)]
const rows = contenders.map((c) => ({ name: c.name, note: c.note, ns: median(results.get(c.name)), p10: quantile(results.get(c.name), 0.1) }))
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ node: process.version, tokenBytes: token.length, rounds: ROUNDS, rows, revocationListNs: median(listCost) }))
} else {
  console.log(
    `middleware cost per request, in process, fresh header string each time; token ${token.length} bytes (RS256, RSA-4096); Node ${process.version}; ${ROUNDS} rounds (sync: ${BATCHES} batches of ${BATCH} each, async: ${ASYNC_BATCH})\n`,
  )
  console.log('| middleware | µs per request (median) | p10 | × hanko-auth | note |')
  console.log('|---|---:|---:|---:|---|')
  for (const row of rows) {
    console.log(`| ${row.name} | ${(row.ns / 1000).toFixed(3)} | ${(row.p10 / 1000).toFixed(3)} | ${(row.ns / base).toFixed(1)} | ${row.note} |`)
  }
  const us = (ns) => (ns / 1000).toFixed(3)
  console.log(
    `\nthe revocation list (100 000 sessions) adds ${us(median(listCost))} µs per cache hit (median of ${PAIRS} paired batches; p10 ${us(quantile(listCost, 0.1))}, p90 ${us(quantile(listCost, 0.9))})`,
  )
}
