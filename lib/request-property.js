'use strict'

// `requestProperty`: where the claims go on `req` ('auth', or a dotted path like 'user.jwt').

const FORBIDDEN_PATH_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype'])

/** A setter `(req, value) => void` for the path; TypeError at creation for a path that is not one. */
function propertySetter(path) {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('requestProperty must be a non-empty string')
  const parts = path.split('.')
  if (parts.some((p) => p.length === 0 || FORBIDDEN_PATH_SEGMENTS.has(p))) {
    throw new TypeError(`requestProperty ${JSON.stringify(path)} is not a valid property path`)
  }
  if (parts.length === 1) {
    return (req, value) => {
      req[path] = value
    }
  }
  const last = parts.pop()
  return (req, value) => {
    let target = req
    for (const part of parts) {
      if (target[part] === null || typeof target[part] !== 'object') target[part] = {}
      target = target[part]
    }
    target[last] = value
  }
}

module.exports = { propertySetter }
