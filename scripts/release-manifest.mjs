// Adds the prebuilt platform packages to a package.json as optionalDependencies at the package's own
// version. Run on the manifest that gets published (the release workflow, the packaging test), not on
// the development one: those packages exist on the registry only once released, and `npm ci` needs every
// dependency in the lockfile.
//   node scripts/release-manifest.mjs [path/to/package.json]
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const { platformOf } = createRequire(import.meta.url)('../lib/platforms.js')

/**
 * The manifest with its platform packages as optional dependencies: every napi target, or only
 * `platforms` (a local release of what this machine built: a lockfile written against a registry must
 * find every optional dependency it lists, or `npm ci` refuses it).
 */
export function withPlatformPackages(pkg, platforms = pkg.napi.targets.map(platformOf)) {
  const optionalDependencies = {}
  for (const platform of platforms) optionalDependencies[`${pkg.name}-${platform}`] = pkg.version
  return { ...pkg, optionalDependencies }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? 'package.json'
  writeFileSync(path, `${JSON.stringify(withPlatformPackages(JSON.parse(readFileSync(path, 'utf8'))), null, 2)}\n`)
}
