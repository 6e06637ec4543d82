// Wycheproof JOSE vectors (C2SP/wycheproof, read from ../shared/vectors/wycheproof at test time; never
// copied into this repository), for every algorithm we verify:
//   1. as published: no vector marked invalid is ever accepted;
//   2. re-signed over a JWT claims set with the group's private key (node:crypto signs), keeping the
//      vector's protected header: our verdict must match node:crypto's, an independent verifier, unless
//      we refuse for a header or key rule the README documents as stricter (crit, alg allow-list, kid);
//      the same token with its signature corrupted must be refused by both;
//   3. key vectors (ROCA, …): a key marked invalid is never used to accept a token.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createVerifier } from '../index.mjs'
import { freshPath, startServer } from './helpers.mjs'

const folder = fileURLToPath(new URL('../../shared/vectors/wycheproof/', import.meta.url))
const present = existsSync(`${folder}json_web_signature_test.json`)
const skip = !present && `the Wycheproof vectors are not at ${folder}`
const load = (name) => JSON.parse(readFileSync(`${folder}${name}`, 'utf8'))

const SPECS = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', pss: true },
  PS384: { hash: 'sha384', pss: true },
  PS512: { hash: 'sha512', pss: true },
  ES256: { hash: 'sha256', ec: true },
  ES384: { hash: 'sha384', ec: true },
  EdDSA: { hash: null },
}
const SUPPORTED = Object.keys(SPECS)
// Refusals for rules we apply before (or instead of) the signature, where node:crypto has no opinion.
const STRICTER = new Set(['ERR_JWS_INVALID', 'ERR_JOSE_ALG_NOT_ALLOWED', 'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ERR_JWKS_INVALID'])

let server
const documents = new Map()
before(async () => {
  server = await startServer((req, res) => {
    const body = documents.get(req.url)
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' })
    res.end(body ?? '{}')
  })
})
after(() => server?.close())

function decodeHeader(jws) {
  try {
    const header = JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString('utf8'))
    return header !== null && typeof header === 'object' && !Array.isArray(header) ? header : null
  } catch {
    return null
  }
}

function publicKeys(group) {
  const pub = group.public
  if (!pub) return []
  const keys = Array.isArray(pub.keys) ? pub.keys : [pub]
  return keys.map((k) => ({ ...k, kid: k.kid ?? privateKey(group)?.kid }))
}

/** The group's private key for `kid` (a group gives one JWK or a set). */
function privateKey(group, kid) {
  const priv = group.private
  if (!priv) return undefined
  const keys = Array.isArray(priv.keys) ? priv.keys : [priv]
  return keys.find((k) => kid === undefined || k.kid === kid) ?? keys[0]
}

/** A verifier over the group's public keys, served as a JWKS from 127.0.0.1. */
function verifierFor(keys) {
  const path = `${freshPath()}/.well-known/jwks.json`
  documents.set(path, JSON.stringify({ keys }))
  return createVerifier({ jwksUri: `${server.url}${path}`, algorithms: SUPPORTED, requiredClaims: [] })
}

const verdict = (verifier, token) =>
  verifier.verify(token).then(
    () => 'accepted',
    (err) => err.code,
  )

function sign(alg, privateJwk, input) {
  const spec = SPECS[alg]
  const key = crypto.createPrivateKey({ key: privateJwk, format: 'jwk' })
  const options = { key }
  if (spec.ec) options.dsaEncoding = 'ieee-p1363'
  if (spec.pss) Object.assign(options, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST })
  return crypto.sign(spec.hash, Buffer.from(input), options).toString('base64url')
}

function nodeVerifies(alg, publicJwk, input, signature) {
  const spec = SPECS[alg]
  if (!spec) return false
  try {
    const options = { key: crypto.createPublicKey({ key: publicJwk, format: 'jwk' }) }
    if (spec.ec) options.dsaEncoding = 'ieee-p1363'
    if (spec.pss) Object.assign(options, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST })
    return crypto.verify(spec.hash, Buffer.from(input), options, Buffer.from(signature, 'base64url'))
  } catch {
    return false
  }
}

const counts = { published: 0, publishedRefused: 0, resigned: 0, agreed: 0, stricter: 0, corrupted: 0, keyVectors: 0 }
const disagreements = []
const stricterCodes = {}

function groupsOf(file) {
  return load(file).testGroups.filter((g) => g.type === 'JsonWebSignature' || g.type === 'JsonWebKey' || g.type === 'JsonWebCrypto')
}

