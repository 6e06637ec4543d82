'use strict'
// The demo: an Express app with public and protected routes.
//
//   npm start                                 a loopback stand-in Hanko, a token, and a 200/401 round trip
//   HANKO_API_URL=https://<id>.hanko.io npm start   protects the routes against your Hanko instead
//   PORT=8080 npm start                       listens on another port (default 3000)
//   REDIS_URL=redis://127.0.0.1:6379 npm start   shares the revocation list with every process on that Redis
//
// `--once` ends after the round trip (the tests use it).

const express = require('express')
const { createRevocationList, hankoAuth, hankoWebhooks, UnauthorizedError, JwksError } = require('..')
const { createTestIssuer } = require('../testing')

async function main() {
  const once = process.argv.includes('--once')
  let issuer
  let jwksHost = process.env.HANKO_API_URL
  if (!jwksHost) {
    issuer = await createTestIssuer()
    jwksHost = issuer.url
  }

  const app = express()
  app.get('/', (req, res) => res.json({ hello: 'anyone', protected: '/api/me' }))

  // Logouts arrive as Hanko's signed webhooks and land in a revocation list (in this process, or
  // fleet-wide on Redis); every route that checks tokens consults it, cached tokens too.
  const revocations = createRevocationList(process.env.REDIS_URL ? { redis: process.env.REDIS_URL } : {})
  app.post('/hanko/webhooks', hankoWebhooks(jwksHost, { revocations }))

  // Everything under /api needs a Hanko session token (Bearer header or the `hanko` cookie).
  const auth = hankoAuth(jwksHost, { revocations })
  // Fail fast at startup: a wrong Hanko URL is reported now, not at the first request.
  try {
    await auth.verifier.ready()
  } catch (err) {
    console.error(`Cannot load Hanko's key set from ${jwksHost} (${err.code}): ${err.message}`)
    console.error('Is HANKO_API_URL your Hanko API URL (https://<project-id>.hanko.io, as shown in the Hanko console)?')
    process.exitCode = 1
    await issuer?.close()
    await revocations.close()
    return
  }
  app.use('/api', auth)
  app.get('/api/me', (req, res) => {
    res.json({ user: req.auth.sub, email: req.auth.email?.address ?? null, session: req.auth.session_id })
  })

  // A route that also asks Hanko whether the session is still alive (cached for 30 s per session).
  app.get('/strict/me', hankoAuth(jwksHost, { validateSession: true }), (req, res) => {
    res.json({ user: req.auth.sub, session: req.auth.session_id, confirmedByHanko: true })
  })

  // JSON errors. hankoAuth never writes the response itself: it calls next(err).
  app.use((err, req, res, next) => {
    if (err instanceof UnauthorizedError) return res.status(401).json({ error: err.code, reason: err.inner.code })
    if (err instanceof JwksError) return res.status(503).json({ error: 'auth_unavailable', reason: err.code })
    next(err)
  })

  const port = Number(process.env.PORT ?? (once ? 0 : 3000))
  const server = await new Promise((resolve) => {
    let reported = false
    const failed = (err) => {
      if (reported) return
      reported = true
      console.error(
        err.code === 'EADDRINUSE' ? `Port ${port} is in use: start with PORT=<another port> npm start` : `Cannot listen on port ${port}: ${err.message}`,
      )
      resolve(null)
    }
    // Express 5 hands a listen error to this callback; Express 4 emits it on the server.
    const s = app.listen(port, '127.0.0.1', (err) => (err ? failed(err) : resolve(s)))
    s.once('error', failed)
  })
  if (server === null) {
    process.exitCode = 1
    await issuer?.close()
    await revocations.close()
    return
  }
  const base = `http://127.0.0.1:${server.address().port}`
  console.log(`Demo app on ${base}, protected by hankoAuth(${JSON.stringify(jwksHost)})`)

  if (issuer) {
    const token = issuer.token({ email: { address: 'ada@example.com', is_primary: true, is_verified: true } })
    console.log(`\nA stand-in Hanko serves its key set at ${issuer.jwksUri}.`)
    console.log('Try it in another shell (a valid session token, RS256 with an RSA-4096 key, like Hanko):\n')
    console.log(`  TOKEN=${token}\n`)
    console.log(`  curl -i ${base}/api/me -H "Authorization: Bearer $TOKEN"`)
    console.log(`  curl -i ${base}/api/me --cookie "hanko=$TOKEN"`)
    console.log(`  curl -i ${base}/api/me\n`)

    const withToken = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } })
    console.log(`GET /api/me with the token    → ${withToken.status} ${await withToken.text()}`)
    const without = await fetch(`${base}/api/me`)
    console.log(`GET /api/me without a token   → ${without.status} ${await without.text()} (WWW-Authenticate: ${without.headers.get('www-authenticate')})`)

    // Revocation: a JWT alone stays valid until exp. validateSession asks Hanko; the webhook tells us.
    const session = issuer.token()
    const sessionId = JSON.parse(Buffer.from(session.split('.')[1], 'base64url')).session_id
    const bearer = { authorization: `Bearer ${session}` }
    const before = await fetch(`${base}/api/me`, { headers: bearer })
    console.log(`\nAnother session:`)
    console.log(`GET /api/me    (before logout)     → ${before.status}`)
    issuer.revokeSession(sessionId) // Hanko ends the session…
    const local = await fetch(`${base}/api/me`, { headers: bearer })
    console.log(`After logging it out at Hanko, before its webhook arrives:`)
    console.log(`GET /api/me    (JWT check only)    → ${local.status}`)
    const strict = await fetch(`${base}/strict/me`, { headers: bearer })
    console.log(`GET /strict/me (validateSession)   → ${strict.status} ${await strict.text()}`)
    // …and POSTs its signed webhook to the URL registered in the Hanko console.
    const hook = await issuer.webhook('session.delete.explicit.logout', { id: sessionId, expires_at: null }, { url: `${base}/hanko/webhooks` })
    console.log(`POST /hanko/webhooks (Hanko's session.delete.explicit.logout) → ${hook.status} ${JSON.stringify(hook.body)}`)
    const next = await fetch(`${base}/api/me`, { headers: bearer })
    console.log(`GET /api/me    (the next request)  → ${next.status} ${await next.text()}`)
  }

  if (once) {
    server.closeAllConnections()
    server.close()
    await issuer?.close()
    await revocations.close()
    return
  }
  console.log('\nPress Ctrl+C to stop.')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
