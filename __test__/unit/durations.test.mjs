// lib/durations.js: durations as users write them.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const { seconds } = createRequire(import.meta.url)('../../lib/durations.js')

test('numbers are seconds; strings take units', () => {
  const cases = [
    [30, 30],
    ['30', 30],
    ['30s', 30],
    ['1.5m', 90],
    ['12h', 43200],
    ['7 days', 604800],
    ['2w', 1209600],
    ['500ms', 0.5],
    ['1y', 31557600],
    [' 5 MIN ', 300],
  ]
  for (const [input, expected] of cases) assert.equal(seconds(input, 'maxTokenAge'), expected, String(input))
})

test('anything else is a TypeError or RangeError naming the option', () => {
  for (const bad of ['5 parsecs', '', 'h', {}, null, [], '-5s']) {
    assert.throws(
      () => seconds(bad, 'maxTokenAge'),
      (err) => err.name === 'TypeError' && /maxTokenAge/.test(err.message),
      String(bad),
    )
  }
  for (const bad of [-1, Infinity, NaN]) {
    assert.throws(
      () => seconds(bad, 'clockTolerance'),
      (err) => err.name === 'RangeError' && /clockTolerance/.test(err.message),
      String(bad),
    )
  }
})
