// Sets the one version of every package: package.json (the owner), its lockfile, Cargo.toml, Cargo.lock's
// entry for this crate, and each npm/<platform>/package.json. __test__/unit/facts.test.mjs fails when they differ.
//   node scripts/version.mjs 0.2.0
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const version = process.argv[2]
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version ?? '')) {
  console.error('usage: node scripts/version.mjs <semver>')
  process.exit(2)
}

function rewriteJson(path) {
  const pkg = JSON.parse(readFileSync(path, 'utf8'))
  pkg.version = version
  writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`)
}

rewriteJson(`${root}package.json`)
const lockfile = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8'))
lockfile.version = version
lockfile.packages[''].version = version
writeFileSync(`${root}package-lock.json`, `${JSON.stringify(lockfile, null, 2)}\n`)
for (const dir of readdirSync(`${root}npm`)) rewriteJson(`${root}npm/${dir}/package.json`)
const cargo = readFileSync(`${root}Cargo.toml`, 'utf8')
writeFileSync(`${root}Cargo.toml`, cargo.replace(/^version = "[^"]*"/m, `version = "${version}"`))
const lock = readFileSync(`${root}Cargo.lock`, 'utf8')
writeFileSync(`${root}Cargo.lock`, lock.replace(/(\[\[package\]\]\nname = "hanko-auth"\nversion = )"[^"]*"/, `$1"${version}"`))
console.log(`version ${version}: package.json, Cargo.toml, Cargo.lock, npm/*/package.json`)