function usableGroup(group) {
  const keys = publicKeys(group)
  return keys.length > 0 && keys.every((k) => k.kty === 'RSA' || k.kty === 'EC' || k.kty === 'OKP')
}

for (const file of ['json_web_signature_test.json', 'json_web_key_test.json', 'json_web_crypto_test.json']) {
  test(`${file}: invalid vectors are refused as published, and re-signed vectors agree with node:crypto`, { skip }, async () => {
    for (const group of groupsOf(file)) {
      if (!usableGroup(group)) continue
      const keys = publicKeys(group)
      const verifier = verifierFor(keys)
      for (const vector of group.tests) {
        if (typeof vector.jws !== 'string') continue // JSON serialization: not a compact token
        const header = decodeHeader(vector.jws)
        // 1. As published.
        counts.published++
        const published = await verdict(verifier, vector.jws)
        if (vector.result === 'invalid') {
          assert.notEqual(published, 'accepted', `${file} #${vector.tcId} (${vector.comment}) was accepted`)
          counts.publishedRefused++
        }
        if (file === 'json_web_key_test.json' || file === 'json_web_crypto_test.json') counts.keyVectors++
        // 2. Re-signed over a claims set, keeping the vector's header.
        const alg = header?.alg
        const signingKey = privateKey(group, header?.kid)
        if (!signingKey || !SPECS[alg] || signingKey.kty === 'oct') continue
        const now = Math.floor(Date.now() / 1000)
        const input = `${vector.jws.split('.')[0]}.${Buffer.from(JSON.stringify({ sub: 'wycheproof', iat: now, exp: now + 600 })).toString('base64url')}`
        let signature
        try {
          signature = sign(alg, signingKey, input)
        } catch {
          continue // the group's key cannot make this algorithm's signature (another key type)
        }
        counts.resigned++
        const token = `${input}.${signature}`
        const ours = await verdict(verifier, token)
        const publicJwk = keys.find((k) => !header.kid || k.kid === header.kid) ?? keys[0]
        const theirs = nodeVerifies(alg, publicJwk, input, signature) ? 'accepted' : 'refused'
        if ((ours === 'accepted') === (theirs === 'accepted')) counts.agreed++
        else if (ours !== 'accepted' && STRICTER.has(ours)) {
          counts.stricter++
          stricterCodes[ours] = (stricterCodes[ours] ?? 0) + 1
        } else disagreements.push(`${file} #${vector.tcId} (${vector.comment}): ours ${ours}, node:crypto ${theirs}`)
        // The same token with a corrupted signature: both refuse.
        const bytes = Buffer.from(signature, 'base64url')
        bytes[bytes.length >> 1] ^= 0x01
        const corrupted = `${input}.${bytes.toString('base64url')}`
        assert.notEqual(await verdict(verifier, corrupted), 'accepted', `${file} #${vector.tcId}: a corrupted signature was accepted`)
        assert.equal(nodeVerifies(alg, publicJwk, input, bytes.toString('base64url')), false)
        counts.corrupted++
      }
    }
    assert.deepEqual(disagreements, [])
  })
}

test('the ROCA key (json_web_key #7, json_web_crypto #46) is unusable: a token it signed is refused', { skip }, async () => {
  for (const [file, id] of [
    ['json_web_key_test.json', 7],
    ['json_web_crypto_test.json', 46],
  ]) {
    const group = groupsOf(file).find((g) => g.tests.some((t) => t.tcId === id))
    const verifier = verifierFor(publicKeys(group))
    const signingKey = privateKey(group)
    const header = { alg: 'RS256', kid: signingKey.kid }
    const now = Math.floor(Date.now() / 1000)
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', exp: now + 60 })).toString('base64url')}`
    const token = `${input}.${sign('RS256', signingKey, input)}`
    assert.equal(nodeVerifies('RS256', publicKeys(group)[0], input, token.split('.')[2]), true, 'node:crypto would accept it')
    assert.equal(await verdict(verifier, token), 'ERR_JWKS_INVALID', `${file} #${id}: the set has no usable key`)
  }
})

test('summary', { skip }, () => {
  console.log(
    `# Wycheproof: ${counts.published} published vectors run (${counts.publishedRefused} marked invalid, all refused); ${counts.resigned} re-signed: ${counts.agreed} agree with node:crypto, ${counts.stricter} refused by a stricter documented rule (${JSON.stringify(stricterCodes)}), ${disagreements.length} disagreements; ${counts.corrupted} corrupted signatures refused`,
  )
  assert.ok(counts.published > 400 && counts.resigned > 300 && counts.keyVectors > 0)
})
