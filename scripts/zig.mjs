// zig and cargo-zigbuild from PyPI (pins in tools/zig/requirements.txt), in a venv in the cache folder
// that the next run reuses; never installed system-wide. `zigPath()` returns a PATH with them first.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheDir } from './cache.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const cache = cacheDir

export function zigPath() {
  const requirements = readFileSync(join(root, 'tools', 'zig', 'requirements.txt'))
  const venv = join(cache, `zig-${createHash('sha256').update(requirements).digest('hex').slice(0, 12)}`)
  const bin = join(venv, 'bin')
  if (!existsSync(join(venv, '.installed'))) {
    rmSync(venv, { recursive: true, force: true })
    const steps = [
      ['python3', ['-m', 'venv', venv]],
      [join(bin, 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', join(root, 'tools', 'zig', 'requirements.txt')]],
    ]
    for (const [command, args] of steps) {
      const run = spawnSync(command, args, { encoding: 'utf8', timeout: 600_000 })
      if (run.status !== 0) throw new Error(`could not install zig from PyPI (${command} ${args.join(' ')}): ${run.stderr || run.error}`)
    }
    writeFileSync(join(venv, '.installed'), '')
  }
  return `${bin}${delimiter}${process.env.PATH}`
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(zigPath())
