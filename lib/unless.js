'use strict'

// `middleware.unless(options)`: express-unless's semantics (path, method, ext, custom, useOriginalUrl),
// validated at creation.

const { boolean, checkKeys, isPlainObject } = require('./options.js')
const { isThenable, whenSettled } = require('./outcome.js')

// Cross-realm safe (README: Hosts): a RegExp from a vm context fails `instanceof RegExp`.
const isRegExp = (v) => Object.prototype.toString.call(v) === '[object RegExp]'
const asList = (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value])

function methodList(value, name) {
  const list = asList(value)
  if (!list.every((m) => typeof m === 'string' && m.length > 0)) throw new TypeError(`unless: ${name} must be a method name or an array of them`)
  return list.map((m) => m.toUpperCase())
}

function pathRule(rule) {
  if (typeof rule === 'string' || isRegExp(rule)) return { url: rule, methods: null }
  if (isPlainObject(rule) && (typeof rule.url === 'string' || isRegExp(rule.url))) {
    const methods = rule.methods ?? rule.method
    return { url: rule.url, methods: methods === undefined ? null : methodList(methods, 'path.methods') }
  }
  throw new TypeError('unless: path must be a string, a RegExp, { url, methods } or an array of them')
}

function urlMatches(pattern, path) {
  if (typeof pattern === 'string') return pattern === path
  pattern.lastIndex = 0 // a global or sticky RegExp keeps state between calls
  const matched = pattern.test(path)
  pattern.lastIndex = 0
  return matched
}

/** The path part of the request URL, as Express's router sees it (no decoding, no normalising). */
function requestPath(req, useOriginalUrl) {
  const url = (useOriginalUrl ? req?.originalUrl : undefined) || req?.url || ''
  if (typeof url !== 'string') return ''
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

/** Wraps `middleware` so that it is skipped when a rule matches the request. */
function unless(middleware, options) {
  const settings = typeof options === 'function' ? { custom: options } : options
  if (!isPlainObject(settings)) throw new TypeError('unless: options must be an object or a function')
  checkKeys(settings, new Set(['path', 'method', 'ext', 'custom', 'useOriginalUrl']), 'unless')
  if (settings.custom !== undefined && typeof settings.custom !== 'function') throw new TypeError('unless: custom must be a function')
  const custom = settings.custom
  const paths = asList(settings.path).map(pathRule)
  const methods = methodList(settings.method, 'method')
  const exts = asList(settings.ext)
  if (!exts.every((e) => typeof e === 'string' && e.length > 0)) throw new TypeError('unless: ext must be a string or an array of strings')
  const useOriginalUrl = boolean(settings.useOriginalUrl, 'unless.useOriginalUrl') ?? true

  const skipByRules = (req) => {
    const method = typeof req?.method === 'string' ? req.method.toUpperCase() : ''
    if (methods.includes(method)) return true
    if (paths.length === 0 && exts.length === 0) return false
    const path = requestPath(req, useOriginalUrl)
    if (paths.some((p) => urlMatches(p.url, path) && (p.methods === null || p.methods.includes(method)))) return true
    return exts.some((ext) => path.endsWith(ext))
  }

  return function hankoAuthUnless(req, res, next) {
    if (skipByRules(req)) return next()
    if (custom === undefined) return middleware(req, res, next)
    let skip
    try {
      skip = custom(req)
    } catch (err) {
      return next(err)
    }
    const decide = (value) => (value ? next() : middleware(req, res, next))
    if (isThenable(skip)) whenSettled(skip, decide, next)
    else decide(skip)
  }
}

module.exports = { unless }
