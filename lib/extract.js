'use strict'

// Token extraction (README: Quick start; RFC 6750 §2.1): `Authorization: Bearer` first, else the
// cookie; CORS preflights pass.

const { readCookie } = require('./cookie.js')
const { JwtError, UnauthorizedError } = require('./errors.js')
const { refused } = require('./outcome.js')

const BAD_FORMAT = 'Format is Authorization: Bearer [token]'
const EMPTY_HEADERS = Object.freeze({})

/** The request's headers, or none when a host (or a test mock) hands over a `req` without them. */
function headersOf(req) {
  return req !== null && typeof req === 'object' && req.headers !== null && typeof req.headers === 'object' ? req.headers : EMPTY_HEADERS
}

/** `Bearer ` at the start, case-insensitively (RFC 7235 §2.1), without allocating a lowered copy. */
function isBearerScheme(authorization) {
  return (
    (authorization.charCodeAt(0) | 0x20) === 0x62 && // b
    (authorization.charCodeAt(1) | 0x20) === 0x65 && // e
    (authorization.charCodeAt(2) | 0x20) === 0x61 && // a
    (authorization.charCodeAt(3) | 0x20) === 0x72 && // r
    (authorization.charCodeAt(4) | 0x20) === 0x65 && // e
    (authorization.charCodeAt(5) | 0x20) === 0x72 && // r
    (authorization.length === 6 || authorization.charCodeAt(6) === 0x20)
  )
}

const badFormat = () => refused(new UnauthorizedError('credentials_bad_format', new JwtError(BAD_FORMAT, 'ERR_JWS_INVALID')))

/**
 * What follows `Bearer `: a string (not yet checked for extra parts, see `hasExtraParts`), a refusal
 * for `Bearer` with nothing after it, or `undefined` when the request has no Bearer credentials (any
 * other scheme is not ours, as in Hanko's own backend).
 */
function bearerToken(req) {
  const authorization = headersOf(req).authorization
  if (typeof authorization !== 'string' || authorization.length < 6 || !isBearerScheme(authorization)) return undefined
  return authorization.length <= 7 ? badFormat() : authorization.slice(7)
}

/**
 * Whether a Bearer token has more than one part (RFC 6750 §2.1: exactly one token). A token found in the
 * token cache never has, so the hot path asks only after a miss and skips this scan of ~1 KB.
 */
const hasExtraParts = (token) => token.includes(' ')

/** The cookie `cookieName`: from `req.cookies` when a cookie parser ran, else the `Cookie` header. */
function cookieToken(req, cookieName) {
  const cookies = req?.cookies
  const value =
    cookies !== null && typeof cookies === 'object' && typeof cookies[cookieName] === 'string'
      ? cookies[cookieName]
      : readCookie(headersOf(req).cookie, cookieName)
  return value === undefined || value === '' ? undefined : value
}

/** The whole extraction: the token, `undefined` for none, or a refusal for a malformed Bearer header. */
function extractToken(req, cookieName) {
  const bearer = bearerToken(req)
  if (bearer === undefined) return cookieToken(req, cookieName)
  return typeof bearer === 'string' && hasExtraParts(bearer) ? badFormat() : bearer
}

/** The decoded protected header of a compact token, or `{}` (for isRevoked and tracing; never trusted). */
function tokenHeader(token) {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'))
    return header !== null && typeof header === 'object' ? header : {}
  } catch {
    return {}
  }
}

/** A CORS preflight that asks to send `Authorization` carries no credentials: it passes untouched. */
function isPreflight(req) {
  if (req?.method !== 'OPTIONS') return false
  const requested = headersOf(req)['access-control-request-headers']
  return typeof requested === 'string' && requested.split(',').some((h) => h.trim().toLowerCase() === 'authorization')
}

module.exports = { bearerToken, cookieToken, extractToken, hasExtraParts, badFormat, isPreflight, headersOf, tokenHeader }
