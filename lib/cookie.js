'use strict'

// One cookie's value from a `Cookie` header (RFC 6265 §5.4), in time linear in the header's length.
// Hand-written because we need one name, not an object of every cookie, and the `cookie` package that
// matches what Express users get (0.7, through cookie-parser) is the result we must agree with: the
// first occurrence wins, optional whitespace around names and values is trimmed, a value in double
// quotes loses them, and a value with `%` is percent-decoded when it decodes (else kept as sent).
// __test__/unit/cookie.test.mjs checks it against that package and proves the cost linear.

const isSpace = (code) => code === 0x20 || code === 0x09

/** The value of cookie `name` in `header`, or `undefined`. */
function readCookie(header, name) {
  if (typeof header !== 'string') return undefined
  const length = header.length
  let index = 0
  while (index < length) {
    const eq = header.indexOf('=', index)
    if (eq === -1) return undefined // no pair left
    const semicolon = header.indexOf(';', index)
    const end = semicolon === -1 ? length : semicolon
    if (eq > end) {
      // This segment has no `=`: jump to the segment the `=` is in. Every jump moves forward past
      // text that is never scanned again, which keeps the whole walk linear.
      index = header.lastIndexOf(';', eq - 1) + 1
      continue
    }
    let keyStart = index
    let keyEnd = eq
    while (keyStart < keyEnd && isSpace(header.charCodeAt(keyStart))) keyStart++
    while (keyEnd > keyStart && isSpace(header.charCodeAt(keyEnd - 1))) keyEnd--
    if (keyEnd - keyStart === name.length && header.startsWith(name, keyStart)) {
      let valueStart = eq + 1
      let valueEnd = end
      while (valueStart < valueEnd && isSpace(header.charCodeAt(valueStart))) valueStart++
      while (valueEnd > valueStart && isSpace(header.charCodeAt(valueEnd - 1))) valueEnd--
      if (header.charCodeAt(valueStart) === 0x22 && header.charCodeAt(valueEnd - 1) === 0x22) {
        valueStart++
        valueEnd--
      }
      const value = header.slice(valueStart, valueEnd)
      if (value.indexOf('%') === -1) return value
      try {
        return decodeURIComponent(value)
      } catch {
        return value // not percent-encoded after all: kept as sent, for verification to judge
      }
    }
    index = end + 1
  }
  return undefined
}

module.exports = { readCookie }
