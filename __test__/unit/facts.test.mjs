// One owner per fact (CONTRIBUTING.md): each default, list and version has one owner in the code, and every
// copy a person reads (index.d.ts, README, the workflow, npm/*) is checked against it here.
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const read = (path) => readFileSync(`${root}${path}`, 'utf8')
const require = createRequire(import.meta.url)
const { DEFAULTS } = require('../../lib/options.js')
const { platformOf, shippedPlatforms } = require('../../lib/platforms.js')
const pkg = JSON.parse(read('package.json'))
const dts = read('index.d.ts')
const readme = read('README.md')

/** The string members of a `type X = | 'a' | 'b'` union in index.d.ts. */
function union(name) {
  const match = new RegExp(`export type ${name} =([^]*?)\\n\\n`).exec(dts)
  assert.ok(match, `index.d.ts declares ${name}`)
  return [...match[1].matchAll(/'([^']+)'/g)].map((m) => m[1]).sort()
}

test('the error-code table (error.rs) matches index.d.ts and the README', () => {
  const codes = (className) =>
    DEFAULTS.codes
      .filter((c) => c.className === className)
      .map((c) => c.code)
      .sort()
  assert.deepEqual(union('JwtErrorCode'), codes('JwtError'))
  assert.deepEqual(union('JwksErrorCode'), codes('JwksError'))
  const rows = [...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \| (JwtError|JwksError) \|/gm)].map((m) => ({ code: m[1], className: m[2] }))
  const byCode = (a, b) => a.code.localeCompare(b.code)
  assert.deepEqual(rows.sort(byCode), [...DEFAULTS.codes].sort(byCode))
})

test('the algorithm list (jwk.rs) matches index.d.ts and the README', () => {
  assert.deepEqual(union('Algorithm'), [...DEFAULTS.supportedAlgorithms].sort())
  assert.match(readme, /allow-list: RS256\/384\/512, PS256\/384\/512, ES256\/384, EdDSA/)
  assert.deepEqual(DEFAULTS.supportedAlgorithms, ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'])
})

test('the defaults (config.rs) match what index.d.ts and the README say', () => {
  for (const [name, value] of Object.entries(DEFAULTS.jwks)) {
    const row = readme.split('\n').find((line) => line.startsWith('|') && line.includes(`\`jwks.${name}\``))
    assert.ok(row?.includes(`\`${value}\``), `README row for jwks.${name} says ${value}: ${row}`)
    const doc = new RegExp(`Default \`${value}\`\\. \\*/\\n\\s+${name}\\?:`).test(dts)
    assert.ok(doc, `index.d.ts documents jwks.${name} with Default \`${value}\``)
  }
  assert.match(dts, new RegExp(`Default \`\\['${DEFAULTS.algorithms.join("', '")}'\\]\``))
  assert.match(dts, new RegExp(`Default \`\\['${DEFAULTS.requiredClaims.join("', '")}'\\]\``))
  assert.match(dts, new RegExp(`Default \`\\{ maxEntries: ${DEFAULTS.tokenCacheMaxEntries} \\}\``))
  assert.match(dts, new RegExp(`in ms \\(never past \`exp\`\\)\\. Default \`${DEFAULTS.session.ttl}\``))
})

test('one version everywhere: package.json owns it (node scripts/version.mjs <v> sets it)', () => {
  const lock = JSON.parse(read('package-lock.json'))
  const cargoVersion = /^version = "([^"]+)"/m.exec(read('Cargo.toml'))[1]
  const cargoLock = /\[\[package\]\]\nname = "hanko-auth"\nversion = "([^"]+)"/.exec(read('Cargo.lock'))[1]
  const copies = {
    'package-lock.json': lock.version,
    'package-lock.json packages[""]': lock.packages[''].version,
    'Cargo.toml': cargoVersion,
    'Cargo.lock': cargoLock,
  }
  for (const dir of readdirSync(`${root}npm`)) copies[`npm/${dir}`] = JSON.parse(read(`npm/${dir}/package.json`)).version
  for (const [where, version] of Object.entries(copies)) assert.equal(version, pkg.version, where)
})

test('the platform list derives from napi.targets: npm/, the loader, the release manifest and the workflow agree', async () => {
  assert.deepEqual(readdirSync(`${root}npm`).sort(), shippedPlatforms().sort())
  for (const platform of shippedPlatforms()) {
    const platformPkg = JSON.parse(read(`npm/${platform}/package.json`))
    assert.equal(platformPkg.name, `${pkg.name}-${platform}`)
    assert.equal(platformPkg.main, `${pkg.napi.binaryName}.${platform}.node`)
  }
  assert.equal(platformOf('x86_64-unknown-linux-gnu'), 'linux-x64-gnu')
  assert.equal(platformOf('aarch64-apple-darwin'), 'darwin-arm64')
  assert.equal(platformOf('x86_64-pc-windows-msvc'), 'win32-x64-msvc')
  const { withPlatformPackages } = await import('../../scripts/release-manifest.mjs')
  assert.deepEqual(
    Object.keys(withPlatformPackages(pkg).optionalDependencies).sort(),
    shippedPlatforms()
      .map((p) => `${pkg.name}-${p}`)
      .sort(),
  )
  const workflow = read('.github/workflows/ci.yml')
  const built = [...workflow.matchAll(/- \{ target: ([\w-]+?)(?:\.2\.17)?,/g)].map((m) => m[1]).sort()
  assert.deepEqual(built, [...pkg.napi.targets].sort(), 'the workflow builds every napi target')
})

test('index.js only re-exports, and every lib/ module is used', () => {
  const index = read('index.js')
  const code = index.split('\n').filter((line) => line.trim() && !line.trim().startsWith('//') && line.trim() !== "'use strict'")
  assert.ok(
    code.every((line) => /^(const \{[^}]+\} = require\('\.\/lib\/[\w-]+\.js'\)|module\.exports = \{|\s+\w+,|\})$/.test(line)),
    code.join('\n'),
  )
})

test('every action in the workflows is pinned by a full commit SHA', () => {
  for (const file of readdirSync(`${root}.github/workflows`)) {
    const uses = [...read(`.github/workflows/${file}`).matchAll(/uses: (\S+)/g)].map((m) => m[1])
    for (const action of uses) assert.match(action, /^(\.\/|[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$)/, `${file}: ${action}`)
  }
})

test('the suites the workflow runs on each prebuilt binary are suites that exist (scripts/suites.mjs)', async () => {
  const { suiteFiles } = await import('../../scripts/suites.mjs')
  const listed = /SUITES: (.+)/.exec(read('.github/workflows/ci.yml'))[1].trim().split(/\s+/)
  assert.ok(listed.length > 0)
  for (const file of listed) assert.ok(suiteFiles().includes(file), `${file} is not a suite`)
})
