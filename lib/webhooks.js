'use strict'

// The Express handler for Hanko's webhooks (README: Instant logout):
//   app.post('/hanko/webhooks', hankoWebhooks(HANKO_API_URL, { revocations }))
// Hanko POSTs `{"token": "<jwt>", "event": "<name>"}`. Only the signed JWT is trusted (the body's `event`
// is not signed): it is verified by the same native verifier as session tokens, against the tenant's
// key cache, with the webhook's own claim rules (RS256, `sub: "hanko webhooks"`, `exp`, `aud` if set).
// Answers: 200 verified (acted on or ignored), 400 a body that is not `{token, event}`, 401 a token that
// fails, 503 the key set cannot be had. Hanko retries what is not a 2xx; revoking again is harmless.

const { debug } = require('./debug.js')
const { checkKeys, splitArguments } = require('./options.js')
const { MAX_ID_LENGTH } = require('./revocation-entry.js')
const { DEFAULT_SESSION_TTL_MS } = require('./revocation-list.js')
const { Verifier } = require('./verifier.js')

/** What Hanko signs its webhooks with (README: Instant logout). */
const WEBHOOK_SUBJECT = 'hanko webhooks'
const MAX_BODY_BYTES = 64 * 1024
/** A body that has not arrived by then is refused (no request is left hanging on a slow sender). */
const BODY_TIMEOUT_MS = 10_000
const SESSION_ENDED = 'session.delete.'
const USER_DELETED = 'user.delete'
/** Options that concern the key set, shared with hankoAuth's; claim rules are the webhook's own. */
const KEY_SET_OPTIONS = ['jwksHost', 'jwksUri', 'jwks', 'allowInsecureHttp', 'clockTolerance', 'issuer']
const OWN_OPTIONS = ['revocations', 'onEvent', 'audience']

const badBody = (message, code = 'ERR_WEBHOOK_BODY_INVALID') => ({ status: 400, code, message })

