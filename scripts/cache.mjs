// What the test scripts share about their downloads: the cache folder the next run reuses, a package
// from npm unpacked into it once, and an `npm ci` of a side project (hosts/, tools/registry/) that is
// skipped while its lockfile is unchanged.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** `$HANKO_AUTH_CACHE`, else `$XDG_CACHE_HOME/hanko-auth`, else `~/.cache/hanko-auth`. */
export const cacheDir = process.env.HANKO_AUTH_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hanko-auth')

/** `npm ci` in `dir` unless its node_modules matches its lockfile already; throws with npm's output. */
export function installLocked(dir) {
  // npm's own cache keeps the downloads; the stamp skips `npm ci` when the lockfile has not changed.
  const stamp = join(dir, 'node_modules', '.hanko-auth-lock')
  const digest = createHash('sha256')
    .update(readFileSync(join(dir, 'package-lock.json')))
    .digest('hex')
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8', timeout: 600_000 })
  if (ci.status !== 0) throw new Error(`npm ci in ${dir} failed:\n${ci.stdout ?? ''}${ci.stderr ?? ci.error ?? ''}`)
  writeFileSync(stamp, digest)
}

/**
 * `npm pack <spec>` unpacked into `dir` once (a partial download never looks complete: it is unpacked
 * beside `dir` and renamed). Returns `dir`; throws with npm's or tar's output.
 */
export function npmPackage(spec, dir) {
  if (existsSync(join(dir, 'package.json'))) return dir
  const staging = `${dir}.partial`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  const pack = spawnSync('npm', ['pack', spec, '--pack-destination', staging, '--silent'], { encoding: 'utf8', timeout: 300_000 })
  if (pack.status !== 0) throw new Error(`could not fetch ${spec} from the npm registry:\n${pack.stdout ?? ''}${pack.stderr ?? pack.error ?? ''}`)
  const tarball = readdirSync(staging).find((f) => f.endsWith('.tgz'))
  const untar = spawnSync('tar', ['-xzf', join(staging, tarball), '-C', staging, '--strip-components=1'], { encoding: 'utf8' })
  if (untar.status !== 0) throw new Error(`could not unpack ${tarball}:\n${untar.stderr ?? untar.error}`)
  rmSync(join(staging, tarball))
  rmSync(dir, { recursive: true, force: true })
  renameSync(staging, dir)
  return dir
}
