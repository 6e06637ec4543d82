// Differential fuzzing of the Cookie header parser (lib/cookie.js) against the `cookie` package (0.7,
// what cookie-parser gives Express users): random headers built from the characters that matter (`;`,
// `=`, spaces, tabs, quotes, `%`, the cookie name) and random bytes. Every disagreement, exception or
// non-string result is a finding, written to fuzz/artifacts/cookie/.
//   node scripts/fuzz-cookie.mjs [runs] [seed]
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cookie = require('cookie')
const { readCookie } = require('../lib/cookie.js')

const runs = Number(process.argv[2] ?? 10_000_000)
let seed = Number(process.argv[3] ?? 20261201) >>> 0
const random = () => {
  // xorshift32: reproducible from the seed
  seed ^= seed << 13
  seed >>>= 0
  seed ^= seed >>> 17
  seed ^= seed << 5
  seed >>>= 0
  return seed / 2 ** 32
}
const pieces = ['hanko', 'hanko=', 'a', 'b=', '=', ';', '; ', ' ', '\t', '"', '%', '%41', '%E0%A4%A', '%ZZ', 'x', 'é', '\u0000', ',', 'hanko="v"', ';;;;']

function header() {
  if (random() < 0.1) {
    const length = Math.floor(random() * 64)
    return String.fromCharCode(...Array.from({ length }, () => Math.floor(random() * 128)))
  }
  let text = ''
  const parts = Math.floor(random() * 16)
  for (let i = 0; i < parts; i++) text += pieces[Math.floor(random() * pieces.length)]
  return text
}

const findings = []
const started = Date.now()
for (let i = 0; i < runs; i++) {
  const input = header()
  let ours
  try {
    ours = readCookie(input, 'hanko')
  } catch (err) {
    findings.push({ input, problem: `threw ${err}` })
    continue
  }
  const theirs = cookie.parse(input).hanko
  if (ours !== theirs) findings.push({ input, problem: `ours ${JSON.stringify(ours)}, cookie ${JSON.stringify(theirs)}` })
  if (findings.length >= 20) break
}
const seconds = (Date.now() - started) / 1000
if (findings.length > 0) {
  mkdirSync('fuzz/artifacts/cookie', { recursive: true })
  writeFileSync('fuzz/artifacts/cookie/findings.json', JSON.stringify(findings, null, 2))
  console.log(findings.slice(0, 5))
}
console.log(`| cookie (JS, differential vs cookie 0.7) | ${seconds.toFixed(0)} | ${runs} | ${findings.length} | ${findings.length} |`)
process.exit(findings.length === 0 ? 0 : 1)
