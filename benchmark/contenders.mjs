// The verifiers we compare, each configured the way its users run it, all checking the same things:
// signature, exp and audience 'localhost'. Shared by the micro and the HTTP benchmarks.
import crypto from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const jsonwebtoken = require('jsonwebtoken')
const jwksRsa = require('jwks-rsa')
const fastJwt = require('fast-jwt')
// Installed by `npm run bench:peers`, not a devDependency: its lockfile entries for other platforms
// cannot be resolved on every registry mirror, which would break `npm ci`.
let nodeRs = null
try {
  nodeRs = require('@node-rs/jsonwebtoken')
} catch {}
const jose = await import('jose')
const hanko = require('../index.js')

export const versions = Object.fromEntries(
  ['jsonwebtoken', 'jwks-rsa', 'express-jwt', 'jose', 'fast-jwt', '@node-rs/jsonwebtoken', 'express', 'autocannon'].map((p) => {
    try {
      return [p, require(`${p}/package.json`).version]
    } catch {
      return [p, 'not installed']
    }
  }),
)

const HASH = { RS256: 'sha256', ES256: 'sha256', EdDSA: null }

/** The floor: node:crypto verify with a pre-parsed KeyObject on pre-split, pre-decoded input. */
export function floor(issuer) {
  const jwk = issuer.jwks.keys[0]
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' })
  const keyArg = issuer.algorithm === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key
  const hash = HASH[issuer.algorithm]
  const split = new Map()
  return {
    prepare(token) {
      const dot = token.lastIndexOf('.')
      split.set(token, [Buffer.from(token.slice(0, dot)), Buffer.from(token.slice(dot + 1), 'base64url')])
    },
    sync(token) {
      const [data, sig] = split.get(token)
      if (!crypto.verify(hash, data, keyArg, sig)) throw new Error('bad signature')
    },
  }
}

/** Every contender: { name, sync?(token), async?(token) }. `cache` picks the cached variants. */
export async function contenders(issuer, { cacheSize = 1000, cache = true } = {}) {
  const alg = issuer.algorithm
  const jwk = issuer.jwks.keys[0]
  const keyObject = crypto.createPublicKey({ key: jwk, format: 'jwk' })
  const pem = keyObject.export({ type: 'spki', format: 'pem' })
  const list = []

  const verifier = hanko.createVerifier({
    jwksHost: issuer.url,
    audience: 'localhost',
    algorithms: [alg],
    tokenCache: cache ? { maxEntries: cacheSize } : false,
  })
  await verifier.ready()
  list.push({ name: `hanko-auth verifySync${cache ? '' : ' (no token cache)'}`, sync: (t) => verifier.verifySync(t), stats: () => verifier.stats() })
  list.push({ name: `hanko-auth verify${cache ? '' : ' (no token cache)'}`, async: (t) => verifier.verify(t) })

  const fast = fastJwt.createVerifier({ key: pem, algorithms: [alg], allowedAud: 'localhost', cache: cache ? cacheSize : false })
  list.push({ name: `fast-jwt${cache ? ' (cache)' : ''}`, sync: (t) => fast(t) })

  if (alg !== 'EdDSA') {
    list.push({ name: 'jsonwebtoken (KeyObject)', sync: (t) => jsonwebtoken.verify(t, keyObject, { algorithms: [alg], audience: 'localhost' }) })
    // What express-jwt + jwks-rsa do per request: a cached signing key as PEM, parsed by jsonwebtoken.
    const client = jwksRsa({ jwksUri: issuer.jwksUri, cache: true, rateLimit: true })
    list.push({
      name: 'jwks-rsa + jsonwebtoken (express-jwt)',
      async: async (t) => {
        const { kid } = jsonwebtoken.decode(t, { complete: true }).header
        const key = await client.getSigningKey(kid)
        return jsonwebtoken.verify(t, key.getPublicKey(), { algorithms: [alg], audience: 'localhost' })
      },
    })
  }

  const remote = jose.createRemoteJWKSet(new URL(issuer.jwksUri))
  list.push({ name: 'jose (createRemoteJWKSet)', async: (t) => jose.jwtVerify(t, remote, { algorithms: [alg], audience: 'localhost' }) })

  if (nodeRs === null) return list
  const rsAlg = { RS256: nodeRs.Algorithm.RS256, ES256: nodeRs.Algorithm.ES256, EdDSA: nodeRs.Algorithm.EdDSA }[alg]
  // Its default leeway is 60 s (the Rust crate's); set to 0 like everyone else here.
  list.push({ name: '@node-rs/jsonwebtoken', sync: (t) => nodeRs.verifySync(t, pem, { algorithms: [rsAlg], aud: ['localhost'], leeway: 0 }) })
  return list
}

/** Each contender must refuse a tampered, an expired and a wrong-audience token, and accept a good one. */
export async function checkContender(contender, issuer) {
  const good = issuer.token()
  const [h, , s] = good.split('.')
  const bad = {
    tampered: `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', exp: 9999999999, aud: ['localhost'] })).toString('base64url')}.${s}`,
    expired: issuer.token({ exp: Math.floor(Date.now() / 1000) - 60, iat: Math.floor(Date.now() / 1000) - 120 }),
    'wrong audience': issuer.token({ aud: ['other.example'] }),
  }
  const run = (t) => (contender.sync ? Promise.resolve().then(() => contender.sync(t)) : contender.async(t))
  await run(good)
  for (const [what, token] of Object.entries(bad)) {
    let accepted = false
    try {
      await run(token)
      accepted = true
    } catch {}
    if (accepted) throw new Error(`${contender.name} accepted a ${what} token`)
  }
}
