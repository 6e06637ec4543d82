// The node:test suite files, as every runner of them (npm test, the host matrix) lists them: named one by
// one, since Node 22+ takes a folder argument for a module and Node 18/20 expand no globs themselves.
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Paths relative to the repository root (the runners' working directory). */
export function suiteFiles() {
  const files = []
  for (const dir of ['__test__', '__test__/unit']) {
    files.push(
      ...readdirSync(`${root}${dir}`)
        .filter((f) => f.endsWith('.test.mjs'))
        .sort()
        .map((f) => `${dir}/${f}`),
    )
  }
  return files
}
