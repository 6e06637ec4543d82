'use strict'

// SPEC §2 token extraction: `Authorization: Bearer` first, else the cookie; CORS preflights pass.

const { readCookie } = require('./cookie.js')
const { JwtError, UnauthorizedError } = require('./errors.js')
const { refused } = require('./outcome.js')

const BAD_FORMAT = 'Format is Authorization: Bearer [token]'
const EMPTY_HEADERS = Object.freeze({})

/** The request's headers, or none when a host (or a test mock) hands over a `req` without them. */
function headersOf(req) {
  return req !== null && typeof req === 'object' && req.headers !== null && typeof req.headers === 'object' ? req.headers : EMPTY_HEADERS
}

/**
 * The token, `undefined` for none, or a refusal (`{ ok: false, error }` with an UnauthorizedError)
 * for a malformed Bearer header.
 */
function extractToken(req, cookieName) {
  const headers = headersOf(req)
  const authorization = headers.authorization
  if (typeof authorization === 'string' && authorization.length > 0) {
    const space = authorization.indexOf(' ')
    const scheme = space === -1 ? authorization : authorization.slice(0, space)
    if (scheme.length === 6 && scheme.toLowerCase() === 'bearer') {
      const token = space === -1 ? '' : authorization.slice(space + 1)
      if (token.length === 0 || token.includes(' ')) {
        return refused(new UnauthorizedError('credentials_bad_format', new JwtError(BAD_FORMAT, 'ERR_JWS_INVALID')))
      }
      return token
    }
    // Any other scheme (Basic, …) is not ours: fall through to the cookie, as Hanko's own backend does.
  }
  const cookies = req?.cookies
  const value = cookies !== null && typeof cookies === 'object' && typeof cookies[cookieName] === 'string'
    ? cookies[cookieName]
    : readCookie(headers.cookie, cookieName)
  return value === undefined || value === '' ? undefined : value
}

/** A CORS preflight that asks to send `Authorization` carries no credentials: it passes untouched. */
function isPreflight(req) {
  if (req?.method !== 'OPTIONS') return false
  const requested = headersOf(req)['access-control-request-headers']
  return typeof requested === 'string' && requested.split(',').some((h) => h.trim().toLowerCase() === 'authorization')
}

module.exports = { extractToken, isPreflight, headersOf }
