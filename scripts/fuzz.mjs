// `npm run fuzz [-- <seconds per target> [targets…]]`, or `npm run fuzz -- --runs <n> [targets…]`: runs every
// fuzz target for a set time (or number of executions) and prints the executions and findings. Targets:
// the cargo-fuzz ones (token, jwks, session_answer) and `cookie` (JS, differential, scripts/fuzz-cookie.mjs). cargo-fuzz runs on the stable toolchain with RUSTC_BOOTSTRAP=1 (it passes a few
// -Z flags) and without a sanitizer (ASan's runtime is nightly-only); crashes land in fuzz/artifacts/.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs'

const byRuns = process.argv[2] === '--runs'
const runs = byRuns ? Number(process.argv[3]) : undefined
const seconds = byRuns ? 0 : Number(process.argv[2] ?? 60)
const named = process.argv.slice(byRuns ? 4 : 3)
const targets = named.length > 0 ? named : ['token', 'jwks', 'session_answer', 'cookie']
const env = { ...process.env, RUSTC_BOOTSTRAP: '1' }

if (spawnSync('cargo', ['fuzz', '--version'], { env }).status !== 0) {
  console.log('installing cargo-fuzz from crates.io…')
  const install = spawnSync('cargo', ['install', 'cargo-fuzz', '--locked'], { stdio: 'inherit', env })
  if (install.status !== 0) process.exit(1)
}

const rows = []
for (const target of targets) {
  if (target === 'cookie') {
    const started = Date.now()
    const run = spawnSync(process.execPath, ['scripts/fuzz-cookie.mjs', String(runs ?? seconds * 150_000)], { encoding: 'utf8' })
    const findings = Number(/\| (\d+) \| (\d+) \|$/m.exec(run.stdout)?.[1] ?? 1)
    rows.push({
      target,
      seconds: Math.round((Date.now() - started) / 1000),
      executions: runs ?? seconds * 150_000,
      crashed: run.status !== 0,
      artifacts: findings,
    })
    continue
  }
  const corpus = `fuzz/corpus/${target}`
  mkdirSync(corpus, { recursive: true })
  cpSync(`fuzz/seeds/${target}`, corpus, { recursive: true })
  // Past crashes (fixed, and replayed by the Rust unit tests) seed the corpus too.
  if (existsSync(`fuzz/regressions/${target}`)) cpSync(`fuzz/regressions/${target}`, corpus, { recursive: true })
  const args = [
    'fuzz',
    'run',
    '--sanitizer',
    'none',
    '--fuzz-dir',
    'fuzz',
    target,
    corpus,
    '--',
    byRuns ? `-runs=${runs}` : `-max_total_time=${seconds}`,
    '-print_final_stats=1',
    '-max_len=20000',
  ]
  console.log(`\n=== cargo ${args.join(' ')}`)
  const started = Date.now()
  const run = spawnSync('cargo', args, { env, encoding: 'utf8', maxBuffer: 256 << 20 })
  const output = `${run.stdout}\n${run.stderr}`
  const executions = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(output)?.[1] ?? 0)
  const artifacts = existsSync(`fuzz/artifacts/${target}`) ? readdirSync(`fuzz/artifacts/${target}`).length : 0
  const crashed = run.status !== 0
  if (crashed) console.log(output.split('\n').slice(-40).join('\n'))
  // Wall time including the build; libFuzzer's own "Done N runs in S second(s)" when it prints one.
  const took = Number(/Done \d+ runs in (\d+) second/.exec(output)?.[1] ?? Math.round((Date.now() - started) / 1000))
  rows.push({ target, seconds: took, executions, crashed, artifacts })
}
console.log('\n| target | seconds | executions | crashes | artifacts |')
console.log('|---|---:|---:|---:|---:|')
for (const r of rows) console.log(`| ${r.target} | ${r.seconds} | ${r.executions} | ${r.crashed ? 1 : 0} | ${r.artifacts} |`)
const total = rows.reduce((n, r) => n + r.executions, 0)
console.log(`\ntotal executions: ${total}`)
process.exit(rows.some((r) => r.crashed) ? 1 : 0)
