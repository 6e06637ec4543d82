// hanko-auth/testing: the test issuer itself.
import assert from 'node:assert/strict'
import http from 'node:http'
import { test } from 'node:test'
import { createTestIssuer } from '../testing.mjs'

test('close() does not wait for idle keep-alive sockets (Node 18 would, for ~5 s)', async () => {
  const issuer = await createTestIssuer({ algorithm: 'ES256' })
  const agent = new http.Agent({ keepAlive: true })
  let socket
  await new Promise((resolve, reject) => {
    http
      .get(`${issuer.url}/.well-known/jwks.json`, { agent }, (res) => {
        socket = res.socket
        res.resume()
        res.on('end', resolve)
      })
      .on('error', reject)
  })
  assert.equal(socket.destroyed, false, 'the socket is idle in the agent, kept alive')
  // Not a speed bound: what is checked is that close() does not wait for the server's keep-alive timer
  // (http.Server keepAliveTimeout, 5 s), which is what Node 18's close() does with an idle socket.
  const keepAliveTimer = new Promise((resolve) => setTimeout(resolve, 4000, 'waited for the keep-alive timer').unref())
  assert.equal(await Promise.race([issuer.close().then(() => 'closed'), keepAliveTimer]), 'closed')
  agent.destroy()
})

test('issuers in one process never share a key (test-only key pairs are handed out once), and rotate() adds another', async () => {
  const issuers = await Promise.all([createTestIssuer(), createTestIssuer(), createTestIssuer({ modulusLength: 2048 })])
  try {
    await issuers[0].rotate()
    const moduli = issuers.flatMap((issuer) => issuer.jwks.keys.map((k) => k.n))
    assert.equal(new Set(moduli).size, moduli.length)
    assert.deepEqual(
      issuers.map((issuer) => Buffer.from(issuer.jwks.keys[0].n, 'base64url').length * 8),
      [4096, 4096, 2048],
    )
    const other = await createTestIssuer({ modulusLength: 3072 }) // no shipped keys: generated
    assert.equal(Buffer.from(other.jwks.keys[0].n, 'base64url').length * 8, 3072)
    await other.close()
  } finally {
    await Promise.all(issuers.map((issuer) => issuer.close()))
  }
})
