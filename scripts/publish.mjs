// Publishes every platform package that has its binary, then the main package with the platform
// packages as optional dependencies: the one publishing path, used by the release workflow and by
// `npm run release:local`. Idempotent: a package@version already on the registry is skipped, so a retry
// after a partial publish finishes the job instead of failing on "cannot publish over".
//   node scripts/publish.mjs [--registry <url>] [--provenance] [--dry-run] [--built-only]
// A release publishes every napi target; `--built-only` (npm run release:local) publishes what this
// machine built and lists only those in the main package.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { withPlatformPackages } from './release-manifest.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const option = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined)
const registry = option('--registry')
const extra = [
  ...(registry ? ['--registry', registry] : []),
  ...(process.argv.includes('--provenance') ? ['--provenance'] : []),
  ...(process.argv.includes('--dry-run') ? ['--dry-run'] : []),
]

function npm(args, cwd = root) {
  return spawnSync('npm', [...args, ...extra], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } })
}

/** Whether name@version is on the registry already. */
function published(name, version) {
  const view = npm(['view', `${name}@${version}`, 'version', '--json'])
  return view.status === 0 && view.stdout.trim() !== '' && JSON.parse(view.stdout) === version
}

function publish(dir, name, version) {
  if (published(name, version)) return console.log(`skip    ${name}@${version} (already on the registry)`)
  const run = npm(['publish', '--access', 'public'], dir)
  if (run.status !== 0)
    throw new Error(
      `npm publish ${name}@${version} failed:\n${run.stderr
        .split('\n')
        .filter((l) => !l.startsWith('npm notice'))
        .join('\n')}`,
    )
  console.log(`publish ${name}@${version}`)
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const platforms = readdirSync(join(root, 'npm')).filter((dir) => {
  const manifest = JSON.parse(readFileSync(join(root, 'npm', dir, 'package.json'), 'utf8'))
  return existsSync(join(root, 'npm', dir, manifest.main))
})
if (platforms.length === 0) throw new Error('no platform package has its binary: run `npx napi artifacts` (or npm run pack:local) first')
const builtOnly = process.argv.includes('--built-only')
const missing = readdirSync(join(root, 'npm')).filter((dir) => !platforms.includes(dir))
if (missing.length > 0 && !builtOnly) throw new Error(`no binary for ${missing.join(', ')}: a release publishes every platform`)
for (const dir of platforms) {
  const manifest = JSON.parse(readFileSync(join(root, 'npm', dir, 'package.json'), 'utf8'))
  publish(join(root, 'npm', dir), manifest.name, manifest.version)
}
// The main package from a staging copy, so the development package.json keeps no optionalDependencies
// (they exist on a registry only once released, and `npm ci` needs every dependency resolvable).
const staging = mkdtempSync(join(tmpdir(), 'hanko-auth-publish-'))
try {
  for (const file of [...pkg.files, 'package.json']) cpSync(join(root, file), join(staging, file), { recursive: true })
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify(withPlatformPackages(pkg, platforms), null, 2)}\n`)
  publish(staging, pkg.name, pkg.version)
} finally {
  rmSync(staging, { recursive: true, force: true })
}
