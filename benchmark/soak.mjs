// `npm run soak [-- <seconds>]` (default 600): the demo app under a steady mix of valid, expired and
// forged tokens, with the demo's RSS sampled every 10 s. Valid tokens must never get a non-2xx answer;
// the RSS curve after warm-up must stay within ±10 % of its mean. Not run in CI (too long).
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { createTestIssuer } from '../testing.mjs'

const autocannon = createRequire(import.meta.url)('autocannon')
const seconds = Number(process.argv[2] ?? 600)
const warmup = Math.min(60, Math.floor(seconds / 5))

const issuer = await createTestIssuer()
const valid = Array.from({ length: 200 }, (_, i) => issuer.token({ sub: `user-${i}` }))
const expired = Array.from({ length: 50 }, (_, i) =>
  issuer.token({ sub: `old-${i}`, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
)
const forged = valid.slice(0, 50).map((t) => {
  const [h, , s] = t.split('.')
  return `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', exp: 9999999999, aud: ['localhost'] })).toString('base64url')}.${s}`
})

const demo = spawn(process.execPath, [fileURLToPath(new URL('../examples/express.js', import.meta.url))], {
  env: { ...process.env, HANKO_API_URL: issuer.url, PORT: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
})
const base = await new Promise((resolve) => {
  demo.stdout.on('data', (d) => {
    const m = /Demo app on (http:\/\/127\.0\.0\.1:\d+)/.exec(String(d))
    if (m) resolve(m[1])
  })
})
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${demo.pid}/status`, 'utf8'))[1]) / 1024

function cannon(tokens, connections) {
  let i = 0
  return autocannon({
    url: `${base}/api/me`,
    connections,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[i++ % tokens.length]}` } }) }],
  })
}

const samples = []
const sampler = setInterval(() => samples.push({ t: samples.length * 10, mb: rss() }), 10_000)
console.log(`soak: ${seconds} s against ${base}; RSS every 10 s`)
const [good, bad] = await Promise.all([cannon(valid, 8), cannon([...expired, ...forged], 4)])
clearInterval(sampler)
demo.kill()
await issuer.close()

const after = samples.filter((s) => s.t >= warmup).map((s) => s.mb)
const mean = after.reduce((a, b) => a + b, 0) / after.length
const spread = Math.max(...after.map((mb) => Math.abs(mb - mean) / mean))
console.log('\n| t (s) | RSS (MB) |\n|---:|---:|')
for (const s of samples) console.log(`| ${s.t} | ${s.mb.toFixed(1)} |`)
console.log(`\nvalid-token requests: ${good.requests.total}, non-2xx: ${good.non2xx}, errors: ${good.errors}`)
console.log(`expired/forged requests: ${bad.requests.total}, 2xx: ${bad['2xx']}`)
console.log(`RSS after ${warmup} s warm-up: mean ${mean.toFixed(1)} MB, largest deviation ${(spread * 100).toFixed(1)} %`)
const ok = good.non2xx === 0 && good.errors === 0 && bad['2xx'] === 0 && spread <= 0.1
console.log(ok ? 'soak: PASS' : 'soak: FAIL')
process.exit(ok ? 0 : 1)
