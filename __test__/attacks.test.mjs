// The attack corpus (issue #8): hostile tokens and hostile key sets, each asserted by its exact code,
// rule by rule of RFC 7515/7519 and of the key-cache rules (README: Key caching), with the known CVE classes of our peers.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { createVerifier } from '../index.mjs'
import { createTestIssuer, signJws } from '../testing.mjs'
import { b64url, hmacToken, serveJson, startServer } from './helpers.mjs'

let issuer
let stranger
let verifier
let decoy
before(async () => {
  ;[issuer, stranger] = await Promise.all([createTestIssuer({ modulusLength: 2048 }), createTestIssuer({ modulusLength: 2048 })])
  verifier = createVerifier({ jwksHost: issuer.url, audience: 'localhost', tokenCache: false })
  await verifier.ready()
  decoy = await startServer(serveJson(stranger.jwks))
})
after(async () => {
  await issuer.close()
  await stranger.close()
  await decoy.close()
})

const now = () => Math.floor(Date.now() / 1000)
const H = () => ({ alg: 'RS256', kid: issuer.kid, typ: 'JWT' })
const P = () => ({ sub: 'u', exp: now() + 3600, iat: now(), aud: ['localhost'], session_id: 's' })
const sign = (payload, header = {}) => signJws({ ...H(), ...header }, payload, issuer.privateKey, 'RS256')
const claims = (extra) => sign({ ...P(), ...extra })
const without = (name) => {
  const p = P()
  delete p[name]
  return sign(p)
}
const raw = (headerJson, payloadJson, sig = 'c2ln') => `${b64url(headerJson)}.${b64url(payloadJson)}.${sig}`
const pem = () => crypto.createPublicKey({ key: issuer.jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' })
const swapPart = (token, index, value) =>
  token
    .split('.')
    .map((part, i) => (i === index ? value : part))
    .join('.')

const JWS = 'ERR_JWS_INVALID'
const JWT = 'ERR_JWT_INVALID'
const ALG = 'ERR_JOSE_ALG_NOT_ALLOWED'
const NOKEY = 'ERR_JWKS_NO_MATCHING_KEY'
const SIG = 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
const EXP = 'ERR_JWT_EXPIRED'
const CLAIM = 'ERR_JWT_CLAIM_VALIDATION_FAILED'

// [name, () => token, code, claim?]
const TOKENS = [
  // Rule 1: structure.
  ['empty string', () => '', JWS],
  ['a single dot', () => '.', JWS],
  ['two dots', () => '..', JWS],
  ['one segment', () => 'eyJhbGciOiJSUzI1NiJ9', JWS],
  ['two segments', () => 'eyJhbGciOiJSUzI1NiJ9.e30', JWS],
  ['four segments', () => `${claims({})}.e30`, JWS],
  ['five segments (a JWE)', () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', JWS],
  ['padding in the header', () => `${b64url(H())}=.${b64url(P())}.c2ln`, JWS],
  ['standard base64 alphabet', () => `${Buffer.from(JSON.stringify({ ...H(), x: '>>>?' })).toString('base64')}.e30.c2ln`, JWS],
  ['leading space', () => ` ${claims({})}`, JWS],
  ['trailing newline', () => `${claims({})}\n`, JWS],
  ['a space inside', () => claims({}).replace('.', '. '), JWS],
  ['non-ASCII characters', () => `${claims({})}é`, JWS],
  ['header null', () => raw('null', '{}'), JWS],
  ['header an array', () => raw('[]', '{}'), JWS],
  ['header a string', () => raw('"RS256"', '{}'), JWS],
  ['header a number', () => raw('42', '{}'), JWS],
  ['header true', () => raw('true', '{}'), JWS],
  ['header invalid UTF-8', () => `${Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64url')}.e30.c2ln`, JWS],
  ['header with a byte-order mark', () => raw(`\ufeff${JSON.stringify(H())}`, JSON.stringify(P())), JWS],
  ['header with trailing garbage', () => raw(`${JSON.stringify(H())}x`, JSON.stringify(P())), JWS],
  ['header with a trailing comma', () => raw('{"alg":"RS256",}', JSON.stringify(P())), JWS],
  ['header with a duplicate alg', () => raw('{"alg":"none","alg":"RS256"}', JSON.stringify(P())), JWS],
  ['header with a duplicate kid', () => raw(`{"alg":"RS256","kid":"x","kid":"${issuer.kid}"}`, JSON.stringify(P())), JWS],
  ['no alg', () => raw('{"typ":"JWT"}', JSON.stringify(P())), JWS],
  ['alg null', () => raw('{"alg":null}', JSON.stringify(P())), JWS],
  ['alg a number', () => raw('{"alg":256}', JSON.stringify(P())), JWS],
  ['alg an array', () => raw('{"alg":["RS256"]}', JSON.stringify(P())), JWS],
  ['alg an object', () => raw('{"alg":{"name":"RS256"}}', JSON.stringify(P())), JWS],
  ['kid a number', () => raw('{"alg":"RS256","kid":1}', JSON.stringify(P())), JWS],
  ['kid null', () => raw('{"alg":"RS256","kid":null}', JSON.stringify(P())), JWS],
  ['kid an object', () => raw('{"alg":"RS256","kid":{"$ne":""}}', JSON.stringify(P())), JWS],
  ['typ a number', () => raw('{"alg":"RS256","typ":1}', JSON.stringify(P())), JWS],
  ['crit with a registered claim', () => sign(P(), { crit: ['exp'], exp: 1 }), JWS],
  ['crit empty', () => sign(P(), { crit: [] }), JWS],
  ['crit a string', () => sign(P(), { crit: 'b64' }), JWS],
  ['crit b64 (unencoded payload)', () => sign(P(), { crit: ['b64'], b64: false }), JWS],
  ['payload null', () => raw(JSON.stringify(H()), 'null'), JWT],
  ['payload an array', () => raw(JSON.stringify(H()), '[{"sub":"u"}]'), JWT],
  ['payload a string', () => raw(JSON.stringify(H()), '"admin"'), JWT],
  ['payload a huge number', () => raw(JSON.stringify(H()), '1e999'), JWT],
  ['payload not JSON', () => raw(JSON.stringify(H()), 'sub=admin'), JWT],
  ['payload invalid UTF-8', () => `${b64url(H())}.${Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url')}.c2ln`, JWT],
  ['payload with a duplicate sub', () => raw(JSON.stringify(H()), '{"sub":"user","sub":"admin","exp":9999999999}'), JWT],
  ['payload with a duplicate exp', () => raw(JSON.stringify(H()), '{"sub":"u","exp":1,"exp":9999999999}'), JWT],
  ['payload nested 5 000 deep', () => raw(JSON.stringify(H()), `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`), JWT],
  ['payload nested 1 000 objects deep', () => raw(JSON.stringify(H()), `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`), JWT],
  ['payload with a number out of range', () => raw(JSON.stringify(H()), '{"sub":"u","exp":1e400}'), JWT],
  ['a 20 KiB payload', () => sign({ ...P(), pad: 'x'.repeat(20 * 1024) }), JWS],
  ['16 KiB + 1 bytes', () => `${'a'.repeat(8193)}.${'b'.repeat(8190)}.c`, JWS],
  ['an empty header segment', () => `.${b64url(P())}.c2ln`, JWS],
  ['an empty payload segment', () => `${b64url(H())}..c2ln`, JWS],
  ['padding in the signature', () => `${claims({})}==`, JWS],
  [
    'non-canonical trailing bits in the signature',
    () => {
      // A 256-byte signature ends in a character with 2 data bits and 4 zero bits; B/R/h/x set a zero bit.
      const token = claims({})
      return `${token.slice(0, -1)}${{ A: 'B', Q: 'R', g: 'h', w: 'x' }[token.slice(-1)]}`
    },
    JWS,
  ],

  // Rule 2: algorithms (CVE-2022-23540 class: none; CVE-2020-15084 class: HS with the public key).
  ...['none', 'None', 'NONE', 'nOnE'].map((alg) => [`alg ${alg}, unsigned`, () => raw(JSON.stringify({ alg }), JSON.stringify(P()), ''), ALG]),
  ...['HS256', 'HS384', 'HS512'].map((alg) => [
    `alg ${alg} signed with the RSA public key as the secret`,
    () => hmacToken({ alg, kid: issuer.kid }, P(), pem()),
    ALG,
  ]),
  ['HS256 with the JWK n as the secret', () => hmacToken({ alg: 'HS256', kid: issuer.kid }, P(), issuer.jwks.keys[0].n), ALG],
  ['alg rs256 (lower case)', () => sign(P(), { alg: 'rs256' }), ALG],
  ['alg "RS256 " (trailing space)', () => sign(P(), { alg: 'RS256 ' }), ALG],
  ['alg RS256 with a NUL', () => sign(P(), { alg: 'RS256\u0000' }), ALG],
  ['alg ES256 when only RS256 is allowed', () => sign(P(), { alg: 'ES256' }), ALG],
  ['alg PS256 when only RS256 is allowed', () => sign(P(), { alg: 'PS256' }), ALG],
  ['alg EdDSA when only RS256 is allowed', () => sign(P(), { alg: 'EdDSA' }), ALG],
  ['alg ES512 (unsupported)', () => sign(P(), { alg: 'ES512' }), ALG],
  ['alg RSA-OAEP (an encryption alg)', () => sign(P(), { alg: 'RSA-OAEP' }), ALG],
  ['alg dir', () => sign(P(), { alg: 'dir' }), ALG],
  ['alg ES256K', () => sign(P(), { alg: 'ES256K' }), ALG],

  // Rule 3: keys only from the configured JWKS (CVE-2025-65945 class: key chosen from token data).
  [
    'jwk header with the attacker key, no kid',
    () => stranger.token({}, { jwk: stranger.jwks.keys[0], kid: undefined }),
    `ERR_JWKS_MULTIPLE_MATCHING_KEYS|${SIG}`,
  ],
  ['jwk header with the attacker key and its kid', () => stranger.token({}, { jwk: stranger.jwks.keys[0] }), NOKEY],
  ['jku pointing at an attacker key set', () => stranger.token({}, { jku: `${decoy.url}/jwks.json` }), NOKEY],
  ['x5u pointing at an attacker certificate', () => stranger.token({}, { x5u: `${decoy.url}/cert.pem` }), NOKEY],
  ['x5c with an attacker chain', () => stranger.token({}, { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }), NOKEY],
  ['attacker key under the trusted kid', () => signJws({ ...H() }, P(), stranger.privateKey), SIG],
  ['kid path traversal', () => sign(P(), { kid: '../../../../dev/null' }), NOKEY],
  ['kid SQL injection', () => sign(P(), { kid: "x' OR '1'='1" }), NOKEY],
  ['kid with an emoji', () => sign(P(), { kid: '🔑' }), NOKEY],
  ['kid with a right-to-left override', () => sign(P(), { kid: `\u202e${issuer.kid}` }), NOKEY],
  ['kid empty', () => sign(P(), { kid: '' }), NOKEY],
  ['kid 8 KiB long', () => sign(P(), { kid: 'k'.repeat(8192) }), NOKEY],
  ['kid in upper case', () => sign(P(), { kid: issuer.kid.toUpperCase() }), NOKEY],
  ['kid with a trailing space', () => sign(P(), { kid: `${issuer.kid} ` }), NOKEY],
  ['kid with a NUL suffix', () => sign(P(), { kid: `${issuer.kid}\u0000` }), NOKEY],

  // Rule 4: signatures.
  ['payload swapped for an admin one', () => swapPart(claims({}), 1, b64url({ ...P(), sub: 'admin' })), SIG],
  ['header typ changed after signing', () => swapPart(claims({}), 0, b64url({ ...H(), typ: 'at+jwt' })), SIG],
  ['payload re-encoded with other whitespace', () => swapPart(claims({}), 1, b64url(JSON.stringify(P(), null, 1))), SIG],
  ['empty signature', () => swapPart(claims({}), 2, ''), SIG],
  ['signature truncated to 255 bytes', () => swapPart(claims({}), 2, Buffer.alloc(255, 1).toString('base64url')), SIG],
  ['signature of zeros', () => swapPart(claims({}), 2, Buffer.alloc(256).toString('base64url')), SIG],
  ['signature equal to the modulus', () => swapPart(claims({}), 2, issuer.jwks.keys[0].n), SIG],
  [
    'signature one byte too long',
    () => swapPart(claims({}), 2, Buffer.concat([Buffer.from(claims({}).split('.')[2], 'base64url'), Buffer.from([0])]).toString('base64url')),
    SIG,
  ],
  [
    'PS256 signature under an RS256 header',
    () => {
      const token = signJws({ ...H(), alg: 'PS256' }, P(), issuer.privateKey, 'PS256')
      return swapPart(swapPart(token, 0, b64url(H())), 1, token.split('.')[1])
    },
    SIG,
  ],
  ['signature from another token', () => swapPart(claims({ sub: 'a' }), 2, claims({ sub: 'b' }).split('.')[2]), SIG],

  // Rule 5: claims (type confusion, huge and non-integer dates).
  ['exp in the past', () => claims({ exp: now() - 10 }), EXP, 'exp'],
  ['exp equal to now', () => claims({ exp: now() }), EXP, 'exp'],
  ['exp negative', () => claims({ exp: -1 }), EXP, 'exp'],
  ['exp zero', () => claims({ exp: 0 }), EXP, 'exp'],
  ['exp a string', () => claims({ exp: String(now() + 3600) }), CLAIM, 'exp'],
  ['exp null', () => claims({ exp: null }), CLAIM, 'exp'],
  ['exp true', () => claims({ exp: true }), CLAIM, 'exp'],
  ['exp an array', () => claims({ exp: [now() + 3600] }), CLAIM, 'exp'],
  ['exp an object', () => claims({ exp: { $gt: 0 } }), CLAIM, 'exp'],
  ['exp missing', () => without('exp'), CLAIM, 'exp'],
  ['exp fractional in the past', () => claims({ exp: now() - 0.5 }), EXP, 'exp'],
  ['iat in the future', () => claims({ iat: now() + 3600 }), CLAIM, 'iat'],
  ['iat a string', () => claims({ iat: 'yesterday' }), CLAIM, 'iat'],
  ['nbf in the future', () => claims({ nbf: now() + 3600 }), CLAIM, 'nbf'],
  ['nbf a string', () => claims({ nbf: '0' }), CLAIM, 'nbf'],
  ['aud another app', () => claims({ aud: ['evil.example'] }), CLAIM, 'aud'],
  ['aud a number', () => claims({ aud: 1 }), CLAIM, 'aud'],
  ['aud an array with a number', () => claims({ aud: [1, 'localhost'] }), CLAIM, 'aud'],
  ['aud a nested array', () => claims({ aud: [['localhost']] }), CLAIM, 'aud'],
  ['aud an object', () => claims({ aud: { localhost: true } }), CLAIM, 'aud'],
  ['aud empty', () => claims({ aud: [] }), CLAIM, 'aud'],
  ['aud missing', () => without('aud'), CLAIM, 'aud'],
  ['aud with different case', () => claims({ aud: ['LOCALHOST'] }), CLAIM, 'aud'],
  ['sub missing', () => without('sub'), CLAIM, 'sub'],
  ['sub a number', () => claims({ sub: 1 }), CLAIM, 'sub'],
  ['sub null', () => claims({ sub: null }), CLAIM, 'sub'],
  ['sub an object', () => claims({ sub: { id: 'admin' } }), CLAIM, 'sub'],
  ['iss an array', () => claims({ iss: ['https://hanko.example'] }), CLAIM, 'iss'],

  // Odd but valid: accepted, and nothing crashes.
  ['exp huge (year 10^300)', () => claims({ exp: 1e308 }), 'ok'],
  ['unicode everywhere in claims', () => claims({ name: '𝕳𝖆𝖓𝖐𝖔 \u202e', custom: { '🔑': ['\u0000'] } }), 'ok'],
]

describe(`hostile tokens (${TOKENS.length})`, () => {
  test('the corpus has at least 100 tokens', () => assert.ok(TOKENS.length >= 100, String(TOKENS.length)))
  for (const [name, make, code, claim] of TOKENS) {
    test(`${name} → ${code}`, async () => {
      const token = make()
      let err = null
      try {
        await verifier.verify(token)
      } catch (e) {
        err = e
      }
      if (code === 'ok') {
        assert.equal(err, null)
        return
      }
      assert.ok(err, 'must be refused')
      assert.ok(code.split('|').includes(err.code), `${err.code}: ${err.message}`)
      if (claim) assert.equal(err.claim, claim)
      assert.ok(!err.message.includes(token) || token.length < 8, 'the message must not echo the token')
      // The sync path answers the same way.
      assert.throws(
        () => verifier.verifySync(token),
        (e) => e.code === err.code,
      )
    })
  }
  test('no request went to the jku / x5u decoy', () => assert.equal(decoy.hits, 0))
})

// [name, body (object or raw string), expected ready() outcome]
const KEY_SETS = () => {
  const good = issuer.jwks.keys[0]
  const small = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })
  const [ecx, ecy] = [good.n.slice(0, 43), good.n.slice(43, 86)]
  return [
    ['not JSON', 'hello', 'ERR_JWKS_INVALID'],
    ['an HTML error page', '<html><body>502</body></html>', 'ERR_JWKS_INVALID'],
    ['a JSON array', '[]', 'ERR_JWKS_INVALID'],
    ['keys an object', { keys: {} }, 'ERR_JWKS_INVALID'],
    ['keys null', { keys: null }, 'ERR_JWKS_INVALID'],
    ['keys empty', { keys: [] }, 'ERR_JWKS_INVALID'],
    ['keys of numbers', { keys: [1, 2, 3] }, 'ERR_JWKS_INVALID'],
    ['only an HMAC secret (oct)', { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: issuer.kid }] }, 'ERR_JWKS_INVALID'],
    ['only an RSA-1024 key', { keys: [{ ...small, kid: issuer.kid }] }, 'ERR_JWKS_INVALID'],
    ['only use: enc', { keys: [{ ...good, use: 'enc' }] }, 'ERR_JWKS_INVALID'],
    ['only key_ops [sign]', { keys: [{ ...good, use: undefined, key_ops: ['sign'] }] }, 'ERR_JWKS_INVALID'],
    ['an RSA key claiming alg HS256', { keys: [{ ...good, alg: 'HS256' }] }, 'ERR_JWKS_INVALID'],
    ['an RSA key claiming alg ES256', { keys: [{ ...good, alg: 'ES256' }] }, 'ERR_JWKS_INVALID'],
    ['EC P-521', { keys: [{ kty: 'EC', crv: 'P-521', x: ecx, y: ecy }] }, 'ERR_JWKS_INVALID'],
    ['EC with short coordinates', { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] }, 'ERR_JWKS_INVALID'],
    ['EC point not on the curve', { keys: [{ kty: 'EC', crv: 'P-256', x: ecx, y: ecy }] }, 'ERR_JWKS_INVALID'],
    ['RSA n not base64url', { keys: [{ ...good, n: '!!!!' }] }, 'ERR_JWKS_INVALID'],
    ['RSA n empty (a fuzzing find)', { keys: [{ ...good, n: '' }] }, 'ERR_JWKS_INVALID'],
    ['RSA n all zero bytes', { keys: [{ ...good, n: 'AAAAAA' }] }, 'ERR_JWKS_INVALID'],
    ['RSA e = 1', { keys: [{ ...good, e: 'AQ' }] }, 'ERR_JWKS_INVALID'],
    ['RSA e even', { keys: [{ ...good, e: 'AQAA' }] }, 'ERR_JWKS_INVALID'],
    ['OKP X25519 (key agreement)', { keys: [{ kty: 'OKP', crv: 'X25519', x: ecx }] }, 'ERR_JWKS_INVALID'],
    ['a duplicate keys member', `{"keys":[${JSON.stringify(good)}],"keys":[]}`, 'ERR_JWKS_INVALID'],
    ['nested 10 000 deep', `{"keys":[${'['.repeat(10000)}${']'.repeat(10000)}]}`, 'ERR_JWKS_INVALID'],
    ['a byte-order mark', `\ufeff${JSON.stringify({ keys: [good] })}`, 'ERR_JWKS_INVALID'],
    ['trailing garbage', `${JSON.stringify({ keys: [good] })}garbage`, 'ERR_JWKS_INVALID'],
    ['the good key among junk', { keys: [null, 'x', { kty: 'RSA' }, { ...good, kid: 5 }, good] }, 'ok'],
    ['the good key with private members', { keys: [{ ...good, d: 'AAAA', p: 'AAAA' }] }, 'ok'],
    ['the good key after 1 000 junk entries', { keys: [...Array.from({ length: 1000 }, () => ({ kty: 'oct', k: 'AA' })), good] }, 'ok'],
    ['2 000 usable copies (kept up to 100)', { keys: Array.from({ length: 2000 }, (_, i) => ({ ...good, kid: `k${i}` })) }, 'ok'],
  ]
}

describe('hostile key sets', () => {
  test('the corpus has at least 20 key sets', () => assert.ok(KEY_SETS().length >= 20))
  test('each is refused with its code, or keeps only its usable keys', async () => {
    const server = await startServer()
    try {
      for (const [name, body, expected] of KEY_SETS()) {
        server.handler = serveJson(body)
        const v = createVerifier({ jwksUri: `${server.url}/${encodeURIComponent(name)}`, tokenCache: false })
        let outcome = 'ok'
        try {
          await v.ready()
        } catch (err) {
          outcome = err.code
        }
        assert.equal(outcome, expected, name)
        if (outcome === 'ok') {
          assert.ok(v.stats().keys <= 100, `${name}: ${v.stats().keys} keys kept`)
          const kid = v.stats().kids[0]
          assert.ok(await v.verify(issuer.token({}, { kid })), `${name}: the good key verifies`)
        }
      }
    } finally {
      await server.close()
    }
  })
})
