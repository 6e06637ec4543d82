// Shared test helpers: a controllable loopback HTTP server and token forging with node:crypto.
import crypto from 'node:crypto'
import http from 'node:http'

export const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** A raw compact token from parts, with any signature (no signing). */
export function rawToken(header, payload, signature = 'c2ln') {
  return `${typeof header === 'string' ? header : b64url(header)}.${typeof payload === 'string' ? payload : b64url(payload)}.${signature}`
}

/** HMAC-signed token (the algorithm-confusion attack uses the RSA public key PEM as the secret). */
export function hmacToken(header, payload, secret) {
  const input = `${b64url(header)}.${b64url(payload)}`
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`
}

/**
 * A loopback HTTP server whose behaviour a test can change at any time.
 * `handler(req, res)` answers; `hits` counts requests (by path).
 */
export async function startServer(handler = (req, res) => res.end()) {
  const state = { handler, hits: 0, paths: [] }
  const server = http.createServer((req, res) => {
    state.hits++
    state.paths.push(req.url)
    Promise.resolve(state.handler(req, res)).catch(() => res.destroy())
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  return {
    url,
    get hits() {
      return state.hits
    },
    get paths() {
      return state.paths
    },
    set handler(fn) {
      state.handler = fn
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** Serves a JWKS document (object or raw string) with optional headers. */
export function serveJson(body, { status = 200, headers = {} } = {}) {
  return (req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

let unique = 0
/** A fresh path so each test gets its own key cache (caches are shared per URL in the process). */
export function freshPath() {
  return `/t${process.pid}-${++unique}-${Date.now()}`
}

/** An Express (or any http) app listening on 127.0.0.1: `{ url, close }`. */
export async function listen(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      server.closeAllConnections?.()
      await new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** GET with a Bearer token: `{ status, body }` (the body parsed when JSON). */
export async function getWithToken(url, token) {
  const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  const text = await response.text()
  try {
    return { status: response.status, body: JSON.parse(text) }
  } catch {
    return { status: response.status, body: text }
  }
}

/** The claims of a compact token (no verification). */
export const claimsOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))
