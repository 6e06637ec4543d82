// One Express 5 app per run, protected by the contender named on the command line:
//   node benchmark/server.mjs <none|noop|floor|hanko-auth|express-jwt|jose|fast-jwt> <hanko api url> <cache size>
// Reports its port, then CPU and RSS on request, over IPC.
import crypto from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const express = require('express')
const [mode, apiUrl, cacheSizeArg] = process.argv.slice(2)
const cacheSize = Number(cacheSizeArg)
const jwksUri = `${apiUrl}/.well-known/jwks.json`
const bearer = (req) => {
  const h = req.headers.authorization
  return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined
}

const app = express()
if (mode === 'hanko-auth') {
  const { hankoAuth } = require('../index.js')
  app.use('/api', hankoAuth(apiUrl, { audience: 'localhost', tokenCache: { maxEntries: cacheSize } }))
} else if (mode === 'express-jwt') {
  const { expressjwt } = require('express-jwt')
  const jwksRsa = require('jwks-rsa')
  app.use('/api', expressjwt({ secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true }), algorithms: ['RS256'], audience: 'localhost' }))
} else if (mode === 'jose') {
  const { createRemoteJWKSet, jwtVerify } = await import('jose')
  const jwks = createRemoteJWKSet(new URL(jwksUri))
  app.use('/api', async (req, res, next) => {
    let payload
    try {
      ;({ payload } = await jwtVerify(bearer(req) ?? '', jwks, { algorithms: ['RS256'], audience: 'localhost' }))
    } catch (err) {
      return next(Object.assign(err, { status: 401 }))
    }
    req.auth = payload
    next()
  })
} else if (mode === 'fast-jwt') {
  // fast-jwt has no JWKS support: the key is fetched once at startup (an advantage we give it).
  const { createVerifier } = require('fast-jwt')
  const { keys } = await (await fetch(jwksUri)).json()
  const pem = crypto.createPublicKey({ key: keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' })
  const verify = createVerifier({ key: pem, algorithms: ['RS256'], allowedAud: 'localhost', cache: cacheSize })
  app.use('/api', (req, res, next) => {
    let payload
    try {
      payload = verify(bearer(req) ?? '')
    } catch (err) {
      return next(Object.assign(err, { status: 401 }))
    }
    req.auth = payload
    next()
  })
} else if (mode === 'noop') {
  // The cost of mounting any middleware on /api, for comparison.
  app.use('/api', (req, res, next) => next())
} else if (mode === 'floor') {
  // The floor-bound ideal: Express plus a bare node:crypto verify with a pre-parsed KeyObject, nothing else
  // (no claim checks, no key lookup). No real verifier can be cheaper than this.
  const { keys } = await (await fetch(jwksUri)).json()
  const key = crypto.createPublicKey({ key: keys[0], format: 'jwk' })
  app.use('/api', (req, res, next) => {
    const token = bearer(req) ?? ''
    const dot = token.lastIndexOf('.')
    if (!crypto.verify('sha256', Buffer.from(token.slice(0, dot)), key, Buffer.from(token.slice(dot + 1), 'base64url'))) {
      return next(Object.assign(new Error('bad signature'), { status: 401 }))
    }
    next()
  })
} else if (mode !== 'none') {
  throw new Error(`unknown mode ${mode}`)
}
app.get('/api/me', (req, res) => res.json({ sub: req.auth?.sub ?? null }))
app.use((err, req, res, next) => res.status(err.status ?? 500).json({ error: err.code ?? 'error' }))

const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
process.on('message', (m) => {
  if (m === 'stats') process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss })
  if (m === 'exit') process.exit(0)
})
