// A release build for a Linux target with zig, as the release workflow makes them: gnu targets against
// glibc 2.17 (the `.2.17` target suffix), musl targets statically linked. zig comes from PyPI
// (scripts/zig.mjs). Other platforms build natively with `npm run build -- --target <triple>`.
//   npm run build:target -- <rust triple> [extra napi build flags]
import { spawnSync } from 'node:child_process'
import { zigPath } from './zig.mjs'

const [triple, ...extra] = process.argv.slice(2)
if (!/^(x86_64|aarch64)-unknown-linux-(gnu|musl)$/.test(triple ?? '')) {
  console.error('usage: npm run build:target -- <x86_64|aarch64>-unknown-linux-<gnu|musl> [napi build flags]')
  process.exit(2)
}
const env = { ...process.env, PATH: zigPath() }
const rustup = spawnSync('rustup', ['target', 'add', triple], { stdio: 'inherit', env })
if (rustup.status !== 0) process.exit(rustup.status ?? 1)
const target = triple.endsWith('-gnu') ? `${triple}.2.17` : triple
const args = ['napi', 'build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts', '--target', target, '-x', ...extra]
const build = spawnSync('npx', args, { stdio: 'inherit', env })
process.exit(build.status ?? 1)
