// `npm run bench` (full, ≤ 15 min) and `npm run bench:quick` (≤ 2 min): micro then HTTP, in one run,
// printed as Markdown and saved to benchmark/results/latest.md.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { versions } from './contenders.mjs'
import { runHttp } from './http.mjs'
import { runMicro } from './micro.mjs'

const quick = process.argv.includes('--quick')
const lines = []
const log = (line) => {
  lines.push(line)
  console.log(line)
}
log(`# hanko-auth benchmark (${quick ? 'quick' : 'full'})\n`)
log(`Machine: ${cpus().length} × ${cpus()[0].model}; Node ${process.version}; ${new Date().toISOString()}`)
log(
  `Peers: ${Object.entries(versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
)
const micro = await runMicro(log)
const hanko4096 = micro['RS256, RSA-4096 (Hanko)']
await runHttp(log, { floorNs: hanko4096.floorNs })
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
writeFileSync(new URL(`./results/${quick ? 'quick' : 'latest'}.md`, import.meta.url), `${lines.join('\n')}\n`)
