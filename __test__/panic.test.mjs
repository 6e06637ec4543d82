// A Rust panic must surface as a JS error (or a rejected Promise), never abort the process (issue #8).
// A test-only probe in the binding makes every N-API entry point panic on purpose.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { createVerifier, hankoAuth } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'

const { __setPanicProbe } = createRequire(import.meta.url)('../binding.js')
// The probe is compiled only with the `panic-probe` cargo feature (npm test builds with it; what ships
// does not).
const probeBuiltIn = __setPanicProbe(0)
// Each panic prints Rust's panic message to stderr. The probes run in a child process whose stderr this
// test captures and checks, so `npm test` shows no backtraces for panics that are meant to happen.
const inChild = process.env.HANKO_AUTH_PANIC_CHILD === '1'
const skip = (!probeBuiltIn && 'this binary was built without the panic-probe feature') || (!inChild && 'run in a child process (below)')

test('the panic probes, run in a child process whose expected stderr is captured', {
  skip: inChild || (!probeBuiltIn && 'this binary was built without the panic-probe feature'),
}, () => {
  const env = { ...process.env, HANKO_AUTH_PANIC_CHILD: '1', RUST_BACKTRACE: '0' }
  delete env.NODE_TEST_CONTEXT // a fresh test run, not a subprocess of this one
  const child = spawnSync(process.execPath, ['--test', '--test-reporter=tap', fileURLToPath(import.meta.url)], { encoding: 'utf8', env, timeout: 120_000 })
  assert.equal(child.status, 0, child.stdout)
  assert.match(child.stdout, /^# pass 3$/m)
  // The test runner relays the file's stderr into its report.
  const output = `${child.stdout}${child.stderr}`
  assert.match(output, /hanko-auth panic probe \(stage 1\)/)
  assert.match(output, /hanko-auth panic probe \(stage 2\)/)
})

let issuer
before(async () => {
  issuer = await createTestIssuer({ modulusLength: 2048 })
})
after(async () => {
  __setPanicProbe(0)
  await issuer.close()
})

const panicked = (err) => err instanceof Error && /panic/i.test(`${err.message} ${err.cause?.message ?? ''}`)

test('every synchronous entry point turns a panic into a thrown JS error', { skip }, async () => {
  const verifier = createVerifier({ jwksHost: issuer.url, tokenCache: false, validateSession: true })
  await verifier.ready()
  const token = issuer.token()
  __setPanicProbe(1)
  try {
    assert.throws(() => createVerifier({ jwksHost: issuer.url }), panicked, 'constructor')
    assert.throws(() => verifier.verifySync(token), panicked, 'verifySync')
    assert.throws(() => verifier.stats(), panicked, 'stats')
    await assert.rejects(verifier.verify(token), panicked, 'verify')
    await assert.rejects(verifier.ready(), panicked, 'ready')
    await assert.rejects(verifier.reload(), panicked, 'reload')
  } finally {
    __setPanicProbe(0)
  }
  assert.ok(await verifier.verify(token), 'the process and the verifier still work')
})

test('the middleware hands a panic to next(err) instead of throwing', { skip }, async () => {
  const middleware = hankoAuth(issuer.url, { tokenCache: false })
  const req = { method: 'GET', headers: { authorization: `Bearer ${issuer.token()}` } }
  const res = { headersSent: false, setHeader() {} }
  await new Promise((resolve) => middleware(req, res, resolve)) // loads the keys
  __setPanicProbe(1)
  let error
  try {
    middleware(req, res, (err) => {
      error = err
    })
  } finally {
    __setPanicProbe(0)
  }
  assert.ok(panicked(error), String(error))
})

test('a panic on the I/O runtime rejects the Promise instead of leaving it pending', { skip }, async () => {
  const verifier = createVerifier({ jwksHost: issuer.url, jwks: { cooldown: 0, minCacheAge: 0 } })
  __setPanicProbe(2)
  try {
    await assert.rejects(verifier.ready(), (err) => err.code === 'ERR_JWKS_UNAVAILABLE' && /internal error/.test(err.message))
    await assert.rejects(verifier.reload(), (err) => err.code === 'ERR_JWKS_UNAVAILABLE')
  } finally {
    __setPanicProbe(0)
  }
  await verifier.ready()
  assert.ok(await verifier.verify(issuer.token()))
})
