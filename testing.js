'use strict'

// hanko-auth/testing: a stand-in Hanko for tests and demos (lib/test-issuer.js).
const { createTestIssuer, signJws } = require('./lib/test-issuer.js')

module.exports = { createTestIssuer, signJws }
