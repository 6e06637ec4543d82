// `npm run fuzz [-- <seconds per target> [targets…]]`: runs every cargo-fuzz target for a set time and prints the
// executions and findings. cargo-fuzz runs on the stable toolchain with RUSTC_BOOTSTRAP=1 (it passes a few
// -Z flags) and without a sanitizer (ASan's runtime is nightly-only); crashes land in fuzz/artifacts/.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs'

const seconds = Number(process.argv[2] ?? 60)
const targets = process.argv.length > 3 ? process.argv.slice(3) : ['token', 'jwks', 'session_answer']
const env = { ...process.env, RUSTC_BOOTSTRAP: '1' }

if (spawnSync('cargo', ['fuzz', '--version'], { env }).status !== 0) {
  console.log('installing cargo-fuzz from crates.io…')
  const install = spawnSync('cargo', ['install', 'cargo-fuzz', '--locked'], { stdio: 'inherit', env })
  if (install.status !== 0) process.exit(1)
}

const rows = []
for (const target of targets) {
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
    `-max_total_time=${seconds}`,
    '-print_final_stats=1',
    '-max_len=20000',
  ]
  console.log(`\n=== cargo ${args.join(' ')}`)
  const run = spawnSync('cargo', args, { env, encoding: 'utf8', maxBuffer: 256 << 20 })
  const output = `${run.stdout}\n${run.stderr}`
  const executions = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(output)?.[1] ?? 0)
  const artifacts = existsSync(`fuzz/artifacts/${target}`) ? readdirSync(`fuzz/artifacts/${target}`).length : 0
  const crashed = run.status !== 0
  if (crashed) console.log(output.split('\n').slice(-40).join('\n'))
  rows.push({ target, seconds, executions, crashed, artifacts })
}
console.log('\n| target | seconds | executions | crashes | artifacts |')
console.log('|---|---:|---:|---:|---:|')
for (const r of rows) console.log(`| ${r.target} | ${r.seconds} | ${r.executions} | ${r.crashed ? 1 : 0} | ${r.artifacts} |`)
const total = rows.reduce((n, r) => n + r.executions, 0)
console.log(`\ntotal executions: ${total}`)
process.exit(rows.some((r) => r.crashed) ? 1 : 0)
