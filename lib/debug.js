'use strict'

// `NODE_DEBUG=hanko-auth` lines from the JS side (README: Tracing), in the format the core's own lines
// use (`HANKO-AUTH <pid>: …`, Node's util.debuglog). Revocations and webhooks log here; the key set and
// session checks log from Rust.

const debug = require('node:util').debuglog('hanko-auth')

module.exports = { debug }
