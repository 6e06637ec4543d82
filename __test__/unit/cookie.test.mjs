// lib/cookie.js: the `cookie` package's results (0.7, what cookie-parser gives Express users), in
// linear time (issue #13 item 1).
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import cookie from 'cookie'

const { readCookie } = createRequire(import.meta.url)('../../lib/cookie.js')

test('well-formed headers: the same value as the cookie package', () => {
  const headers = [
    'hanko=abc',
    'theme=dark; hanko=abc.def.ghi',
    'hanko=first; hanko=second',
    ' hanko = spaced ;x=1',
    '\thanko=\ttabbed\t',
    'hanko="quoted"',
    'hanko="',
    'hanko=""',
    'hanko=%7Bencoded%7D',
    'hanko=%E0%A4%A',
    'hanko=a%20b; other=c',
    'hankoX=no; hanko=yes',
    'Xhanko=no; hanko=yes',
    'HANKO=case; hanko=exact',
    'hanko=',
    'a=1;;;hanko=2',
    'novalue; hanko=after',
    'hanko=a=b=c',
    'x=y',
    '',
    ';',
    '=',
    'hanko',
  ]
  for (const header of headers) {
    assert.equal(readCookie(header, 'hanko'), cookie.parse(header).hanko, JSON.stringify(header))
  }
})

test('random headers agree with the cookie package', () => {
  const alphabet = ['hanko', 'a', '=', ';', ' ', '"', '%', '%41', 'x', '\t', 'hanko=']
  let seed = 42
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
  for (let i = 0; i < 5000; i++) {
    let header = ''
    const parts = 1 + Math.floor(random() * 12)
    for (let j = 0; j < parts; j++) header += alphabet[Math.floor(random() * alphabet.length)]
    assert.equal(readCookie(header, 'hanko'), cookie.parse(header).hanko, JSON.stringify(header))
  }
})

test('not a string → undefined', () => {
  assert.equal(readCookie(undefined, 'hanko'), undefined)
  assert.equal(readCookie(['hanko=a'], 'hanko'), undefined)
})

/** CPU time of parsing `header` `rounds` times, in ns per call (the best of 5 batches). */
function cost(header, rounds) {
  let best = Infinity
  for (let batch = 0; batch < 5; batch++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < rounds; i++) readCookie(header, 'hanko')
    best = Math.min(best, Number(process.hrtime.bigint() - start) / rounds)
  }
  return best
}

test('the cost is linear in the header length: a 64 KB header of semicolons costs < 100× a 1 KB one', () => {
  for (const unit of [';', 'a;', ' ;', 'x=1;'.replace('=', '')]) {
    const small = `${unit.repeat(Math.ceil(1024 / unit.length))}=1`
    const large = `${unit.repeat(Math.ceil(65536 / unit.length))}=1`
    cost(small, 200) // warm up
    const ratio = cost(large, 20) / cost(small, 200)
    // Linear: ~64×. The quadratic parser of 0.1 measured ~4000× here.
    assert.ok(ratio < 100, `${JSON.stringify(unit)}: 64 KB costs ${ratio.toFixed(0)}× 1 KB`)
  }
})
