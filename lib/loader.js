'use strict'

// The generated napi loader, with an error that names the real cause when no binary can be loaded.

const { currentPlatform, shippedPlatforms } = require('./platforms.js')

const PLATFORM_PACKAGE_PREFIX = 'hanko-auth-'

/** Whether a binary for this platform is there to load (installed package, local build, or override). */
function binaryPresent(platform) {
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) return true
  if (require('node:fs').existsSync(require('node:path').join(__dirname, '..', `hanko-auth.${platform}.node`))) return true
  try {
    require.resolve(`${PLATFORM_PACKAGE_PREFIX}${platform}/package.json`)
    return true
  } catch {
    return false
  }
}

/** Why nothing loaded, in words a user can act on: which of the four causes it is. */
function explain(cause) {
  const platform = currentPlatform()
  const supported = shippedPlatforms()
  const family = platform.replace(/-(gnu|musl)$/, '')
  const sameFamily = supported.filter((p) => p.startsWith(`${family}-`))
  if (!supported.includes(platform) && sameFamily.length > 0) {
    return `this system's C library does not match the builds we ship for ${family} (${sameFamily.join(', ')}); this one needs ${platform}`
  }
  if (!supported.includes(platform)) {
    return `${platform} is not a platform we ship binaries for (${supported.join(', ')}); build from source with a Rust toolchain: \`npm run build\` in the package`
  }
  if (binaryPresent(platform)) return `the binary failed to load: ${cause?.message ?? cause}`
  return `the platform package ${PLATFORM_PACKAGE_PREFIX}${platform} is not installed: npm installs it as an optional dependency of the published hanko-auth (not with --omit=optional, nor from a lockfile made on another platform); a package packed from the repository has none`
}

function loadBinding() {
  try {
    return require('../binding.js')
  } catch (cause) {
    const error = new Error(`hanko-auth: no native binary could be loaded for ${currentPlatform()} (Node ${process.version}): ${explain(cause)}`, { cause })
    error.code = 'ERR_HANKO_AUTH_NO_BINARY'
    throw error
  }
}

module.exports = { binding: loadBinding(), currentPlatform }
