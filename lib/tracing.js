'use strict'

// Tracing through node:diagnostics_channel (no dependency on any APM): `hanko-auth:verify` for every
// verification that is not a token-cache hit, `hanko-auth:jwks` for every key-set fetch (background
// refreshes included). Contexts carry { jwksUri, kid, alg, outcome, code } and never the token. With no
// subscriber, nothing is published and nothing is computed. TracingChannel exists from Node 18.19 / 20.

const dc = require('node:diagnostics_channel')
const { tokenHeader } = require('./extract.js')
const { binding } = require('./loader.js')

const tracing = typeof dc.tracingChannel === 'function'
const verifyChannel = tracing ? dc.tracingChannel('hanko-auth:verify') : null
const jwksChannel = tracing ? dc.tracingChannel('hanko-auth:jwks') : null

/** Whether anyone listens on a tracing channel (`hasSubscribers` on the channel itself is Node 22+). */
const listened = (channel) =>
  channel !== null &&
  (channel.start.hasSubscribers ||
    channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers)

function headerOf(token) {
  const header = tokenHeader(token)
  return {
    kid: typeof header.kid === 'string' ? header.kid.slice(0, 256) : undefined,
    alg: typeof header.alg === 'string' ? header.alg.slice(0, 32) : undefined,
  }
}

function settle(channel, context, result) {
  context.outcome = result.ok ? 'ok' : 'refused'
  if (!result.ok) {
    context.code = result.error.code
    context.error = result.error
    channel.error.publish(context)
  }
}

// Fetches happen in the core; it reports them to this listener, registered once a subscriber exists.
let listening = false
const fetches = new Map() // jwksUri → the context of the fetch in flight
function listenForFetches() {
  if (listening || !listened(jwksChannel)) return
  listening = true
  binding.onKeySetFetch((event) => {
    if (event.phase === 'start') {
      const context = { jwksUri: event.jwksUri, kid: undefined, alg: undefined, outcome: undefined, code: undefined }
      fetches.set(event.jwksUri, context)
      jwksChannel.start.publish(context)
      jwksChannel.end.publish(context)
      return
    }
    const context = fetches.get(event.jwksUri) ?? { jwksUri: event.jwksUri, kid: undefined, alg: undefined }
    fetches.delete(event.jwksUri)
    context.keys = event.keys
    settle(jwksChannel, context, event.code == null ? { ok: true } : { ok: false, error: { code: event.code } })
    jwksChannel.asyncStart.publish(context)
    jwksChannel.asyncEnd.publish(context)
  })
}

/**
 * Runs `verify()` (a result, or a thenable of one) traced on `hanko-auth:verify` when someone listens;
 * otherwise just runs it.
 */
function traceVerify(jwksUri, token, verify) {
  listenForFetches()
  if (!listened(verifyChannel)) return verify()
  const context = { jwksUri, ...headerOf(token), outcome: undefined, code: undefined }
  verifyChannel.start.publish(context)
  let result
  try {
    result = verify()
  } finally {
    if (result === undefined || typeof result.then !== 'function') {
      if (result !== undefined) settle(verifyChannel, context, result)
      verifyChannel.end.publish(context)
    }
  }
  if (typeof result.then !== 'function') return result
  verifyChannel.end.publish(context)
  return result.then((late) => {
    settle(verifyChannel, context, late)
    verifyChannel.asyncStart.publish(context)
    verifyChannel.asyncEnd.publish(context)
    return late
  })
}

module.exports = { traceVerify, listenForFetches }
