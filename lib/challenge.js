'use strict'

// The RFC 6750 §3 `WWW-Authenticate` challenge for a 401.

/** error_description is at most this many characters (a token's claims must not fill a header). */
const MAX_DESCRIPTION = 200

function challenge(err) {
  if (err.code === 'credentials_required') return 'Bearer'
  const error = err.code === 'credentials_bad_format' || err.code === 'credentials_bad_scheme' ? 'invalid_request' : 'invalid_token'
  // RFC 6750 §3: error_description is a quoted-string of printable ASCII without `"` and `\`.
  let description = err.message.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'")
  if (description.length > MAX_DESCRIPTION) description = `${description.slice(0, MAX_DESCRIPTION - 3)}...`
  return `Bearer error="${error}", error_description="${description}"`
}

/** Sets the challenge when `res` can take a header: mocks and other hosts may hand over less. */
function setChallenge(res, err) {
  if (res === null || typeof res !== 'object' || typeof res.setHeader !== 'function' || res.headersSent === true) return
  res.setHeader('WWW-Authenticate', challenge(err))
}

module.exports = { challenge, setChallenge, MAX_DESCRIPTION }
