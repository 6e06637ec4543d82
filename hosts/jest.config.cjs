// Jest's defaults (the `node` environment, a vm context per file), as a new user gets them; no
// transform, so hanko-auth and the suite run as written.
module.exports = { rootDir: __dirname, roots: ['<rootDir>/jest'], transform: {} }
