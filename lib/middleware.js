'use strict'

// The Express middleware: `app.use(hankoAuth(process.env.HANKO_API_URL))`.

const { setChallenge } = require('./challenge.js')
const { JwtError, UnauthorizedError, revokedError } = require('./errors.js')
const { badFormat, bearerToken, cookieToken, hasExtraParts, isPreflight, tokenHeader } = require('./extract.js')
const { resolveMiddlewareOptions } = require('./options.js')
const { isThenable, whenSettled } = require('./outcome.js')
const { propertySetter } = require('./request-property.js')
const { unless } = require('./unless.js')
const { Verifier, checkToken, kCachedResult, kChecksSessions, kConfirmSession, kRevocations, kVerifyToken, listRefuses, VerifyMode } = require('./verifier.js')

/**
 * Where the middleware verifies a token it has not seen before. With more than one core available, on
 * the native I/O threads: the JS thread serves other requests meanwhile (measured: +24 % req/s with
 * distinct RSA-4096 tokens on 2 cores). With one core, inline: a thread hop would only add CPU.
 * Cache hits are always answered inline. HANKO_AUTH_OFFLOAD=0/1 overrides (for measurements).
 */
const NEW_TOKEN_MODE = (
  process.env.HANKO_AUTH_OFFLOAD !== undefined
    ? process.env.HANKO_AUTH_OFFLOAD === '1'
    : (require('node:os').availableParallelism?.() ?? 1) > 1
)
  ? VerifyMode.Offload
  : VerifyMode.Inline

const MISSING = 'No authorization token was found'

/** Sets the claims on `req` and calls `next` once (an exotic `req` that refuses them goes to next(err)). */
function grant(setProperty, req, next, claims) {
  try {
    setProperty(req, claims)
  } catch (err) {
    return next(err) // a frozen or exotic `req`
  }
  next()
}

/** A 401 `revoked_token` (rule 6) with its challenge. */
function refuseRevoked(res, next) {
  refuse(res, next, new UnauthorizedError('revoked_token', revokedError()))
}

/** A 401 for a malformed request: the RFC 6750 §3 challenge where `res` takes it, then next(err). */
function refuse(res, next, error) {
  setChallenge(res, error)
  next(error)
}

const unauthorizedFor = (error) => new UnauthorizedError(error.code === 'ERR_SESSION_INVALID' ? 'revoked_token' : 'invalid_token', error)

/**
 * Sets `req.auth` to the verified claims, or calls `next(err)` with an UnauthorizedError (401) or a
 * JwksError (503). It never writes the response body, and calls `next` exactly once on every path.
 * Rule 6 order: local verification, then `isRevoked`, then the `revocations` list, then `validateSession`.
 */
function hankoAuth(first, second) {
  const { verifierOptions, cookieName, credentialsRequired, requestProperty, getToken, isRevoked } = resolveMiddlewareOptions(first, second)
  const setProperty = propertySetter(requestProperty)
  const verifier = new Verifier(verifierOptions)
  // With no isRevoked and no session step, a cached token needs nothing but the cache and, when given,
  // one lookup in the revocation list (README: Benchmarks).
  const cacheAnswersAlone = isRevoked === undefined && !verifier[kChecksSessions]
  const revocations = verifier[kRevocations]

  function hankoAuthMiddleware(req, res, next) {
    if (isPreflight(req)) return next()
    if (getToken === undefined) {
      const bearer = bearerToken(req)
      if (typeof bearer === 'object') return refuse(res, next, bearer.error) // `Bearer` and nothing else
      const token = bearer ?? cookieToken(req, cookieName)
      if (cacheAnswersAlone && token !== undefined) {
        // The hot path: synchronous, no closure, no Promise, no native call.
        const hit = verifier[kCachedResult](token)
        if (hit !== null) {
          if (revocations === null || !listRefuses(revocations, hit)) return grant(setProperty, req, next, hit.claims)
          return refuseRevoked(res, next)
        }
      }
      if (bearer !== undefined && hasExtraParts(bearer)) return refuse(res, next, badFormat().error)
      return authenticate(req, res, next, token)
    }
    let custom
    try {
      custom = getToken(req)
    } catch (err) {
      return next(err)
    }
    if (isThenable(custom)) whenSettled(custom, (token) => authenticate(req, res, next, token), next)
    else authenticate(req, res, next, custom)
  }

  /** Everything but a plain cache hit. `token`: what extraction or getToken found. */
  function authenticate(req, res, next, token) {
    const unauthorized = (err) => {
      setChallenge(res, err)
      next(err)
    }

    const fail = (error) => (error.status === 503 ? next(error) : unauthorized(unauthorizedFor(error)))

    const confirmSession = (token, result) => {
      const confirmed = verifier[kConfirmSession](token, result, VerifyMode.Inline)
      if (isThenable(confirmed)) return whenSettled(confirmed, (late) => (late.ok ? grant(setProperty, req, next, late.claims) : fail(late.error)), next)
      if (!confirmed.ok) return fail(confirmed.error)
      grant(setProperty, req, next, confirmed.claims)
    }

    const verified = (token, result) => {
      if (!result.ok) return fail(result.error)
      if (isRevoked === undefined) return confirmSession(token, result)
      let revoked
      try {
        revoked = isRevoked(req, { header: tokenHeader(token), payload: result.claims })
      } catch (err) {
        return next(err)
      }
      const decide = (value) => {
        if (value === true) return refuseRevoked(res, next)
        confirmSession(token, result)
      }
      if (isThenable(revoked)) whenSettled(revoked, decide, next)
      else decide(revoked)
    }

    const withToken = (token) => {
      if (token === undefined || token === null || token === '') {
        if (!credentialsRequired) return next()
        return unauthorized(new UnauthorizedError('credentials_required', new JwtError(MISSING, 'ERR_JWT_MISSING')))
      }
      if (typeof token !== 'string') {
        return unauthorized(new UnauthorizedError('invalid_token', new JwtError('getToken must return a string', 'ERR_JWS_INVALID')))
      }
      const bad = checkToken(token)
      if (bad !== null) return unauthorized(unauthorizedFor(bad))
      // A cached token still answers synchronously here (with isRevoked or the session step after it); a
      // new one is verified inline or on the I/O threads (NEW_TOKEN_MODE).
      let result
      try {
        result = verifier[kVerifyToken](token, NEW_TOKEN_MODE)
      } catch (err) {
        return next(err) // an internal failure (a Rust panic surfaces as a thrown Error)
      }
      if (isThenable(result)) whenSettled(result, (late) => verified(token, late), next)
      else verified(token, result)
    }

    withToken(token)
  }

  Object.defineProperty(hankoAuthMiddleware, 'verifier', { value: verifier, enumerable: true })
  hankoAuthMiddleware.unless = (options) => unless(hankoAuthMiddleware, options)
  return hankoAuthMiddleware
}

module.exports = { hankoAuth }
