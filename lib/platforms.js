'use strict'

// The npm platform names of our prebuilt packages, derived from `napi.targets` in package.json (the one
// list of targets): `<os>-<cpu>[-<abi>]` as the napi CLI names the folders under npm/.

const CPU = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }
const OS_BY_VENDOR = { apple: 'darwin', pc: 'win32' }

/** `x86_64-unknown-linux-gnu` → `linux-x64-gnu`; `aarch64-apple-darwin` → `darwin-arm64`. */
function platformOf(triple) {
  const [arch, vendor, os, abi] = triple.split('-')
  const cpu = CPU[arch] ?? arch
  const platform = OS_BY_VENDOR[vendor] ?? os
  return abi === undefined ? `${platform}-${cpu}` : `${platform}-${cpu}-${abi}`
}

/** Every platform we ship, in `napi.targets` order. */
function shippedPlatforms() {
  return require('../package.json').napi.targets.map(platformOf)
}

/** Our npm platform name for this process (`linux-x64-gnu`, `darwin-arm64`, …). */
function currentPlatform() {
  if (process.platform === 'win32') return `win32-${process.arch}-msvc`
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime
  return `linux-${process.arch}-${glibc ? 'gnu' : 'musl'}`
}

module.exports = { platformOf, shippedPlatforms, currentPlatform }
