// Installs the one benchmark peer that cannot be a devDependency (see benchmark/contenders.mjs), without
// touching package.json or the lockfile.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

try {
  createRequire(import.meta.url)('@node-rs/jsonwebtoken')
} catch {
  const r = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '@node-rs/jsonwebtoken@0.5.11'], { stdio: 'inherit' })
  if (r.status !== 0) console.log('@node-rs/jsonwebtoken could not be installed; the benchmark runs without it')
}
