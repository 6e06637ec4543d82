// One process of the fleet in fleet.test.mjs: an Express app with the webhook route and a protected
// route, its revocation list on the Redis in REDIS_URL. Prints its URL once the list has loaded.
import express from 'express'
import { createRevocationList, hankoAuth, hankoWebhooks } from '../index.mjs'

const revocations = createRevocationList({ redis: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX })
await revocations.ready()
const app = express()
app.post('/hanko/webhooks', hankoWebhooks(process.env.HANKO_API_URL, { revocations }))
app.get('/me', hankoAuth(process.env.HANKO_API_URL, { revocations }), (req, res) => res.json({ sub: req.auth.sub }))
app.use((err, req, res, _next) => res.status(err.status ?? 500).json({ code: err.code }))
const server = app.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`))
process.on('SIGTERM', async () => {
  server.close()
  await revocations.close()
  process.exit(0)
})
