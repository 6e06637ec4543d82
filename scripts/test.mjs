// `npm test`: every tier, failing on any failure or on zero tests run.
//   1. Rust unit tests of the core (no napi).
//   2. The native addon build; the committed generated loader must not drift.
//   3. node:test suites in __test__/ (loopback key servers, real Express apps).
//   4. A TypeScript consumer of index.d.ts, type-checked with --strict.
//   5. The host matrix (scripts/hosts.mjs): Node 18/20/22/24, Jest, Vitest's four pools, Bun, Deno.
//      HANKO_AUTH_HOSTS=0 skips it for a quick local run; CI always runs it.
//   6. Cross-platform runs (scripts/cross.mjs): the aarch64 gnu binary under qemu-user with the arm64
//      Node, the x64 and aarch64 musl binaries under Bun's musl builds (aarch64 in qemu-user).
//      HANKO_AUTH_CROSS=0 skips it locally; CI runs it.
//   7. The release round trip (scripts/release-local.mjs) against a throwaway registry, publishing every
//      binary built here (this machine's and the cross-built ones).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { suiteFiles } from './suites.mjs'
import { zigPath } from './zig.mjs'

const release = process.env.HANKO_AUTH_RELEASE === '1'

function run(title, command, args, { capture = false } = {}) {
  console.log(`\n=== ${title}: ${command} ${args.join(' ')}`)
  const result = spawnSync(command, args, { stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', env: process.env })
  if (capture) process.stdout.write(result.stdout ?? '')
  if (result.status !== 0) {
    console.error(`\n${title} failed (exit ${result.status ?? result.signal})`)
    process.exit(1)
  }
  return result.stdout ?? ''
}

const cargo = run('Rust unit tests', 'cargo', ['test', '--no-default-features', '--color', 'never'], { capture: true })
const rustPassed = [...cargo.matchAll(/test result: ok\. (\d+) passed/g)].reduce((n, m) => n + Number(m[1]), 0)
if (rustPassed === 0) {
  console.error('no Rust tests ran')
  process.exit(1)
}

// The panic probe is built in for the tests only; `npm run build` (what ships) leaves it out.
const build = ['napi', 'build', '--platform', '--js', 'binding.js', '--dts', 'binding.d.ts', '--features', 'panic-probe']
// A release build on linux x64 is made as the release workflow makes it: with zig against glibc 2.17
// (a native build on Debian 12 would need 2.34), and checked for that floor below.
const glibcFloor = release && process.platform === 'linux' && process.arch === 'x64'
if (release) build.push('--release')
if (glibcFloor) {
  build.push('--target', 'x86_64-unknown-linux-gnu.2.17', '-x')
  process.env.PATH = zigPath()
}
run('native build', 'npx', build)
if (glibcFloor) run('glibc floor of the binary (at most 2.17)', process.execPath, ['scripts/glibc-floor.mjs', 'hanko-auth.linux-x64-gnu.node'])
if (existsSync('.git')) run('generated loader is committed and current', 'git', ['diff', '--exit-code', '--', 'binding.js', 'binding.d.ts'])

const suites = suiteFiles()
const node = run('node:test suites', process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...suites], { capture: true })
// The middleware verifies new tokens off-thread when it has more than one core; run its suite once
// more with them verified inline, as on a single core.
process.env.HANKO_AUTH_OFFLOAD = '0'
const inline = run(
  'Express suites, new tokens verified inline',
  process.execPath,
  ['--test', '--test-reporter=spec', '__test__/express.test.mjs', '__test__/session.test.mjs'],
  { capture: true },
)
delete process.env.HANKO_AUTH_OFFLOAD
const passed = Number(/ℹ pass (\d+)/.exec(node)?.[1] ?? 0) + Number(/ℹ pass (\d+)/.exec(inline)?.[1] ?? 0)
if (passed === 0) {
  console.error('no JS tests ran')
  process.exit(1)
}

run('JS lint and format (Biome)', 'npx', ['biome', 'ci', '.'])
run('GitHub workflows', process.execPath, ['scripts/actionlint.mjs'])

if (existsSync('__test__/types.ts')) run('TypeScript consumer', 'npx', ['tsc', '-p', '__test__/tsconfig.json'])

/**
 * A step that prints "N passed, 0 failed" and that `skipVariable=0` skips locally (CI never skips it).
 * Returns N; fails the run when the step ran no test.
 */
function countedStep(title, script, skipVariable) {
  if (process.env[skipVariable] === '0' && process.env.CI !== 'true') {
    console.log(`\n=== ${title} skipped (${skipVariable}=0)`)
    return 0
  }
  const output = run(title, process.execPath, [script], { capture: true })
  const count = Number(/^(\d+) passed, 0 failed$/m.exec(output)?.[1] ?? 0)
  if (count === 0) {
    console.error(`${title} ran no test`)
    process.exit(1)
  }
  return count
}

const hostsPassed = countedStep('host matrix', 'scripts/hosts.mjs', 'HANKO_AUTH_HOSTS')
const crossPassed = countedStep('cross-platform runs (arm64 gnu under qemu, x64 and arm64 musl under Bun)', 'scripts/cross.mjs', 'HANKO_AUTH_CROSS')

// The release path against a throwaway registry on 127.0.0.1 (pack, publish twice, install, npm ci).
const roundTrip = run('release round trip (Verdaccio on 127.0.0.1)', process.execPath, ['scripts/release-local.mjs'], { capture: true })
const releasePassed = Number(/^(\d+) passed, 0 failed$/m.exec(roundTrip)?.[1] ?? 0)

console.log(`\n${rustPassed + passed + hostsPassed + crossPassed + releasePassed} passed, 0 failed`)
