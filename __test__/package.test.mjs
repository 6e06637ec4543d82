// The packaging test (issue #7): pack the main package and the linux-x64-gnu platform package (the binary
// moved there by the napi CLI), install both tarballs into a fresh project outside the source tree with
// no Rust on PATH, then require() and import the package there and verify a token from a test issuer.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const platform = 'linux-x64-gnu'
const work = mkdtempSync(join(tmpdir(), 'hanko-auth-pack-'))
after(() => rmSync(work, { recursive: true, force: true }))

// PATH without any Rust toolchain, as on a user's machine.
const noRustPath = process.env.PATH.split(delimiter)
  .filter((dir) => !/cargo|rustup/.test(dir))
  .join(delimiter)
const npm = (args, cwd) =>
  run('npm', args, { cwd, env: { ...process.env, PATH: noRustPath, npm_config_audit: 'false', npm_config_fund: 'false' }, maxBuffer: 64 << 20 })

test('packed tarballs install and work without a Rust toolchain', { skip: process.platform !== 'linux' || process.arch !== 'x64' }, async () => {
  // 1. The napi CLI moves the built binary into its platform package. `napi artifacts` insists on
  //    every target of napi.targets, and only this one is built here, so it runs on a copy of
  //    package.json that lists just this target.
  const staging = join(work, 'staging')
  mkdirSync(staging)
  // Without a binary left there by `npm run pack:local`: napi artifacts puts the one built here.
  cpSync(join(root, 'npm', platform), join(staging, 'npm', platform), { recursive: true, filter: (src) => !src.endsWith('.node') })
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ ...pkg, napi: { ...pkg.napi, targets: ['x86_64-unknown-linux-gnu'] } }))
  // Only this target's binary: napi artifacts refuses a folder that also holds the cross-built ones.
  const artifacts = join(work, 'artifacts')
  mkdirSync(artifacts)
  cpSync(join(root, `hanko-auth.${platform}.node`), join(artifacts, `hanko-auth.${platform}.node`))
  await run(join(root, 'node_modules', '.bin', 'napi'), ['artifacts', '--cwd', staging, '--output-dir', artifacts, '--npm-dir', 'npm'])
  const binary = join(staging, 'npm', platform, `hanko-auth.${platform}.node`)
  const binaryBytes = statSync(binary).size

  // 2. Pack both. The published main manifest lists every platform package as an optional dependency at
  //    its own version (scripts/release-manifest.mjs, as the release workflow runs it).
  const raw = JSON.parse((await npm(['pack', '--json', '--pack-destination', staging], root)).stdout)[0]
  const mainDir = join(staging, 'main')
  mkdirSync(mainDir)
  await run('tar', ['xzf', join(staging, raw.filename), '-C', mainDir])
  await run(process.execPath, [join(root, 'scripts', 'release-manifest.mjs'), join(mainDir, 'package', 'package.json')])
  const manifest = JSON.parse(readFileSync(join(mainDir, 'package', 'package.json'), 'utf8'))
  assert.equal(Object.keys(manifest.optionalDependencies).length, 7)
  assert.equal(manifest.optionalDependencies[`hanko-auth-${platform}`], pkg.version)
  const packed = JSON.parse((await npm(['pack', '--json', '--pack-destination', work], join(mainDir, 'package'))).stdout)[0]
  const packedPlatform = JSON.parse((await npm(['pack', '--json', '--pack-destination', work], join(staging, 'npm', platform))).stdout)[0]
  const mainFiles = packed.files.map((f) => f.path)
  assert.ok(!mainFiles.some((f) => f.endsWith('.node')), 'the main package carries no binary')
  for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'binding.js', 'binding.d.ts', 'testing.js', 'LICENSE', 'README.md'])
    assert.ok(mainFiles.includes(f), f)
  assert.ok(!mainFiles.some((f) => f.startsWith('src/') || f.startsWith('__test__/')), 'no sources or tests in the tarball')
  assert.deepEqual(packedPlatform.files.map((f) => f.path).sort(), ['README.md', `hanko-auth.${platform}.node`, 'package.json'])

  // 3. A fresh project outside the source tree.
  const app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }))
  await npm(['install', '--no-package-lock', '--omit=optional', join(work, packed.filename), join(work, packedPlatform.filename)], app)

  // 4. require() and import, verifying a token from a loopback test issuer.
  writeFileSync(
    join(app, 'check.cjs'),
    `
    const { createVerifier, JwtError } = require('hanko-auth')
    const { createTestIssuer } = require('hanko-auth/testing')
    createTestIssuer({ modulusLength: 2048 }).then(async (issuer) => {
      const claims = await createVerifier({ jwksHost: issuer.url }).verify(issuer.token({ sub: 'cjs-user' }))
      console.log(claims.sub, require.resolve('hanko-auth').includes('node_modules'), typeof JwtError)
      await issuer.close()
    })`,
  )
  writeFileSync(
    join(app, 'check.mjs'),
    `
    import { verify, hankoAuth } from 'hanko-auth'
    import { createTestIssuer } from 'hanko-auth/testing'
    const issuer = await createTestIssuer({ modulusLength: 2048 })
    const claims = await verify(issuer.token({ sub: 'esm-user' }), { jwksHost: issuer.url })
    console.log(claims.sub, typeof hankoAuth(issuer.url))
    await issuer.close()`,
  )
  const env = { ...process.env, PATH: noRustPath }
  delete env.NODE_PATH
  const cjs = await run(process.execPath, ['check.cjs'], { cwd: app, env })
  assert.equal(cjs.stdout.trim(), 'cjs-user true function')
  const esm = await run(process.execPath, ['check.mjs'], { cwd: app, env })
  assert.equal(esm.stdout.trim(), 'esm-user function')

  console.log(
    `# sizes: .node ${(binaryBytes / 2 ** 20).toFixed(2)} MiB; main tarball ${(packed.size / 1024).toFixed(1)} KiB (${packed.unpackedSize} B unpacked); ${platform} tarball ${(packedPlatform.size / 2 ** 20).toFixed(2)} MiB`,
  )
})

test('with no loadable binary, require() names the platform and says what to do', async () => {
  const script = `try { require(${JSON.stringify(join(root, 'index.js'))}) } catch (e) { console.log(e.code + ' ' + e.message) }`
  const { stdout } = await run(process.execPath, ['-e', script], { env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: join(work, 'missing.node') } })
  assert.match(stdout, /^ERR_HANKO_AUTH_NO_BINARY hanko-auth: no native binary could be loaded for (linux|darwin|win32)-\w+/)
  assert.match(stdout, /the binary failed to load: Cannot find native binding/)
})
