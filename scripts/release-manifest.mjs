// Adds the prebuilt platform packages to a package.json as optionalDependencies at the package's own
// version. Run on the manifest that gets published (the release workflow, the packaging test), not on
// the development one: those packages exist on the registry only once released, and `npm ci` needs every
// dependency in the lockfile.
//   node scripts/release-manifest.mjs [path/to/package.json]
import { readFileSync, writeFileSync } from 'node:fs'

const TRIPLES = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
}

export function withPlatformPackages(pkg) {
  const optionalDependencies = {}
  for (const target of pkg.napi.targets) {
    const platform = TRIPLES[target]
    if (!platform) throw new Error(`no platform name for ${target}`)
    optionalDependencies[`${pkg.name}-${platform}`] = pkg.version
  }
  return { ...pkg, optionalDependencies }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? 'package.json'
  writeFileSync(path, `${JSON.stringify(withPlatformPackages(JSON.parse(readFileSync(path, 'utf8'))), null, 2)}\n`)
}
