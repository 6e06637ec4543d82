'use strict'

// One revocation: `{ type: 'session', id, until }` or `{ type: 'user', id, at, until }` (ms since the
// epoch). The same JSON is a Redis key's value and a message on the channel; what comes back from Redis
// is checked like any other input.

/** Ids come from webhooks and Redis: Hanko's are UUIDs; anything longer than this is refused. */
const MAX_ID_LENGTH = 256
/** A message or stored value longer than this is not ours. */
const MAX_ENTRY_BYTES = 1024

function checkId(id, name) {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new TypeError(`${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`)
  }
}

const encode = (entry) => JSON.stringify(entry)

/** An entry from Redis, or null for anything that is not one of ours. */
function decode(text) {
  if (typeof text !== 'string' || text.length > MAX_ENTRY_BYTES) return null
  let entry
  try {
    entry = JSON.parse(text)
  } catch {
    return null
  }
  if (entry === null || typeof entry !== 'object') return null
  const { type, id, until, at } = entry
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !Number.isFinite(until)) return null
  if (type === 'session') return { type, id, until }
  if (type === 'user' && Number.isFinite(at)) return { type, id, at, until }
  return null
}

module.exports = { MAX_ID_LENGTH, checkId, encode, decode }
