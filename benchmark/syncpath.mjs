// What the synchronous hot path saves: CPU and wall time per middleware call with the key cached, through
// the sync path (the shipped middleware) and through a Promise + I/O-thread hop for every request (what a
// middleware that always awaits `verify()` costs). One run, medians of 7 rounds.
//   node benchmark/syncpath.mjs
import { createRequire } from 'node:module'
import { hankoAuth } from '../index.mjs'
import { createTestIssuer } from '../testing.mjs'

const { NativeVerifier, VerifyMode } = createRequire(import.meta.url)('../binding.js')
const issuer = await createTestIssuer()
const tokens = Array.from({ length: 64 }, (_, i) => issuer.token({ sub: `u${i}` }))
const res = { headersSent: false, setHeader() {} }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function measure(name, call) {
  const cpu = []
  const wall = []
  for (let round = 0; round < 8; round++) {
    const c = process.cpuUsage()
    const t = process.hrtime.bigint()
    const N = 400
    for (let i = 0; i < N; i++) await call(tokens[i % tokens.length])
    const used = process.cpuUsage(c)
    if (round > 0) {
      cpu.push((used.user + used.system) / N)
      wall.push(Number(process.hrtime.bigint() - t) / 1000 / N)
    }
  }
  console.log(`| ${name} | ${median(cpu).toFixed(1)} | ${median(wall).toFixed(1)} |`)
}

console.log('| path (RSA-4096, key cached, token cache off) | CPU µs/request | wall µs/request |\n|---|---:|---:|')
const middleware = hankoAuth(issuer.url, { tokenCache: false })
await new Promise((r) => middleware({ method: 'GET', headers: { authorization: `Bearer ${tokens[0]}` } }, res, r))
await measure('hankoAuth middleware (sync path)', (t) => new Promise((r) => middleware({ method: 'GET', headers: { authorization: `Bearer ${t}` } }, res, r)))
// Only the URL: every other option takes the core's default, as in the middleware.
const native = new NativeVerifier({ jwksUri: issuer.jwksUri, jwksUriSource: 'jwksUri' })
await native.ready()
await measure('always async: native verify() Promise + I/O-thread hop', (t) => native.verify(t, VerifyMode.Offload).then((o) => JSON.parse(o.claims)))
await measure('sync native verify(), inline', (t) => JSON.parse(native.verify(t, VerifyMode.Inline).claims))
await issuer.close()
