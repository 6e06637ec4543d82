// The glibc a Linux gnu binary needs: the highest GLIBC_ symbol version it imports (objdump -T) must be
// at most 2.17 (README: Platforms; RHEL 7, Debian 8, Ubuntu 14.04 and everything newer load it).
//   node scripts/glibc-floor.mjs <file.node>...
import { spawnSync } from 'node:child_process'

export const GLIBC_FLOOR = '2.17'

const byVersion = (a, b) => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number))
  return x[0] - y[0] || (x[1] ?? 0) - (y[1] ?? 0) || (x[2] ?? 0) - (y[2] ?? 0)
}

/** The highest glibc version `file` needs, e.g. '2.17'. */
export function glibcNeeded(file) {
  const dump = spawnSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 })
  if (dump.status !== 0) throw new Error(`objdump -T ${file} failed: ${dump.stderr || dump.error}`)
  const versions = [...new Set([...dump.stdout.matchAll(/GLIBC_([0-9.]+)/g)].map((m) => m[1]))].sort(byVersion)
  return versions.at(-1) ?? 'none'
}

/** Checks `file` against the floor: prints one line, returns whether it fits. */
export function checkGlibcFloor(file) {
  const needed = glibcNeeded(file)
  const fits = needed === 'none' || byVersion(needed, GLIBC_FLOOR) <= 0
  console.log(`${fits ? 'ok' : 'too new'}: ${file} needs GLIBC_${needed} (floor ${GLIBC_FLOOR})`)
  return fits
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let ok = true
  for (const file of process.argv.slice(2)) ok = checkGlibcFloor(file) && ok
  process.exit(ok && process.argv.length > 2 ? 0 : 1)
}
