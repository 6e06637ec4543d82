// A TypeScript consumer of the public types, checked with `tsc --strict` by `npm test`.
import express, { type ErrorRequestHandler } from 'express'
import {
  createRevocationList,
  createVerifier,
  hankoAuth,
  hankoWebhooks,
  verify,
  HankoAuthError,
  JwksError,
  JwtError,
  UnauthorizedError,
  type HankoClaims,
  type RevocationListStats,
  type VerifierStats,
} from 'hanko-auth'
import 'hanko-auth/express'
import { createTestIssuer } from 'hanko-auth/testing'

const app = express()
app.use(hankoAuth(process.env.HANKO_API_URL))
const auth = hankoAuth('https://auth.example.com')
app.use(auth.unless({ path: ['/login', /^\/public/, { url: '/health', methods: ['GET'] }], method: 'OPTIONS', ext: ['.css'], useOriginalUrl: true }))
app.use(auth.unless((req) => req.method === 'HEAD'))
void auth.verifier.ready().then(() => auth.verifier.stats().keys)
app.use(hankoAuth({ jwksHost: 'https://auth.example.com', audience: 'app.example', cookieName: 'hanko', credentialsRequired: false }))
app.get('/me', hankoAuth('https://auth.example.com', { requestProperty: 'auth' }), (req, res) => {
  const claims: HankoClaims | undefined = req.auth
  const email: string | undefined = req.auth?.email?.address
  const aud: string[] | undefined = claims?.aud
  res.json({ sub: req.auth?.sub, email, aud, session: req.auth?.session_id })
})

const onError: ErrorRequestHandler = (err, _req, res, next) => {
  if (err instanceof UnauthorizedError) {
    const code: 'credentials_required' | 'credentials_bad_scheme' | 'credentials_bad_format' | 'invalid_token' | 'revoked_token' = err.code
    res.status(err.status).json({ code, reason: err.inner.code })
    return
  }
  if (err instanceof JwksError) {
    const status: 503 = err.status
    res.status(status).end()
    return
  }
  next(err)
}
app.use(onError)
const isOurs = (err: unknown): err is HankoAuthError => err instanceof HankoAuthError
void isOurs

async function main(): Promise<void> {
  const issuer = await createTestIssuer({ modulusLength: 2048 })
  const verifier = createVerifier({ jwksHost: issuer.url, jwks: { cooldown: 1000, headers: { 'x-a': 'b' } }, maxTokenAge: '12h', tokenCache: false })
  await verifier.ready()
  const claims = verifier.verifySync(issuer.token({ sub: 'user-1', custom: 1 }))
  const sub: string = claims.sub
  const custom: unknown = claims.custom
  const typed = await verify<{ sub: string; role: string }>(issuer.token({ role: 'admin' }), { jwksHost: issuer.url })
  const role: string = typed.role
  const stats: VerifierStats = verifier.stats()
  const fetches: number = stats.jwksFetches
  try {
    await verifier.verify('x')
  } catch (err) {
    if (err instanceof JwtError) {
      const reason: 'check_failed' | 'missing' | 'invalid' | undefined = err.reason
      void reason
    }
  }
  void [sub, custom, role, fetches]
  await issuer.close()
}
void main

// @ts-expect-error HS256 is not an accepted algorithm
createVerifier({ algorithms: ['HS256'] })
// @ts-expect-error jwks times are numbers of milliseconds
createVerifier({ jwks: { timeout: '5s' } })

// Instant logout: one list for the webhook route and the protected routes.
const revocations = createRevocationList({ redis: 'redis://127.0.0.1:6379', keyPrefix: 'app:', tokenLifetime: '12h' })
app.post('/hanko/webhooks', hankoWebhooks(process.env.HANKO_API_URL, { revocations, onEvent: (evt, data) => void [evt, data] }))
app.use(hankoAuth(process.env.HANKO_API_URL, { revocations }))
createVerifier({ revocations: { isRevoked: (claims) => claims.sub === 'banned' } })
void revocations.revokeSession('session-id', new Date()).then(() => revocations.revokeUser('user-id'))
const listStats: RevocationListStats = revocations.stats()
const store: 'memory' | 'connected' | 'disconnected' = listStats.store
void [store, revocations.isRevoked({ sub: 'u', iat: 1, session_id: 's' })]
void createTestIssuer().then((issuer) => issuer.webhook('session.delete.explicit.logout', { id: 's' }, { url: 'http://127.0.0.1:1/hanko/webhooks' }))
// @ts-expect-error revocations needs isRevoked
createVerifier({ revocations: {} })