/** The JSON body: `req.body` when a parser ran, else read here (at most 64 KiB). Resolves to { value } or a refusal. */
function readBody(req) {
  const parsed = req.body
  if (parsed !== undefined && parsed !== null) {
    if (typeof parsed === 'string' || ArrayBuffer.isView(parsed)) return Promise.resolve(parseJson(Buffer.from(parsed)))
    return Promise.resolve(typeof parsed === 'object' ? { value: parsed } : badBody('the body is not a JSON object'))
  }
  const declared = Number(req.headers?.['content-length'])
  if (declared > MAX_BODY_BYTES) return Promise.resolve(badBody(`the body is larger than ${MAX_BODY_BYTES} bytes`, 'ERR_WEBHOOK_BODY_TOO_LARGE'))
  if (typeof req.on !== 'function') return Promise.resolve(badBody('there is no body to read'))
  return new Promise((resolve) => {
    const chunks = []
    let size = 0
    const finish = (outcome) => {
      clearTimeout(timer)
      req.removeListener('data', onData)
      req.removeListener('end', onEnd)
      req.removeListener('error', onError)
      resolve(outcome)
    }
    const onData = (chunk) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) return finish(badBody(`the body is larger than ${MAX_BODY_BYTES} bytes`, 'ERR_WEBHOOK_BODY_TOO_LARGE'))
      chunks.push(chunk)
    }
    const onEnd = () => finish(parseJson(Buffer.concat(chunks)))
    const onError = () => finish(badBody('the body could not be read'))
    const timer = setTimeout(() => finish(badBody(`the body did not arrive within ${BODY_TIMEOUT_MS / 1000} s`, 'ERR_WEBHOOK_BODY_TIMEOUT')), BODY_TIMEOUT_MS)
    timer.unref?.()
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

function parseJson(bytes) {
  if (bytes.length > MAX_BODY_BYTES) return badBody(`the body is larger than ${MAX_BODY_BYTES} bytes`, 'ERR_WEBHOOK_BODY_TOO_LARGE')
  try {
    return { value: JSON.parse(bytes.toString('utf8')) }
  } catch {
    return badBody('the body is not JSON')
  }
}

/** Writes a JSON answer when `res` can still take one (a refused body also closes the connection). */
function answer(res, status, body) {
  if (res.headersSent) return
  res.statusCode = status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  if (status === 400) res.setHeader('connection', 'close')
  res.end(JSON.stringify(body))
}

/** Until when a revoked session's tokens must fail: its `expires_at` (RFC 3339), else 24 h from now. */
function sessionExpiry(data) {
  const expiresAt = typeof data.expires_at === 'string' ? Date.parse(data.expires_at) : Number.NaN
  return Number.isFinite(expiresAt) ? expiresAt : Date.now() + DEFAULT_SESSION_TTL_MS
}

/** What a verified event does to the list: 'revoked-session', 'revoked-user' or 'ignored'. */
async function act(revocations, evt, data, claims) {
  if (revocations === null || data === null || typeof data !== 'object') return 'ignored'
  if (typeof data.id !== 'string' || data.id.length === 0 || data.id.length > MAX_ID_LENGTH) return 'ignored'
  if (evt.startsWith(SESSION_ENDED)) {
    await revocations.revokeSession(data.id, sessionExpiry(data))
    return 'revoked-session'
  }
  if (evt === USER_DELETED) {
    // Hanko's clock, as the tokens' iat: every token issued up to the webhook's own second fails.
    await revocations.revokeUser(data.id, claims.iat * 1000)
    return 'revoked-user'
  }
  return 'ignored'
}

/**
 * @param {string} [jwksHost] the Hanko API URL (else options.jwksHost, else HANKO_API_URL)
 * @param {object} [options] `revocations`, `onEvent(evt, data)`, `audience`, and the key-set options
 *   of hankoAuth (`jwksUri`, `jwks`, `allowInsecureHttp`, `clockTolerance`, `issuer`).
 */
function hankoWebhooks(first, second) {
  const options = splitArguments(first, second, 'hankoWebhooks')
  checkKeys(options, new Set([...KEY_SET_OPTIONS, ...OWN_OPTIONS]), 'hankoWebhooks')
  const revocations = options.revocations ?? null
  // Judged by shape, not instanceof (README: Hosts): the handler writes to the list as well as reading it.
  const methods = ['isRevoked', 'revokeSession', 'revokeUser']
  if (revocations !== null && (typeof revocations !== 'object' || !methods.every((name) => typeof revocations[name] === 'function'))) {
    throw new TypeError('hankoWebhooks: revocations must be a revocation list (createRevocationList())')
  }
  const onEvent = options.onEvent
  if (onEvent !== undefined && typeof onEvent !== 'function') throw new TypeError('hankoWebhooks: onEvent must be a function')
  if (revocations === null && onEvent === undefined) throw new TypeError('hankoWebhooks: pass revocations, onEvent, or both')
  const verifierOptions = {
    algorithms: ['RS256'],
    subject: WEBHOOK_SUBJECT,
    requiredClaims: ['exp', 'iat', 'evt'],
    tokenCache: false,
  }
  for (const key of [...KEY_SET_OPTIONS, 'audience']) if (options[key] !== undefined) verifierOptions[key] = options[key]
  const verifier = new Verifier(verifierOptions)

  async function handle(req, res) {
    const body = await readBody(req)
    if (body.value === undefined) {
      debug('webhook refused (%s): %s', body.code, body.message)
      return answer(res, body.status, { error: body.code, message: body.message })
    }
    const { token, event } = body.value ?? {}
    if (typeof body.value !== 'object' || Array.isArray(body.value) || typeof token !== 'string' || typeof event !== 'string') {
      return answer(res, 400, { error: 'ERR_WEBHOOK_BODY_INVALID', message: 'the body must be {"token": "<jwt>", "event": "<name>"}' })
    }
    let claims
    try {
      claims = await verifier.verify(token)
    } catch (err) {
      debug('webhook refused (%s): %s', err.code, err.message)
      return answer(res, err.status === 503 ? 503 : 401, { error: err.code, message: err.message })
    }
    if (typeof claims.evt !== 'string') return answer(res, 401, { error: 'ERR_JWT_CLAIM_VALIDATION_FAILED', message: 'the webhook token has no string "evt"' })
    const data = claims.data ?? null
    const action = await act(revocations, claims.evt, data, claims)
    debug('webhook %s: %s', claims.evt, action)
    if (onEvent !== undefined) await onEvent(claims.evt, data)
    answer(res, 200, { ok: true, event: claims.evt, action })
  }

  function hankoWebhooksHandler(req, res, next) {
    handle(req, res).then(undefined, (err) => {
      // onEvent threw, or the list refused an id: the app's error handler answers (Hanko retries a 5xx).
      if (typeof next === 'function') return next(err)
      answer(res, 500, { error: err?.code ?? 'ERR_WEBHOOK_HANDLER', message: String(err?.message ?? err) })
    })
  }
  Object.defineProperty(hankoWebhooksHandler, 'verifier', { value: verifier, enumerable: true })
  return hankoWebhooksHandler
}

module.exports = { hankoWebhooks, WEBHOOK_SUBJECT, MAX_BODY_BYTES }
