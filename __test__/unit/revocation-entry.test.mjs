// lib/revocation-entry.js: what comes back from Redis (a key's value, a message) is input like any other.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const { checkId, decode, encode, MAX_ID_LENGTH } = createRequire(import.meta.url)('../../lib/revocation-entry.js')

test('encode and decode round-trip both kinds', () => {
  const session = { type: 'session', id: 's', until: 1_800_000_000_000 }
  const user = { type: 'user', id: 'u', at: 1_700_000_000_000, until: 1_800_000_000_000 }
  assert.deepEqual(decode(encode(session)), session)
  assert.deepEqual(decode(encode(user)), user)
  assert.deepEqual(decode(JSON.stringify({ ...session, extra: { deep: [1] } })), session, 'unknown members are dropped')
})

test('anything else decodes to null, never throws', () => {
  const cases = [
    null,
    undefined,
    42,
    '',
    '{',
    'null',
    '[]',
    '"session"',
    JSON.stringify({ type: 'session', id: 's' }),
    JSON.stringify({ type: 'session', id: 's', until: '1' }),
    JSON.stringify({ type: 'session', id: 's', until: null }),
    JSON.stringify({ type: 'session', id: '', until: 1 }),
    JSON.stringify({ type: 'session', id: 7, until: 1 }),
    JSON.stringify({ type: 'session', id: 'x'.repeat(MAX_ID_LENGTH + 1), until: 1 }),
    JSON.stringify({ type: 'user', id: 'u', until: 1 }),
    JSON.stringify({ type: 'admin', id: 'u', at: 1, until: 1 }),
    JSON.stringify({ type: 'session', id: 's', until: 1, pad: 'x'.repeat(2000) }),
    '['.repeat(1000),
    '{"__proto__": {"polluted": true}, "type": "session", "id": "s", "until": 1}'.replace('"until": 1}', '"until": 1e400}'),
  ]
  for (const value of cases) assert.equal(decode(value), null, String(value).slice(0, 60))
  assert.equal({}.polluted, undefined)
  // Random bytes: never an exception.
  let seed = 7
  const next = () => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return seed >>> 16
  }
  for (let i = 0; i < 20_000; i++) {
    const text = String.fromCharCode(...Array.from({ length: next() % 64 }, () => next() % 128))
    assert.doesNotThrow(() => decode(text))
  }
})

test('checkId names the argument', () => {
  assert.throws(() => checkId('', 'revokeSession: sessionId'), {
    name: 'TypeError',
    message: 'revokeSession: sessionId must be a non-empty string of at most 256 characters',
  })
  assert.doesNotThrow(() => checkId('x'.repeat(MAX_ID_LENGTH), 'id'))
})
