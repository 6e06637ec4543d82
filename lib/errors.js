'use strict'

// One error base with a stable `code` (jose's names; codes are the contract, messages are not).

class HankoAuthError extends Error {
  constructor(message, code, options) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A token problem (401). */
class JwtError extends HankoAuthError {
  constructor(message, code, { claim, reason, cause } = {}) {
    super(message, code, cause === undefined ? undefined : { cause })
    if (claim !== undefined) this.claim = claim
    if (reason !== undefined) this.reason = reason
  }
}

/** The key set (or Hanko's session service) cannot be had (503). */
class JwksError extends HankoAuthError {
  constructor(message, code, options) {
    super(message, code, options)
    this.status = 503
    this.statusCode = 503
  }
}

/** What the middleware hands to `next(err)` for a token problem: express-jwt's shape. */
class UnauthorizedError extends HankoAuthError {
  constructor(code, error) {
    super(error.message, code, { cause: error })
    this.name = 'UnauthorizedError'
    this.status = 401
    this.statusCode = 401
    this.inner = error
  }
}

/** Rule 6's refusal (isRevoked, the revocation list, validateSession): `revoked_token` through Express. */
const revokedError = () => new JwtError('The token has been revoked.', 'ERR_SESSION_INVALID')

/** A native failure (tagged data) as the right class. */
function toError(failure) {
  if (failure.unavailable) return new JwksError(failure.message, failure.code)
  return new JwtError(failure.message, failure.code, { claim: failure.claim ?? undefined, reason: failure.reason ?? undefined })
}

module.exports = { HankoAuthError, JwtError, JwksError, UnauthorizedError, revokedError, toError }
