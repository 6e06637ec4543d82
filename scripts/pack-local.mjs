// `npm run pack:local`: installable tarballs for this machine, without a registry:
//   dist/hanko-auth-<version>.tgz            the main package (this platform's package as an optional dependency)
//   dist/hanko-auth-<platform>-<version>.tgz this machine's platform package, with the binary built here
// Install both in any project: `npm install ./dist/hanko-auth-<platform>-<v>.tgz ./dist/hanko-auth-<v>.tgz`.
// Also leaves the binary in npm/<platform>/, where scripts/publish.mjs looks for it.
import { spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { withPlatformPackages } from './release-manifest.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const { currentPlatform } = createRequire(import.meta.url)('../lib/platforms.js')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const platform = currentPlatform()
const binary = `${pkg.napi.binaryName}.${platform}.node`
if (!existsSync(join(root, binary))) {
  console.error(`pack:local: no ${binary} in the repository: run \`npm run build\` first`)
  process.exit(1)
}
const dist = join(root, 'dist')
mkdirSync(dist, { recursive: true })

function pack(dir) {
  const run = spawnSync('npm', ['pack', '--json', '--pack-destination', dist], { cwd: dir, encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`npm pack in ${dir} failed:\n${run.stderr}`)
  return join(dist, JSON.parse(run.stdout)[0].filename)
}

copyFileSync(join(root, binary), join(root, 'npm', platform, binary))
const platformTarball = pack(join(root, 'npm', platform))
const staging = mkdtempSync(join(tmpdir(), 'hanko-auth-pack-'))
let mainTarball
try {
  for (const file of [...pkg.files, 'package.json']) cpSync(join(root, file), join(staging, file), { recursive: true })
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify(withPlatformPackages(pkg, [platform]), null, 2)}\n`)
  mainTarball = pack(staging)
} finally {
  rmSync(staging, { recursive: true, force: true })
}
console.log(`${mainTarball}\n${platformTarball}`)
