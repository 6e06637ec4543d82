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
