'use strict'

// hanko-auth: the JS face over the native verifier. Each concept lives in lib/; this file only re-exports.
const { HankoAuthError, JwtError, JwksError, UnauthorizedError } = require('./lib/errors.js')
const { hankoAuth } = require('./lib/middleware.js')
const { RevocationList, createRevocationList } = require('./lib/revocation-list.js')
const { Verifier, createVerifier, verify } = require('./lib/verifier.js')
const { hankoWebhooks } = require('./lib/webhooks.js')

module.exports = {
  hankoAuth,
  createVerifier,
  verify,
  Verifier,
  createRevocationList,
  RevocationList,
  hankoWebhooks,
  HankoAuthError,
  JwtError,
  JwksError,
  UnauthorizedError,
}
