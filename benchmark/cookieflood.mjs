// Legitimate cached requests under a flood of 16 KB semicolon Cookie headers (issue #13 item 1): the
// p50 latency of a Bearer-token load alone, and with a flood of unauthenticated requests whose Cookie
// header is 16 KB of `;` running at the same time, in interleaved rounds. Both loads run at a fixed
// rate (LEGIT_RATE, FLOOD_RATE requests/s), so the p50 shows what each flood request costs the server
// rather than two saturating loads sharing it: a quadratic parser spent ~0.7 ms of JS time on each such
// header (the flooded p50 went to 3–4× the quiet one); linear parsing must keep it within 1.5×.
//   node benchmark/cookieflood.mjs [--rounds 3] [--seconds 5]
import { fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { createTestIssuer } from '../testing.mjs'

const autocannon = createRequire(import.meta.url)('autocannon')
const arg = (name, fallback) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback)
const ROUNDS = arg('--rounds', 3)
const SECONDS = arg('--seconds', 5)
const FLOOD_COOKIE = ';'.repeat(16 * 1024)
const LEGIT_RATE = arg('--legit-rate', 2000)
const FLOOD_RATE = arg('--flood-rate', 1000)

if (process.argv[2] === '--flood') {
  // The flood, in its own process: unauthenticated requests with the 16 KB cookie.
  const result = await autocannon({
    url: process.argv[3],
    connections: 10,
    overallRate: FLOOD_RATE,
    duration: Number(process.argv[4]),
    headers: { cookie: FLOOD_COOKIE },
  })
  process.send({ requests: result.requests.total, non2xx: result.non2xx })
  process.exit(0)
}

const issuer = await createTestIssuer()
const token = issuer.token()
const server = fork(fileURLToPath(new URL('./server.mjs', import.meta.url)), ['hanko-auth', issuer.url, '1000'], {
  execArgv: ['--max-http-header-size=65536'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
})
const port = await new Promise((resolve) => server.once('message', (m) => resolve(m.port)))
const url = `http://127.0.0.1:${port}/api/me`

async function legitimate() {
  const result = await autocannon({ url, connections: 10, overallRate: LEGIT_RATE, duration: SECONDS, headers: { authorization: `Bearer ${token}` } })
  if (result.non2xx > 0) throw new Error(`${result.non2xx} legitimate requests were refused`)
  // autocannon reports p50 in whole milliseconds; a fast server's is 0–2 ms, so the mean is kept too.
  return { p50: result.latency.p50, mean: result.latency.average }
}

async function flooded() {
  const flood = fork(fileURLToPath(import.meta.url), ['--flood', url, String(SECONDS + 1)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const floodDone = new Promise((resolve) => flood.once('message', resolve))
  await new Promise((resolve) => setTimeout(resolve, 500)) // the flood is running
  const latency = await legitimate()
  const { requests, non2xx } = await floodDone
  if (requests === 0 || non2xx !== requests) throw new Error(`the flood got ${requests - non2xx} non-401 answers of ${requests}`)
  return { ...latency, floodRequests: requests }
}

await legitimate() // warm-up: the token is cached from here on
const quiet = []
const loud = []
let floodRequests = 0
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order: this VM drifts within minutes.
  if (round % 2 === 0) {
    quiet.push(await legitimate())
    const f = await flooded()
    loud.push(f)
    floodRequests += f.floodRequests
  } else {
    const f = await flooded()
    loud.push(f)
    floodRequests += f.floodRequests
    quiet.push(await legitimate())
  }
}
server.send('exit')
await issuer.close()
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const row = (name, runs) =>
  `| ${name} | ${runs.map((r) => r.p50).join(', ')} | ${median(runs.map((r) => r.p50))} | ${median(runs.map((r) => r.mean)).toFixed(2)} |`
console.log(
  `legitimate load: ${LEGIT_RATE} req/s over 10 connections, ${SECONDS} s per run, ${ROUNDS} interleaved rounds; flood: ${FLOOD_RATE} req/s of 16 KB ';' cookies (${floodRequests} requests, all 401)`,
)
console.log('| load | p50 per round (ms) | median p50 (ms) | median mean latency (ms) |')
console.log('|---|---|---:|---:|')
console.log(row('Bearer token alone', quiet))
console.log(row('Bearer token + flood', loud))
const p50Ratio = median(loud.map((r) => r.p50)) / Math.max(median(quiet.map((r) => r.p50)), 1)
const meanRatio = median(loud.map((r) => r.mean)) / median(quiet.map((r) => r.mean))
console.log(`flooded / quiet: p50 ${p50Ratio.toFixed(2)}×, mean ${meanRatio.toFixed(2)}× (target ≤ 1.5×)`)
