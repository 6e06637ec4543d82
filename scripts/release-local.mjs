// `npm run release:local`: the release path end to end against a throwaway registry on 127.0.0.1.
//   1. starts Verdaccio (from npm, tools/registry/) with its storage in a temp folder and no uplinks;
//   2. publishes every platform package that was built, then the main package, through
//      scripts/publish.mjs (what the release workflow runs), twice: the second run must skip everything;
//   3. in a fresh project: `npm install hanko-auth --registry <it>` must resolve this platform's optional
//      dependency; require() and import both verify a token from the test issuer; `npm ci` from the
//      lockfile it wrote works.
// The registry is stopped on every exit path. Prints "N passed, N failed".
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { installLocked } from './cache.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const tools = join(root, 'tools', 'registry')
const work = mkdtempSync(join(tmpdir(), 'hanko-auth-release-'))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
let registry = null
let passed = 0
let failed = 0

function stop() {
  if (registry && registry.exitCode === null) registry.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
  // pack:local put this machine's binary into its platform package folder for publishing; take it out.
  for (const dir of readdirSync(join(root, 'npm'))) {
    for (const file of readdirSync(join(root, 'npm', dir)).filter((f) => f.endsWith('.node'))) rmSync(join(root, 'npm', dir, file))
  }
}
process.on('exit', stop)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

function run(command, args, { cwd = root, env = {}, timeout = 300_000 } = {}) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...env },
  })
  if (result.error?.code === 'ETIMEDOUT') throw new Error(`${command} ${args.join(' ')} did not finish within ${timeout / 1000} s`)
  return result
}

function check(name, ok, detail = '') {
  if (ok) passed++
  else failed++
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${ok || !detail ? '' : `\n${detail}`}`)
}

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

async function startRegistry() {
  installLocked(tools)
  const port = await freePort()
  const storage = join(work, 'storage')
  mkdirSync(storage)
  const config = join(work, 'config.yaml')
  writeFileSync(
    config,
    [
      `storage: ${storage}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(work, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks: {}', // no uplinks: nothing but what we publish is ever served
      'max_body_size: 200mb', // a debug binary is ~20 MB (a release one ~3 MB)
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  )
  registry = spawn(process.execPath, [join(tools, 'node_modules', 'verdaccio', 'bin', 'verdaccio'), '--config', config, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  registry.stdout.on('data', (d) => (output += d))
  registry.stderr.on('data', (d) => (output += d))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 150; i++) {
    if (registry.exitCode !== null) throw new Error(`Verdaccio exited:\n${output}`)
    try {
      if ((await fetch(`${url}/-/ping`)).ok) return url
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`Verdaccio did not answer within 30 s:\n${output}`)
}

/** A user on the throwaway registry (CouchDB's user API, as `npm adduser` uses it); returns its token. */
async function addUser(url) {
  const name = 'release-local'
  const response = await fetch(`${url}/-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: `pw-${process.pid}`, type: 'user', roles: [] }),
  })
  const body = await response.json()
  if (!body.token) throw new Error(`could not add a user: ${JSON.stringify(body)}`)
  return body.token
}

try {
  const pack = run(process.execPath, ['scripts/pack-local.mjs'])
  check('pack:local writes the main and this platform tarballs', pack.status === 0, pack.stderr)
  // The binaries cross-built here (scripts/cross.mjs: arm64 gnu, x64 musl) go out too, as a release would.
  const binaryName = new RegExp(`^${pkg.napi.binaryName}\\.(.+)\\.node$`)
  const built = readdirSync(root).flatMap((file) => {
    const platform = binaryName.exec(file)?.[1]
    if (platform === undefined || !existsSync(join(root, 'npm', platform))) return []
    copyFileSync(join(root, file), join(root, 'npm', platform, file))
    return [platform]
  })
  const url = await startRegistry()
  const token = await addUser(url)
  const npmrc = join(work, '.npmrc')
  writeFileSync(npmrc, `registry=${url}/\n//127.0.0.1:${new URL(url).port}/:_authToken=${token}\n`)
  const env = { npm_config_userconfig: npmrc }

  const first = run(process.execPath, ['scripts/publish.mjs', '--registry', url, '--built-only'], { env })
  check(
    `scripts/publish.mjs publishes the ${built.length} built platform packages (${built.join(', ')}) and the main package`,
    first.status === 0 && /publish hanko-auth@/.test(first.stdout) && built.every((platform) => first.stdout.includes(`publish hanko-auth-${platform}@`)),
    `${first.stdout}${first.stderr}`,
  )
  const again = run(process.execPath, ['scripts/publish.mjs', '--registry', url, '--built-only'], { env })
  check(
    'a second publish skips what is already there (idempotent)',
    again.status === 0 && !/^publish /m.test(again.stdout) && /skip +hanko-auth@/.test(again.stdout),
    `${again.stdout}${again.stderr}`,
  )

  const app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'release-local-app', private: true, version: '1.0.0' }))
  const install = run('npm', ['install', `hanko-auth@${pkg.version}`, '--registry', url], { cwd: app, env })
  check('npm install hanko-auth from the registry', install.status === 0, install.stderr)
  const { currentPlatform } = await import('../lib/platforms.js').then((m) => m.default ?? m)
  const platformPackage = join(app, 'node_modules', `hanko-auth-${currentPlatform()}`, 'package.json')
  check(`the optional dependency hanko-auth-${currentPlatform()} resolved`, existsSync(platformPackage))
  const others = built.filter((platform) => platform !== currentPlatform() && existsSync(join(app, 'node_modules', `hanko-auth-${platform}`)))
  check(`npm skips the other platforms' packages (os, cpu and libc fields)`, others.length === 0, `installed too: ${others.join(', ')}`)

  const issuerPath = join(app, 'node_modules', 'hanko-auth', 'testing.js')
  writeFileSync(
    join(app, 'check.cjs'),
    `const { verify } = require('hanko-auth'); const { createTestIssuer } = require(${JSON.stringify(issuerPath)})
createTestIssuer({ modulusLength: 2048 }).then(async (issuer) => { console.log((await verify(issuer.token({ sub: 'cjs' }), { jwksHost: issuer.url })).sub); await issuer.close() })`,
  )
  writeFileSync(
    join(app, 'check.mjs'),
    `import { verify } from 'hanko-auth'; import { createTestIssuer } from 'hanko-auth/testing'
const issuer = await createTestIssuer({ modulusLength: 2048 }); console.log((await verify(issuer.token({ sub: 'esm' }), { jwksHost: issuer.url })).sub); await issuer.close()`,
  )
  const cjs = run(process.execPath, ['check.cjs'], { cwd: app })
  check('require() verifies a token', cjs.stdout.trim() === 'cjs', cjs.stderr)
  const esm = run(process.execPath, ['check.mjs'], { cwd: app })
  check('import verifies a token', esm.stdout.trim() === 'esm', esm.stderr)

  rmSync(join(app, 'node_modules'), { recursive: true, force: true })
  const ci = run('npm', ['ci', '--registry', url], { cwd: app, env })
  check('npm ci from the lockfile it wrote', ci.status === 0 && existsSync(platformPackage), ci.stderr)
  const again2 = run(process.execPath, ['check.mjs'], { cwd: app })
  check('…and the package works after npm ci', again2.stdout.trim() === 'esm', again2.stderr)
} catch (err) {
  failed++
  console.log(`not ok - ${err.message}`)
} finally {
  stop()
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
