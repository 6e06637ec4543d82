// Key-set behaviour (README: Key caching) against a controllable loopback JWKS server: outages, rotations, floods,
// limits. Small time settings keep every test under 10 s.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import crypto from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createVerifier } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { b64url, rawToken, serveJson, sleep, startServer } from './helpers.mjs'

const indexPath = fileURLToPath(new URL('../index.js', import.meta.url))

let issuer
let server
before(async () => {
  issuer = await createTestIssuer()
  server = await startServer()
})
after(async () => {
  await issuer.close()
  await server.close()
})

let route = 0
/** Each test gets its own path (so its own key cache) on the shared server, with its own handler. */
function endpoint(handler) {
  const prefix = `/r${++route}`
  const hits = { count: 0 }
  const handlers = { current: handler }
  const previous = server.handler
  endpoint.routes ??= new Map()
  const routes = endpoint.routes
  routes.set(prefix, (req, res) => {
    hits.count++
    return handlers.current(req, res)
  })
  server.handler = (req, res) => {
    const match = [...routes.keys()].find((p) => req.url.startsWith(`${p}/`))
    if (match) return routes.get(match)(req, res)
    return previous(req, res)
  }
  return {
    host: `${server.url}${prefix}`,
    get hits() {
      return hits.count
    },
    set handler(fn) {
      handlers.current = fn
    },
  }
}

const ok = () => serveJson(issuer.jwks)
const fail500 = (req, res) => {
  res.writeHead(500)
  res.end('oops')
}
const fast = { cooldown: 100, minCacheAge: 0, timeout: 1000 }

async function code(promise) {
  try {
    await promise
    return 'ok'
  } catch (err) {
    return err.code
  }
}

