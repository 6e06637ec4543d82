// Micro benchmark: CPU time per verification, every contender on the same keys and tokens, in one run.
//   node benchmark/micro.mjs [--quick]
import { createRequire } from 'node:module'
import { createTestIssuer } from '../testing.mjs'
import { checkContender, contenders, floor } from './contenders.mjs'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 5 : 11
const ROUND_MS = quick ? 120 : 400
const POOL = quick ? 64 : 200

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Median CPU nanoseconds per call over ROUNDS rounds of at least ROUND_MS each. */
async function cpuPerOp(op, tokens, isAsync) {
  const samples = []
  let i = 0
  for (let round = 0; round < ROUNDS + 1; round++) {
    const wall = Date.now()
    const cpu = process.cpuUsage()
    let ops = 0
    while (Date.now() - wall < ROUND_MS) {
      for (let k = 0; k < 16; k++) {
        const token = tokens[i++ % tokens.length]
        if (isAsync) await op(token)
        else op(token)
        ops++
      }
    }
    const used = process.cpuUsage(cpu)
    if (round > 0) samples.push(((used.user + used.system) * 1000) / ops) // round 0 warms up
  }
  return median(samples)
}

const SCENARIOS = [
  ['RS256, RSA-4096 (Hanko)', { algorithm: 'RS256', modulusLength: 4096 }],
  ['RS256, RSA-2048', { algorithm: 'RS256', modulusLength: 2048 }],
  ['ES256', { algorithm: 'ES256' }],
  ['EdDSA', { algorithm: 'EdDSA' }],
]

export async function runMicro(log = console.log) {
  const results = {}
  for (const [title, options] of quick ? SCENARIOS.slice(0, 2) : SCENARIOS) {
    const issuer = await createTestIssuer(options)
    const pool = Array.from({ length: POOL }, (_, n) => issuer.token({ sub: `user-${n}` }))
    const repeated = [pool[0]]
    const base = floor(issuer)
    for (const t of pool) base.prepare(t)
    const rows = []
    const floorNs = await cpuPerOp(base.sync, pool, false)
    rows.push(['node:crypto verify, pre-parsed KeyObject (floor)', floorNs])

    // New tokens: caches smaller than the pool, so every call is a miss.
    for (const c of await contenders(issuer, { cacheSize: POOL / 2 })) {
      await checkContender(c, issuer)
      rows.push([`${c.name} — new tokens`, await cpuPerOp(c.sync ?? c.async, pool, !c.sync)])
    }
    // A repeated token: the caches answer.
    let fastHit
    let hankoHit
    for (const c of await contenders(issuer, { cacheSize: POOL })) {
      if (!/hanko-auth|fast-jwt/.test(c.name)) continue
      const ns = await cpuPerOp(c.sync ?? c.async, repeated, !c.sync)
      rows.push([`${c.name} — repeated token`, ns])
      if (c.name.startsWith('fast-jwt')) fastHit = ns
      if (c.name === 'hanko-auth verifySync') hankoHit = ns
    }
    log(`\n### ${title} — CPU per verification (median of ${ROUNDS} rounds)\n`)
    log('| contender | ns/op | × floor |')
    log('|---|---:|---:|')
    for (const [name, ns] of rows) log(`| ${name} | ${ns.toFixed(0)} | ${(ns / floorNs).toFixed(2)} |`)
    log(`\nhanko-auth cache hit / fast-jwt cache hit: ${(hankoHit / fastHit).toFixed(3)}`)
    results[title] = { floorNs, rows, hitRatio: hankoHit / fastHit }
    await issuer.close()
  }
  return results
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const require = createRequire(import.meta.url)
  console.log(`# micro benchmark — node ${process.version}, ${require('node:os').cpus()[0].model}, ${quick ? 'quick' : 'full'}`)
  await runMicro()
}
