// Redirects under the https rule against real HTTPS servers on 127.0.0.1 (issue #13 item 15): a test
// CA made with openssl, trusted through NODE_EXTRA_CA_CERTS as Node's own client would trust it.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { createVerifier } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { freshPath } from './helpers.mjs'

const dir = mkdtempSync(join(tmpdir(), 'hanko-auth-tls-'))
const openssl = (...args) => {
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${run.stderr || run.error}`)
}
const haveOpenssl = spawnSync('openssl', ['version']).status === 0
const skip = !haveOpenssl && 'openssl is not installed'

let issuer
const servers = []
let tls
before(async () => {
  if (!haveOpenssl) return
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=hanko-auth test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  )
  tls = { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) }
  // Read by the native HTTP client when a verifier is created, as Node reads it for its own.
  process.env.NODE_EXTRA_CA_CERTS = join(dir, 'ca.pem')
  issuer = await createTestIssuer({ algorithm: 'ES256' })
})
after(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  await issuer?.close()
  delete process.env.NODE_EXTRA_CA_CERTS
  rmSync(dir, { recursive: true, force: true })
})

/** A loopback server (https unless `plain`) whose handler sees every request; resolves to its origin. */
async function serve(handler, { plain = false } = {}) {
  const seen = []
  const server = plain ? http.createServer() : https.createServer(tls)
  server.on('request', (req, res) => {
    seen.push({ url: req.url, apiKey: req.headers['x-api-key'] ?? null })
    handler(req, res)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  return { origin: `${plain ? 'http' : 'https'}://127.0.0.1:${server.address().port}`, seen }
}

const jwks = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify(issuer.jwks))
}
const redirectTo = (location) => (req, res) => {
  res.writeHead(302, { location })
  res.end()
}
const verifierAt = (url) => createVerifier({ jwksUri: url, algorithms: ['ES256'], jwks: { headers: { 'x-api-key': 'secret' } } })
const code = (promise) =>
  promise.then(
    () => 'accepted',
    (err) => err.code,
  )

test('an https key set behind a test CA verifies (NODE_EXTRA_CA_CERTS is honoured)', { skip }, async () => {
  const server = await serve(jwks)
  const verifier = verifierAt(`${server.origin}${freshPath()}`)
  assert.equal(await code(verifier.verify(issuer.token())), 'accepted')
  assert.deepEqual(
    server.seen.map((s) => s.apiKey),
    ['secret'],
  )
})

test('an https key-set URL never follows a redirect to http:, loopback included', { skip }, async () => {
  const plain = await serve(jwks, { plain: true })
  const server = await serve(redirectTo(`${plain.origin}/jwks.json`))
  const verifier = verifierAt(`${server.origin}${freshPath()}`)
  const err = await verifier.verify(issuer.token()).catch((e) => e)
  assert.equal(err.code, 'ERR_JWKS_UNAVAILABLE')
  assert.match(err.message, /redirect from https: to http: is refused/)
  assert.equal(plain.seen.length, 0, 'the http server was never asked')
})

test('jwks.headers follow a same-origin redirect but are not sent to another origin', { skip }, async () => {
  const other = await serve(jwks)
  const server = await serve((req, res) =>
    req.url.startsWith('/moved') ? redirectTo(`${other.origin}/jwks.json`)(req, res) : redirectTo(`/moved${req.url}`)(req, res),
  )
  const verifier = verifierAt(`${server.origin}${freshPath()}`)
  assert.equal(await code(verifier.verify(issuer.token())), 'accepted')
  assert.deepEqual(
    server.seen.map((s) => s.apiKey),
    ['secret', 'secret'],
    'same origin: the header is kept',
  )
  assert.deepEqual(
    other.seen.map((s) => s.apiKey),
    [null],
    'another origin: the header is dropped',
  )
})

test('more than 3 redirects fail with ERR_JWKS_UNAVAILABLE', { skip }, async () => {
  let hops = 0
  const server = await serve((req, res) => redirectTo(`/hop${++hops}`)(req, res))
  const err = await verifierAt(`${server.origin}${freshPath()}`)
    .verify(issuer.token())
    .catch((e) => e)
  assert.equal(err.code, 'ERR_JWKS_UNAVAILABLE')
  assert.match(err.message, /more than 3 redirects/)
  assert.equal(server.seen.length, 4)
})