describe('outages', () => {
  test('down at start, then up: 503 first, then recovery', async () => {
    const ep = endpoint(fail500)
    const verifier = createVerifier({ jwksHost: ep.host, jwks: fast })
    assert.equal(await code(verifier.verify(issuer.token())), 'ERR_JWKS_UNAVAILABLE')
    assert.equal(await code(verifier.verify(issuer.token())), 'ERR_JWKS_UNAVAILABLE')
    assert.equal(ep.hits, 1, 'a failed load is not retried per request')
    assert.equal(verifier.stats().lastFetchStatus, 'ERR_JWKS_UNAVAILABLE')
    ep.handler = ok()
    await sleep(150)
    assert.equal(await code(verifier.verify(issuer.token())), 'ok')
    assert.equal(verifier.stats().lastFetchStatus, 'ok')
  })

  test('down after warm-up and past max-age: the stale keys still verify', async () => {
    const ep = endpoint(ok())
    const verifier = createVerifier({ jwksHost: ep.host, jwks: { ...fast, cacheMaxAge: 200 } })
    await verifier.ready()
    ep.handler = fail500
    await sleep(300)
    verifier.verifySync(issuer.token()) // past fresh age: triggers the background refresh, still verifies
    await sleep(100)
    assert.equal(await code(verifier.verify(issuer.token())), 'ok')
    const stats = verifier.stats()
    assert.equal(stats.servingStale, true)
    assert.ok(stats.jwksFailures >= 1)
    assert.equal(stats.lastFetchStatus, 'ERR_JWKS_UNAVAILABLE')
  })

  test('past maxStale with the endpoint down, verification fails with a JwksError', async () => {
    const ep = endpoint(ok())
    const verifier = createVerifier({ jwksHost: ep.host, jwks: { ...fast, cacheMaxAge: 100, maxStale: 200 } })
    await verifier.ready()
    ep.handler = fail500
    await sleep(400)
    assert.equal(await code(verifier.verify(issuer.token())), 'ERR_JWKS_UNAVAILABLE')
  })

  test('a hanging endpoint fails within timeout + 1 s', async () => {
    const ep = endpoint(() => {}) // never answers
    const verifier = createVerifier({ jwksHost: ep.host, jwks: { timeout: 300 } })
    const started = Date.now()
    assert.equal(await code(verifier.verify(issuer.token())), 'ERR_JWKS_TIMEOUT')
    assert.ok(Date.now() - started < 1300, `${Date.now() - started} ms`)
  })

  test('a body that trickles in is bounded by the same timeout', async () => {
    const ep = endpoint((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"keys":[')
    })
    const started = Date.now()
    assert.equal(await code(createVerifier({ jwksHost: ep.host, jwks: { timeout: 300 } }).ready()), 'ERR_JWKS_TIMEOUT')
    assert.ok(Date.now() - started < 1300)
  })

  for (const [name, handler, expected] of [
    ['HTTP 500', fail500, 'ERR_JWKS_UNAVAILABLE'],
    ['HTTP 404', serveJson({ code: 404 }, { status: 404 }), 'ERR_JWKS_UNAVAILABLE'],
    ['invalid JSON', serveJson('{"keys": [', {}), 'ERR_JWKS_INVALID'],
    ['JSON without keys', serveJson({ nope: [] }), 'ERR_JWKS_INVALID'],
    ['a set with no usable key', serveJson({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }), 'ERR_JWKS_INVALID'],
    ['a dropped connection', (req, res) => res.socket.destroy(), 'ERR_JWKS_UNAVAILABLE'],
  ]) {
    test(`${name} → ${expected}`, async () => {
      const ep = endpoint(handler)
      const verifier = createVerifier({ jwksHost: ep.host })
      assert.equal(await code(verifier.verify(issuer.token())), expected)
      assert.equal(await code(verifier.ready()), expected)
    })
  }
})

describe('limits', () => {
  for (const chunked of [false, true]) {
    test(`a 5 MB body (${chunked ? 'chunked' : 'with Content-Length'}) is refused without buffering it`, async () => {
      // Paced writes, so what the server managed to write before the client hung up is meaningful.
      let written = 0
      const total = 5 * 1024 * 1024
      const ep = endpoint((req, res) => {
        const chunk = Buffer.alloc(64 * 1024, 0x20)
        res.writeHead(200, chunked ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', 'content-length': total })
        let closed = false
        res.on('close', () => {
          closed = true
        })
        res.on('error', () => {})
        const pump = () => {
          if (closed) return
          if (written >= total) return res.end()
          written += chunk.length
          res.write(chunk)
          setTimeout(pump, 1)
        }
        pump()
      })
      assert.equal(await code(createVerifier({ jwksHost: ep.host }).ready()), 'ERR_JWKS_INVALID')
      await sleep(50)
      assert.ok(written < total / 2, `the client stopped reading (server wrote ${written} bytes)`)
    })
  }

  test('maxBytes is configurable', async () => {
    const ep = endpoint(ok())
    assert.equal(await code(createVerifier({ jwksHost: ep.host, jwks: { maxBytes: 100 } }).ready()), 'ERR_JWKS_INVALID')
    assert.equal(await code(createVerifier({ jwksHost: ep.host, jwks: { maxBytes: 100_000 } }).ready()), 'ok')
  })

  test('up to 3 redirects are followed; a 4th is refused', async () => {
    const chain = (n) => (req, res) => {
      const step = Number(new URL(req.url, 'http://x').searchParams.get('step') ?? 0)
      if (step < n) {
        res.writeHead(302, { location: `${req.url.split('?')[0]}?step=${step + 1}` })
        return res.end()
      }
      serveJson(issuer.jwks)(req, res)
    }
    assert.equal(await code(createVerifier({ jwksHost: endpoint(chain(3)).host }).ready()), 'ok')
    assert.equal(await code(createVerifier({ jwksHost: endpoint(chain(4)).host }).ready()), 'ERR_JWKS_UNAVAILABLE')
  })

  test('a redirect to plain http on a non-loopback host is refused', async () => {
    const ep = endpoint((req, res) => {
      res.writeHead(302, { location: 'http://jwks.example.com/.well-known/jwks.json' })
      res.end()
    })
    assert.equal(await code(createVerifier({ jwksHost: ep.host }).ready()), 'ERR_JWKS_UNAVAILABLE')
  })

  test('a partly broken key set keeps its usable keys', async () => {
    const broken = [{ kty: 'RSA', n: '!!!', e: 'AQAB', kid: 'bad' }, { kty: 'oct', k: 'AA' }, 'junk', { kty: 'EC', crv: 'P-999' }]
    const ep = endpoint(serveJson({ keys: [...broken, ...issuer.jwks.keys] }))
    const verifier = createVerifier({ jwksHost: ep.host })
    assert.equal(await code(verifier.verify(issuer.token())), 'ok')
    assert.deepEqual(verifier.stats().kids, [issuer.kid])
  })

  test('custom request headers are sent', async () => {
    let seen
    const ep = endpoint((req, res) => {
      seen = req.headers['x-api-key']
      serveJson(issuer.jwks)(req, res)
    })
    await createVerifier({ jwksHost: ep.host, jwks: { headers: { 'X-Api-Key': 'k1' } } }).ready()
    assert.equal(seen, 'k1')
  })
})

describe('rotation and floods', () => {
  test('rotation: a new kid verifies after one refetch; a key that leaves stops verifying', async () => {
    const rotating = await createTestIssuer({ modulusLength: 2048 })
    try {
      let published = rotating.jwks
      const ep = endpoint((req, res) => serveJson(published)(req, res))
      const verifier = createVerifier({ jwksHost: ep.host, jwks: { cooldown: 100 } })
      const oldToken = rotating.token()
      assert.equal(await code(verifier.verify(oldToken)), 'ok')
      const oldKid = rotating.kid
      await rotating.rotate()
      published = rotating.jwks
      await sleep(120)
      assert.equal(await code(verifier.verify(rotating.token())), 'ok')
      assert.equal(ep.hits, 2)
      assert.equal(await code(verifier.verify(oldToken)), 'ok', 'old keys stay published')
      published = { keys: rotating.jwks.keys.filter((k) => k.kid !== oldKid) }
      await verifier.reload()
      assert.equal(await code(verifier.verify(oldToken)), 'ERR_JWKS_NO_MATCHING_KEY')
    } finally {
      await rotating.close()
    }
  })

  test('500 tokens with random unknown kids in 2 s cause the load plus one refetch per 1.5 s cooldown (3 fetches)', async () => {
    const ep = endpoint(ok())
    const verifier = createVerifier({ jwksHost: ep.host, jwks: { cooldown: 1500 } })
    await verifier.ready()
    // The kid is looked up before the signature is checked, so these need no real signature.
    const payload = b64url({ sub: 'x', exp: 9999999999 })
    const tokens = Array.from({ length: 500 }, () => rawToken({ alg: 'RS256', kid: crypto.randomUUID() }, payload))
    const started = Date.now()
    const codes = new Set()
    for (let i = 0; i < 500; i++) {
      codes.add(await code(verifier.verify(tokens[i])))
      await sleep(Math.max(0, started + (i * 2000) / 500 - Date.now()))
    }
    assert.deepEqual([...codes], ['ERR_JWKS_NO_MATCHING_KEY'])
    // The initial load starts no cooldown; each unknown-kid refetch starts one: at 0 s and 1.5 s.
    assert.ok(ep.hits <= 3, `${ep.hits} fetches`)
    flood.fetches = ep.hits
  })

  test('1000 concurrent verifies before the first load make 1 fetch', async () => {
    const ep = endpoint(async (req, res) => {
      await sleep(100)
      serveJson(issuer.jwks)(req, res)
    })
    const verifier = createVerifier({ jwksHost: ep.host })
    const token = issuer.token()
    const results = await Promise.all(Array.from({ length: 1000 }, () => code(verifier.verify(token))))
    assert.ok(results.every((r) => r === 'ok'))
    assert.equal(ep.hits, 1)
    flood.concurrent = ep.hits
  })

  test('a main thread and two workers share one key cache: 1 fetch', async () => {
    const ep = endpoint(async (req, res) => {
      await sleep(100)
      serveJson(issuer.jwks)(req, res)
    })
    const code = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { createVerifier } = require(workerData.index)
      createVerifier({ jwksHost: workerData.host }).verify(workerData.token)
        .then((claims) => parentPort.postMessage(claims.sub), (err) => parentPort.postMessage('error ' + err.code))
    `
    const token = issuer.token({ sub: 'worker' })
    const inWorker = () =>
      new Promise((resolve, reject) => {
        const worker = new Worker(code, { eval: true, workerData: { index: indexPath, host: ep.host, token } })
        worker.once('message', (m) => {
          resolve(m)
          worker.terminate()
        })
        worker.once('error', reject)
      })
    const [main, a, b] = await Promise.all([
      createVerifier({ jwksHost: ep.host })
        .verify(token)
        .then((c) => c.sub),
      inWorker(),
      inWorker(),
    ])
    assert.deepEqual([main, a, b], ['worker', 'worker', 'worker'])
    assert.equal(ep.hits, 1)
    flood.workers = ep.hits
  })
})

const flood = {}
after(() => {
  if (Object.keys(flood).length) console.log(`# fetch counts: ${JSON.stringify(flood)}`)
})

describe('freshness', () => {
  test('Cache-Control: max-age is honoured within the clamps', async () => {
    // The server says 1 s; minCacheAge 300 ms lets that stand.
    const ep = endpoint(serveJson(issuer.jwks, { headers: { 'cache-control': 'max-age=1' } }))
    const verifier = createVerifier({ jwksHost: ep.host, jwks: { minCacheAge: 300, cooldown: 100 } })
    await verifier.ready()
    await sleep(500)
    verifier.verifySync(issuer.token())
    assert.equal(verifier.stats().jwksFetches, 1, 'fresh for the server max-age (1 s), not min or default')
    await sleep(700)
    verifier.verifySync(issuer.token()) // past 1 s: background refresh, still verified synchronously
    await sleep(100)
    assert.equal(verifier.stats().jwksFetches, 2)

    // The server says 1 s; minCacheAge 2 s clamps it up.
    const clamped = endpoint(serveJson(issuer.jwks, { headers: { 'cache-control': 'max-age=1' } }))
    const v2 = createVerifier({ jwksHost: clamped.host, jwks: { minCacheAge: 2000, cooldown: 100 } })
    await v2.ready()
    await sleep(1200)
    v2.verifySync(issuer.token())
    await sleep(50)
    assert.equal(clamped.hits, 1, 'clamped up to minCacheAge')

    // The server says 600 s; maxCacheAge 200 ms clamps it down.
    const capped = endpoint(serveJson(issuer.jwks, { headers: { 'cache-control': 'public, max-age=600' } }))
    const v3 = createVerifier({ jwksHost: capped.host, jwks: { minCacheAge: 0, maxCacheAge: 200, cooldown: 50 } })
    await v3.ready()
    await sleep(300)
    v3.verifySync(issuer.token())
    await sleep(100)
    assert.equal(capped.hits, 2, 'clamped down to maxCacheAge')
  })

  test('NODE_DEBUG=hanko-auth logs fetches and failures', async () => {
    const ep = endpoint(ok())
    const script = `
      const { createVerifier } = require(${JSON.stringify(indexPath)})
      createVerifier({ jwksHost: ${JSON.stringify(ep.host)} }).ready()
        .then(() => createVerifier({ jwksHost: 'http://127.0.0.1:9/x' }).ready())
        .catch(() => {})
    `
    // Async: the key server lives in this process, so its event loop must keep running.
    const run = await promisify(execFile)(process.execPath, ['-e', script], { env: { ...process.env, NODE_DEBUG: 'hanko-auth' } })
    assert.match(run.stderr, /^HANKO-AUTH \d+: fetched the key set: 1 usable keys, fresh for 600000 ms$/m)
    assert.match(run.stderr, /^HANKO-AUTH \d+: key set fetch failed: /m)
  })
})

describe('slow failures and rotation (issue #13 item 4, issue #15 items 2 and 9)', () => {
  const slow = (ms, then) => async (req, res) => {
    await sleep(ms)
    then(req, res)
  }

  test("a 500 after 1.5 s gives the waiting verify() that fetch's error, and no second fetch at once", async () => {
    const ep = endpoint(slow(1500, fail500))
    const verifier = createVerifier({ jwksHost: ep.host })
    const token = issuer.token()
    const [first, second] = await Promise.all([code(verifier.verify(token)), code(verifier.verify(token))])
    assert.deepEqual([first, second], ['ERR_JWKS_UNAVAILABLE', 'ERR_JWKS_UNAVAILABLE'])
    assert.equal(await code(verifier.verify(token)), 'ERR_JWKS_UNAVAILABLE', 'right after: the same failure, no new fetch')
    assert.equal(ep.hits, 1)
  })

  test('a hang at the default timeout (5 s) gives ERR_JWKS_TIMEOUT, and no second fetch at once', async () => {
    const ep = endpoint(() => {}) // never answers
    const verifier = createVerifier({ jwksHost: ep.host })
    const token = issuer.token()
    assert.equal(await code(verifier.verify(token)), 'ERR_JWKS_TIMEOUT')
    assert.equal(await code(verifier.verify(token)), 'ERR_JWKS_TIMEOUT')
    assert.equal(ep.hits, 1)
  })

  test('a key rotated in right after the first load verifies on its first try', async () => {
    const rotating = await createTestIssuer({ modulusLength: 2048 })
    try {
      const verifier = createVerifier({ jwksHost: rotating.url })
      assert.ok(await verifier.verify(rotating.token()))
      await rotating.rotate()
      assert.equal((await verifier.verify(rotating.token({ sub: 'after-rotation' }))).sub, 'after-rotation')
      assert.equal(rotating.requests.jwks, 2)
      // …and a flood of random kids after it is still held to one refetch per cooldown (none here).
      const payload = b64url({ sub: 'x', exp: 9999999999 })
      for (let i = 0; i < 50; i++)
        assert.equal(await code(verifier.verify(rawToken({ alg: 'RS256', kid: crypto.randomUUID() }, payload))), 'ERR_JWKS_NO_MATCHING_KEY')
      assert.equal(rotating.requests.jwks, 2)
    } finally {
      await rotating.close()
    }
  })

  test('NODE_DEBUG prints one line per unknown-kid refetch, however many tokens wait for it', async () => {
    const ep = endpoint(slow(200, ok()))
    const script = `
      const { createVerifier } = require(${JSON.stringify(indexPath)})
      const verifier = createVerifier({ jwksHost: ${JSON.stringify(ep.host)} })
      const token = ${JSON.stringify(rawToken({ alg: 'RS256', kid: 'unknown-kid' }, b64url({ sub: 'x', exp: 9999999999 })))}
      verifier.ready().then(() => Promise.all(Array.from({ length: 20 }, () => verifier.verify(token).catch(() => {}))))
    `
    const run = await promisify(execFile)(process.execPath, ['-e', script], { env: { ...process.env, NODE_DEBUG: 'hanko-auth' } })
    assert.equal(run.stderr.match(/unknown kid: refetching the key set/g)?.length, 1, run.stderr)
  })
})
