// lib/challenge.js: the RFC 6750 §3 challenge.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const require = createRequire(import.meta.url)
const { challenge, setChallenge, MAX_DESCRIPTION } = require('../../lib/challenge.js')

test('missing credentials: "Bearer" alone; a malformed header: invalid_request; a bad token: invalid_token', () => {
  assert.equal(challenge({ code: 'credentials_required', message: 'x' }), 'Bearer')
  assert.equal(challenge({ code: 'credentials_bad_format', message: 'Format is x' }), 'Bearer error="invalid_request", error_description="Format is x"')
  assert.equal(challenge({ code: 'invalid_token', message: 'expired' }), 'Bearer error="invalid_token", error_description="expired"')
})

test('error_description is printable ASCII without quotes or backslashes', () => {
  assert.equal(challenge({ code: 'invalid_token', message: 'a "b" \\c\nd é' }), `Bearer error="invalid_token", error_description="a 'b' 'c?d ?"`)
})

test(`error_description is capped at ${MAX_DESCRIPTION} characters (issue #13 item 14)`, () => {
  const header = challenge({ code: 'invalid_token', message: `unknown member ${'x'.repeat(4800)}` })
  const description = /error_description="([^"]*)"/.exec(header)[1]
  assert.equal(description.length, MAX_DESCRIPTION)
  assert.ok(description.endsWith('...'))
})

test('setChallenge sets the header only when res can take one', () => {
  const err = { code: 'credentials_required', message: '' }
  for (const res of [undefined, null, {}, { setHeader: 'no' }, { headersSent: true, setHeader: () => assert.fail('sent') }]) {
    assert.doesNotThrow(() => setChallenge(res, err))
  }
  const set = []
  setChallenge({ headersSent: false, setHeader: (...args) => set.push(args) }, err)
  assert.deepEqual(set, [['WWW-Authenticate', 'Bearer']])
})
