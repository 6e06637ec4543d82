// The same app in TypeScript. Run the JS one with `npm start`; this file is type-checked by `npm test`.
import express, { type ErrorRequestHandler } from 'express'
import { hankoAuth, JwksError, UnauthorizedError } from 'hanko-auth'
import 'hanko-auth/express' // types req.auth as HankoClaims

const app = express()
const auth = hankoAuth(process.env.HANKO_API_URL, { audience: process.env.HANKO_AUDIENCE ?? 'localhost' })
app.use('/api', auth)

app.get('/api/me', (req, res) => {
  // req.auth is HankoClaims | undefined; after hankoAuth it is set.
  res.json({ user: req.auth?.sub, email: req.auth?.email?.address ?? null })
})

const errors: ErrorRequestHandler = (err, _req, res, next) => {
  if (err instanceof UnauthorizedError) return void res.status(401).json({ error: err.code })
  if (err instanceof JwksError) return void res.status(503).json({ error: 'auth_unavailable' })
  next(err)
}
app.use(errors)

// Load the key set before accepting requests: a wrong HANKO_API_URL stops the start, not the first user.
auth.verifier.ready().then(
  () => app.listen(Number(process.env.PORT ?? 3000)),
  (err: unknown) => {
    console.error(`Cannot load Hanko's key set: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
