'use strict'

// Results inside the shim are tagged data, never judged with `instanceof` (README: Hosts): a Promise
// or Error made by the addon, or in another realm (Jest's and Vitest's vm contexts), fails it.
//   { ok: true, claims } | { ok: false, error }, or a thenable of one.

const accepted = (claims) => ({ ok: true, claims })
const refused = (error) => ({ ok: false, error })
const isThenable = (v) => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function'

/** Applies `step` to a result or to the result a thenable brings. */
const andThen = (result, step) => (isThenable(result) ? result.then(step) : step(result))

/**
 * Runs `onValue` or `onError` when `thenable` settles. Each calls `next` exactly once; should `next`
 * itself throw (a test's assertion, a broken handler), the error surfaces as an uncaught exception, as
 * from any callback, instead of an unhandled rejection or a second call of `next`.
 */
function whenSettled(thenable, onValue, onError) {
  thenable.then(onValue, onError).then(undefined, rethrowOutside)
}

function rethrowOutside(err) {
  queueMicrotask(() => {
    throw err
  })
}

module.exports = { accepted, refused, isThenable, andThen, whenSettled }
