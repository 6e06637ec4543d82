// The Express app a Hanko user writes, protected by hanko-auth as the README shows.
const express = require('express')
const { hankoAuth } = require('hanko-auth')

function createApp(hankoApiUrl, options = {}) {
  const app = express()
  app.get('/public', (req, res) => res.json({ ok: true }))
  app.use(hankoAuth(hankoApiUrl, options).unless({ path: ['/public'] }))
  app.get('/me', (req, res) => res.json({ sub: req.auth.sub, isPromise: typeof req.auth.then === 'function' }))
  app.use((err, req, res, next) => {
    if (typeof err.status !== 'number') return next(err)
    res.status(err.status).json({ error: err.code, reason: err.inner?.code ?? err.code })
  })
  return app
}

module.exports = { createApp }
