// Experiment (issue #5): does verifying new tokens on the native I/O threads, instead of inline on the JS
// thread, raise Express throughput on this 2-core machine? (The answer set OFFLOAD_NEW_TOKENS in index.js.) Pool of distinct RSA-4096 tokens (every
// request a new verification); server and load generator unpinned; interleaved runs, medians.
//   node benchmark/offthread.mjs
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestIssuer } from '../testing.mjs'

const here = (f) => fileURLToPath(new URL(f, import.meta.url))
const issuer = await createTestIssuer()
const file = join(mkdtempSync(join(tmpdir(), 'hanko-offthread-')), 'pool.json')
writeFileSync(file, JSON.stringify(Array.from({ length: 1200 }, (_, i) => issuer.token({ sub: `u${i}` }))))
const runs = {}
for (let round = 0; round < 3; round++) {
  for (const mode of ['inline', 'offload']) {
    const env = { ...process.env, HANKO_AUTH_OFFLOAD: mode === 'offload' ? '1' : '0' }
    const child = spawn(process.execPath, [here('server.mjs'), 'hanko-auth', issuer.url, '100'], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const { port } = await new Promise((r) => child.once('message', r))
    const load = (s) =>
      new Promise((resolve) => {
        const c = spawn(process.execPath, [here('load.mjs'), `http://127.0.0.1:${port}/api/me`, file, '16', String(s)])
        let out = ''
        c.stdout.on('data', (d) => (out += d))
        c.on('exit', () => resolve(JSON.parse(out)))
      })
    await load(1)
    const r = await load(6)
    child.send('exit')
    runs[mode] ??= []
    runs[mode].push(r.rps)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[1]
console.log('| verification (pool, unpinned, 2 cores) | req/s (median of 3) |\n|---|---:|')
for (const [mode, xs] of Object.entries(runs))
  console.log(
    `| ${mode === 'inline' ? 'inline on the JS thread (HANKO_AUTH_OFFLOAD=0)' : 'on the native I/O threads (HANKO_AUTH_OFFLOAD=1, the default with > 1 core)'} | ${median(xs).toFixed(0)} |`,
  )
await issuer.close()
