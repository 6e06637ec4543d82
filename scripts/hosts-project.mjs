// hosts/: a side project with Jest, Vitest, Bun, Deno, Express and supertest from its own lockfile, and
// hanko-auth installed in it as a user has it. Shared by the host matrix and the musl run (cross.mjs).
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { installLocked } from './cache.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
export const hostsDir = join(root, 'hosts')

/** The version of `name` that hosts/package-lock.json pins (its one owner). */
export function hostsLockedVersion(name) {
  const lock = JSON.parse(readFileSync(join(hostsDir, 'package-lock.json'), 'utf8'))
  const version = lock.packages[`node_modules/${name}`]?.version
  if (!version) throw new Error(`hosts/package-lock.json has no ${name}`)
  return version
}

/** `npm ci` in hosts/ (skipped while its lockfile is unchanged), then hanko-auth copied in. Throws. */
export function prepareHostsProject() {
  installLocked(hostsDir)
  // The package as npm installs it: its `files`, plus every binary this machine built (which a user gets
  // from the platform package).
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const binaries = readdirSync(root).filter((f) => f.endsWith('.node'))
  if (binaries.length === 0) throw new Error('no built .node binary in the repository root: run `npm run build` first')
  const dest = join(hostsDir, 'node_modules', 'hanko-auth')
  rmSync(dest, { recursive: true, force: true })
  mkdirSync(dest, { recursive: true })
  for (const file of [...pkg.files, 'package.json', ...binaries]) cpSync(join(root, file), join(dest, file), { recursive: true })
}
