// HTTP benchmark: Express 5 with each contender, server and load generator pinned to different cores.
//   node benchmark/http.mjs [--quick] [--floor-ns N]
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestIssuer } from '../testing.mjs'

const quick = process.argv.includes('--quick')
const SECONDS = quick ? 3 : 8
const REPEATS = quick ? 1 : 3 // interleaved rounds; the table shows medians (shared machines drift)
const CONNECTIONS = 16
const CACHE = 1000 // every cache is set to this; the pool is larger
const POOL = quick ? 1200 : 1500
const MODES = {
  repeated: ['none', 'hanko-auth', 'express-jwt', 'jose', 'fast-jwt'],
  pool: ['none', 'floor', 'hanko-auth', 'express-jwt', 'jose', 'fast-jwt'],
}
const here = (f) => fileURLToPath(new URL(f, import.meta.url))

let pinned = true
try {
  execFileSync('taskset', ['-c', '0', 'true'])
} catch {
  pinned = false
}
const pin = (core, cmd, args) => (pinned ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args])

function startServer(mode, apiUrl) {
  const [cmd, args] = pin(0, process.execPath, [here('server.mjs'), mode, apiUrl, String(CACHE)])
  // fork() cannot be pinned, so spawn with an IPC channel instead.
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const ask = (m) =>
    new Promise((resolve) => {
      child.once('message', resolve)
      child.send(m)
    })
  return new Promise((resolve, reject) => {
    child.once('message', ({ port }) => resolve({ port, ask, stop: () => child.send('exit') }))
    child.once('exit', (code) => reject(new Error(`${mode} server exited ${code}`)))
  })
}

function load(url, tokensFile, seconds) {
  const [cmd, args] = pin(1, process.execPath, [here('load.mjs'), url, tokensFile, String(CONNECTIONS), String(seconds)])
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`))))
  })
}

export async function runHttp(log = console.log, { floorNs } = {}) {
  const issuer = await createTestIssuer()
  const dir = mkdtempSync(join(tmpdir(), 'hanko-bench-'))
  const files = {
    repeated: join(dir, 'repeated.json'),
    pool: join(dir, 'pool.json'),
  }
  writeFileSync(files.repeated, JSON.stringify([issuer.token()]))
  writeFileSync(files.pool, JSON.stringify(Array.from({ length: POOL }, (_, i) => issuer.token({ sub: `user-${i}` }))))
  const runs = {}
  for (let round = 0; round < REPEATS; round++) {
    for (const tokens of ['repeated', 'pool']) {
      // Alternate the order each round: these VMs drift within minutes, which would favour whoever runs first.
      for (const mode of round % 2 === 0 ? MODES[tokens] : [...MODES[tokens]].reverse()) {
        const server = await startServer(mode, issuer.url)
        const url = `http://127.0.0.1:${server.port}/api/me`
        await load(url, files[tokens], 1) // warm-up: JIT, key fetch, caches
        const before = await server.ask('stats')
        const r = await load(url, files[tokens], SECONDS)
        const after = await server.ask('stats')
        server.stop()
        const cpuUs = after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system
        if (r.non2xx > 0) throw new Error(`${mode}: ${r.non2xx} non-2xx answers to valid tokens`)
        runs[`${tokens}/${mode}`] ??= []
        runs[`${tokens}/${mode}`].push({ ...r, cpuNsPerReq: (cpuUs * 1000) / r.requests, rssMb: after.rss / 2 ** 20 })
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const results = {}
  for (const [key, list] of Object.entries(runs)) {
    results[key] = Object.fromEntries(['rps', 'p50', 'p99', 'cpuNsPerReq', 'rssMb'].map((f) => [f, median(list.map((r) => r[f]))]))
  }
  await issuer.close()

  log(
    `\n### HTTP: Express 5, ${CONNECTIONS} connections, ${SECONDS} s per run, median of ${REPEATS} interleaved runs, ${pinned ? 'server on core 0, load on core 1' : 'unpinned (no taskset)'}\n`,
  )
  log(`Tokens: "repeated" = one token; "pool" = ${POOL} distinct RSA-4096 tokens, every cache set to ${CACHE} entries.\n`)
  log('| tokens | contender | req/s | × no-auth | p50 ms | p99 ms | server CPU µs/req | RSS MB | RSS − no-auth |')
  log('|---|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const tokens of ['repeated', 'pool']) {
    const none = results[`${tokens}/none`]
    for (const mode of MODES[tokens]) {
      const r = results[`${tokens}/${mode}`]
      log(
        `| ${tokens} | ${mode} | ${r.rps.toFixed(0)} | ${(r.rps / none.rps).toFixed(2)} | ${r.p50} | ${r.p99} | ${(r.cpuNsPerReq / 1000).toFixed(1)} | ${r.rssMb.toFixed(1)} | ${(r.rssMb - none.rssMb).toFixed(1)} |`,
      )
    }
  }
  const floorServer = results['pool/floor']
  const hanko = results['pool/hanko-auth']
  log(
    `\nFloor-bound ideal for the pool: Express plus a bare node:crypto verify with a pre-parsed KeyObject and nothing else ("floor" row, same run, same load). hanko-auth reaches ${(hanko.rps / floorServer.rps).toFixed(2)} of its req/s.`,
  )
  if (floorNs) {
    log(
      `For scale: the micro benchmark's bare RSA-4096 verify took ${(floorNs / 1000).toFixed(1)} µs of CPU on an idle core; under HTTP load the floor row spends ${((floorServer.cpuNsPerReq - results['pool/none'].cpuNsPerReq) / 1000).toFixed(1)} µs more per request than no-auth.`,
    )
  }
  return results
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--floor-ns')
  await runHttp(console.log, { floorNs: at > 0 ? Number(process.argv[at + 1]) : undefined })
}
