// Messages that point at the fix (issue #15 item 3): the URL that failed (never its query string), the
// likeliest mistake behind a 404, the expected value and the option behind a claim mismatch, and a code
// of its own for a missing token. Messages never echo the token.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createVerifier, hankoAuth } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'
import { startServer } from './helpers.mjs'

let issuer
let notFound
before(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256' })
  notFound = await startServer((req, res) => {
    res.writeHead(404)
    res.end()
  })
})
after(async () => {
  await issuer.close()
  await notFound.close()
})

const failure = (promise) =>
  promise.then(
    () => assert.fail('accepted'),
    (err) => err,
  )

test('a JWKS HTTP error names the URL, without its query string', async () => {
  const err = await failure(createVerifier({ jwksUri: `${notFound.url}/keys/jwks.json?api_key=secret`, algorithms: ['ES256'] }).ready())
  assert.equal(err.code, 'ERR_JWKS_UNAVAILABLE')
  assert.match(err.message, new RegExp(`the JWKS endpoint ${notFound.url}/keys/jwks.json answered HTTP 404`))
  assert.doesNotMatch(err.message, /secret/)
})

test('the JWKS URL passed as jwksHost gets a 404 that says so', async () => {
  const err = await failure(createVerifier({ jwksHost: `${notFound.url}/.well-known/jwks.json`, algorithms: ['ES256'] }).ready())
  assert.match(err.message, /\.well-known\/jwks\.json\/\.well-known\/jwks\.json answered HTTP 404/)
  assert.match(err.message, /jwksHost takes the Hanko API URL, not the JWKS URL/)
})

test('claim mismatches name the expected value and the option that set it, never the token', async () => {
  const cases = [
    [{ audience: 'app.example.com' }, {}, /does not contain the expected audience "app\.example\.com" \(option audience\)/],
    [{ issuer: 'https://x.hanko.io' }, { iss: 'https://evil.example' }, /is not the expected issuer "https:\/\/x\.hanko\.io" \(option issuer\)/],
    [{ issuer: 'https://x.hanko.io' }, {}, /"iss" claim is missing; expected "https:\/\/x\.hanko\.io" \(option issuer\)/],
    [{ subject: 'user-1' }, { sub: 'user-2' }, /is not the expected subject "user-1" \(option subject\)/],
    [{ typ: 'at+jwt' }, {}, /"typ" header is not the expected "at\+jwt" \(option typ\)/],
    [{ maxTokenAge: 60 }, { iat: Math.floor(Date.now() / 1000) - 120 }, /older than maxTokenAge \(60 s\)/],
    [{ requiredClaims: ['sub', 'org'] }, {}, /"org" claim is missing \(option requiredClaims\)/],
  ]
  for (const [options, claims, pattern] of cases) {
    const token = issuer.token({ sub: 'user-2', ...claims })
    const err = await failure(createVerifier({ jwksHost: issuer.url, algorithms: ['ES256'], ...options }).verify(token))
    assert.match(err.message, pattern, JSON.stringify(options))
    assert.ok(!err.message.includes(token.split('.')[1]), 'the token is not echoed')
  }
})

test('a request without a token: credentials_required, whose inner error is ERR_JWT_MISSING', async () => {
  const middleware = hankoAuth(issuer.url, { algorithms: ['ES256'] })
  const err = await new Promise((resolve) => middleware({ headers: {} }, {}, resolve))
  assert.deepEqual([err.code, err.inner.code, err.inner.name], ['credentials_required', 'ERR_JWT_MISSING', 'JwtError'])
})
