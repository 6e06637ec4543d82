//! A JWK turned into a verifying key once, kept for as long as it stays in the key set.

use crate::error::{Code, Error, Result};
use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents, VerificationAlgorithm};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::Algorithm;
use std::sync::OnceLock;

/// RSA keys shorter than this are not usable (RFC 7517 §4, RFC 8725 §3).
pub const MIN_RSA_BITS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
  Rsa {
    n: Vec<u8>,
    e: Vec<u8>,
  },
  /// Uncompressed SEC1 point `04 || x || y`.
  Ec {
    curve: EllipticCurve,
    point: Vec<u8>,
  },
  Ed25519 {
    x: Vec<u8>,
  },
}

/// Every algorithm we verify, in a fixed order (also the per-algorithm parsed-key slots).
pub const ALGORITHMS: [Algorithm; 9] = [
  Algorithm::RS256,
  Algorithm::RS384,
  Algorithm::RS512,
  Algorithm::PS256,
  Algorithm::PS384,
  Algorithm::PS512,
  Algorithm::ES256,
  Algorithm::ES384,
  Algorithm::EdDSA,
];

fn slot(alg: Algorithm) -> Option<usize> {
  ALGORITHMS.iter().position(|a| *a == alg)
}

/// EC and Ed25519 algorithms (RSA goes through [`rsa_parameters`], which keeps the parsed-key path).
fn curve_algorithm(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
  Some(match alg {
    Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
    Algorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
    Algorithm::EdDSA => &sig::ED25519,
    _ => return None,
  })
}

fn rsa_parameters(alg: Algorithm) -> Option<&'static sig::RsaParameters> {
  Some(match alg {
    Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
    Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
    Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
    Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
    Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
    Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
    _ => return None,
  })
}

/// A usable verification key from a key set.
pub struct Key {
  pub kid: Option<String>,
  /// The JWK's own `alg`, when it names one; the key then serves that algorithm only.
  pub alg: Option<Algorithm>,
  material: Material,
  /// Parsed once per algorithm on first use, then reused: aws-lc builds the public key (and its
  /// Montgomery context) at parse time, which for RSA-4096 costs about as much as a verification.
  parsed: [OnceLock<Option<ParsedPublicKey>>; ALGORITHMS.len()],
}

impl std::fmt::Debug for Key {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Key")
      .field("kid", &self.kid)
      .field("alg", &self.alg)
      .finish_non_exhaustive()
  }
}

impl PartialEq for Key {
  /// Same kid and same key material: a refetched key set keeps such a key (and its parsed form).
  fn eq(&self, other: &Self) -> bool {
    self.kid == other.kid && self.alg == other.alg && self.material == other.material
  }
}

fn b64(value: &str, what: &str) -> std::result::Result<Vec<u8>, String> {
  URL_SAFE_NO_PAD
    .decode(value)
    .map_err(|_| format!("\"{what}\" is not base64url"))
}

/// The primes of the ROCA fingerprint test (Nemec et al., "The Return of Coppersmith's Attack", CCS 2017):
/// moduli made by the vulnerable library are, modulo each of them, a power of 65537.
const ROCA_PRIMES: [u32; 38] = [
  3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113,
  127, 131, 137, 139, 149, 151, 157, 163, 167,
];

/// CVE-2017-15361: whether the modulus `n` (big-endian) has the ROCA fingerprint, i.e. for every prime
/// r above, `n mod r` lies in the subgroup that 65537 generates modulo r. A random modulus passes every
/// prime with negligible probability. Written here because no maintained crate offers the check; the
/// arithmetic is a few remainders of small numbers.
pub fn has_roca_fingerprint(n: &[u8]) -> bool {
  ROCA_PRIMES.iter().all(|&r| {
    let residue = n.iter().fold(0u32, |acc, byte| (acc * 256 + u32::from(*byte)) % r);
    let generator = 65537 % r;
    let mut power = 1u32;
    loop {
      if power == residue {
        return true;
      }
      power = power * generator % r;
      if power == 1 {
        return false;
      }
    }
  })
}

/// Ed25519 public keys that verify forgeries or break uniqueness are not usable: points of small order
/// (with the identity, R = identity and S = 0 verify any message) and non-canonical encodings (RFC 8032
/// §5.1.3 decoding; the same point must have one encoding). Decoded with curve25519-dalek.
fn ed25519_usable(x: &[u8]) -> std::result::Result<(), String> {
  use curve25519_dalek::edwards::CompressedEdwardsY;
  let bytes: [u8; 32] = x
    .try_into()
    .map_err(|_| "its Ed25519 key is not 32 bytes".to_string())?;
  let point = CompressedEdwardsY(bytes)
    .decompress()
    .ok_or("its Ed25519 key is not a point on the curve")?;
  if point.compress().to_bytes() != bytes {
    return Err("its Ed25519 key is not canonically encoded".into());
  }
  if point.is_small_order() {
    return Err("its Ed25519 key is a point of small order".into());
  }
  Ok(())
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
  let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
  bytes.get(start..).unwrap_or_default()
}

impl Key {
  /// Reads one JWK. `Err` carries why the key is not usable for verification; the key set skips it.
  pub fn from_json(value: &serde_json::Value) -> std::result::Result<Key, String> {
    // RFC 7517 §4.3: `key_ops` is an array of distinct strings. serde reads `null` as absent and keeps
    // duplicates, so judge the raw member first: anything else makes the key unusable.
    if let Some(ops) = value.get("key_ops") {
      let distinct_strings = ops.as_array().is_some_and(|ops| {
        let names: Vec<_> = ops.iter().filter_map(serde_json::Value::as_str).collect();
        names.len() == ops.len()
          && names
            .iter()
            .enumerate()
            .all(|(i, name)| !names.iter().take(i).any(|earlier| earlier == name))
      });
      if !distinct_strings {
        return Err("its \"key_ops\" is not an array of distinct strings (RFC 7517 §4.3)".into());
      }
    }
    let jwk: Jwk = serde_json::from_value(value.clone()).map_err(|e| format!("not a JWK: {e}"))?;
    let common = &jwk.common;
    match &common.public_key_use {
      None | Some(PublicKeyUse::Signature) => {}
      Some(_) => return Err("its \"use\" is not \"sig\"".into()),
    }
    if let Some(ops) = &common.key_operations {
      if !ops.iter().any(|op| matches!(op, KeyOperations::Verify)) {
        return Err("its \"key_ops\" lack \"verify\"".into());
      }
    }
    let alg = match &common.key_algorithm {
      None => None,
      Some(key_alg) => Some(key_algorithm(key_alg).ok_or("its \"alg\" is not a signature algorithm we verify")?),
    };
    let material = match &jwk.algorithm {
      AlgorithmParameters::RSA(rsa) => {
        let n = b64(&rsa.n, "n")?;
        let e = b64(&rsa.e, "e")?;
        let n = strip_leading_zeros(&n).to_vec();
        // `n` has no leading zero byte now, so its first byte has at most 7 leading zero bits. An empty
        // `n` has 0 bits (found by fuzzing: computing `0 * 8 - 8` overflowed).
        let bits = n.first().map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize);
        if bits < MIN_RSA_BITS {
          return Err(format!("its RSA modulus has {bits} bits, under {MIN_RSA_BITS}"));
        }
        let e = strip_leading_zeros(&e).to_vec();
        // The crypto library accepts e = 1 (which makes every signature forgeable) and even exponents;
        // refuse them here, with ring's range: odd, 3 ..= 2^33 - 1.
        let exponent = if e.len() <= 8 {
          e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        } else {
          u64::MAX
        };
        if exponent < 3 || exponent % 2 == 0 || exponent > (1u64 << 33) - 1 {
          return Err("its RSA public exponent is not an odd number from 3 to 2^33 - 1".into());
        }
        if has_roca_fingerprint(&n) {
          return Err(
            "its RSA modulus has the ROCA fingerprint (CVE-2017-15361): its private key can be computed".into(),
          );
        }
        Material::Rsa { n, e }
      }
      AlgorithmParameters::EllipticCurve(ec) => {
        let size = match ec.curve {
          EllipticCurve::P256 => 32,
          EllipticCurve::P384 => 48,
          _ => return Err("its curve is not P-256 or P-384".into()),
        };
        let (x, y) = (b64(&ec.x, "x")?, b64(&ec.y, "y")?);
        if x.len() != size || y.len() != size {
          return Err("its coordinates have the wrong length".into());
        }
        let mut point = Vec::with_capacity(1 + 2 * size);
        point.push(4);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Material::Ec {
          curve: ec.curve.clone(),
          point,
        }
      }
      AlgorithmParameters::OctetKeyPair(okp) => {
        if okp.curve != EllipticCurve::Ed25519 {
          return Err("its OKP curve is not Ed25519".into());
        }
        let x = b64(&okp.x, "x")?;
        if x.len() != 32 {
          return Err("its Ed25519 key is not 32 bytes".into());
        }
        ed25519_usable(&x)?;
        Material::Ed25519 { x }
      }
      _ => return Err("its \"kty\" is not RSA, EC or OKP".into()),
    };
    let key = Key {
      kid: common.key_id.clone(),
      alg,
      material,
      parsed: Default::default(),
    };
    if let Some(alg) = alg {
      if !key.fits(alg) {
        return Err("its \"alg\" does not fit its key type".into());
      }
    }
    // Parse eagerly for the key's own algorithm (or RS256, Hanko's) so a bad key is skipped now, not
    // found bad on the first request.
    let probe = alg.unwrap_or(match key.material {
      Material::Rsa { .. } => Algorithm::RS256,
      Material::Ec {
        curve: EllipticCurve::P384,
        ..
      } => Algorithm::ES384,
      Material::Ec { .. } => Algorithm::ES256,
      Material::Ed25519 { .. } => Algorithm::EdDSA,
    });
    if key.parsed_for(probe).is_none() {
      return Err("its key material was rejected by the crypto library".into());
    }
    Ok(key)
  }

  /// `kty`/`crv` fit the algorithm.
  pub fn fits(&self, alg: Algorithm) -> bool {
    match (&self.material, alg) {
      (Material::Rsa { .. }, a) => rsa_parameters(a).is_some(),
      (
        Material::Ec {
          curve: EllipticCurve::P256,
          ..
        },
        Algorithm::ES256,
      ) => true,
      (
        Material::Ec {
          curve: EllipticCurve::P384,
          ..
        },
        Algorithm::ES384,
      ) => true,
      (Material::Ed25519 { .. }, Algorithm::EdDSA) => true,
      _ => false,
    }
  }

  /// Usable for a token signed with `alg` (RFC 7517 §4, RFC 8725 §3).
  pub fn usable_for(&self, alg: Algorithm) -> bool {
    self.alg.is_none_or(|own| own == alg) && self.fits(alg)
  }

  fn parsed_for(&self, alg: Algorithm) -> Option<&ParsedPublicKey> {
    let cell = self.parsed.get(slot(alg)?)?;
    cell
      .get_or_init(|| match &self.material {
        Material::Rsa { n, e } => {
          let components = RsaPublicKeyComponents {
            n: n.as_slice(),
            e: e.as_slice(),
          };
          components.to_parsed_public_key(rsa_parameters(alg)?).ok()
        }
        Material::Ec { point, .. } => ParsedPublicKey::new(curve_algorithm(alg)?, point).ok(),
        Material::Ed25519 { x } => ParsedPublicKey::new(curve_algorithm(alg)?, x).ok(),
      })
      .as_ref()
  }

  /// Verifies `signature` over `message` with this key and `alg` (RFC 7518 §3).
  pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> Result<()> {
    let failed = || Error::new(Code::JwsSignatureVerificationFailed, "the signature does not verify");
    if !self.usable_for(alg) {
      return Err(failed());
    }
    let parsed = self.parsed_for(alg).ok_or_else(failed)?;
    parsed.verify_sig(message, signature).map_err(|_| failed())
  }
}

fn key_algorithm(alg: &KeyAlgorithm) -> Option<Algorithm> {
  Some(match alg {
    KeyAlgorithm::RS256 => Algorithm::RS256,
    KeyAlgorithm::RS384 => Algorithm::RS384,
    KeyAlgorithm::RS512 => Algorithm::RS512,
    KeyAlgorithm::PS256 => Algorithm::PS256,
    KeyAlgorithm::PS384 => Algorithm::PS384,
    KeyAlgorithm::PS512 => Algorithm::PS512,
    KeyAlgorithm::ES256 => Algorithm::ES256,
    KeyAlgorithm::ES384 => Algorithm::ES384,
    KeyAlgorithm::EdDSA => Algorithm::EdDSA,
    _ => return None,
  })
}

#[cfg(test)]
pub(crate) mod tests {
  #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
  use super::*;
  use serde_json::json;

  /// RFC 7515 Appendix A.2 (RS256): key and signed token.
  pub const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
  pub const A2_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
  /// RFC 7515 Appendix A.3 (ES256).
  pub const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
  pub const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
  pub const A3_TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

  fn split(token: &str) -> (&[u8], Vec<u8>) {
    let (input, sig) = token.rsplit_once('.').unwrap();
    (input.as_bytes(), URL_SAFE_NO_PAD.decode(sig).unwrap())
  }

  #[test]
  fn jsonwebtoken_has_exactly_one_crypto_backend() {
    // jsonwebtoken >= 10 checks its backend at run time and panics on first use with none or two.
    let key = jsonwebtoken::DecodingKey::from_rsa_components(A2_N, "AQAB").unwrap();
    let (input, sig) = A2_TOKEN.rsplit_once('.').unwrap();
    assert!(jsonwebtoken::crypto::verify(sig, input.as_bytes(), &key, Algorithm::RS256).unwrap());
  }

  #[test]
  fn rfc7515_a2_rs256_verifies_and_a_flipped_bit_does_not() {
    let key = Key::from_json(&json!({"kty":"RSA","n":A2_N,"e":"AQAB","kid":"a2","use":"sig"})).unwrap();
    let (input, mut sig) = split(A2_TOKEN);
    key.verify(Algorithm::RS256, input, &sig).unwrap();
    assert!(
      key.verify(Algorithm::PS256, input, &sig).is_err(),
      "wrong padding scheme"
    );
    sig[10] ^= 1;
    let err = key.verify(Algorithm::RS256, input, &sig).unwrap_err();
    assert_eq!(err.code.as_str(), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
  }

  #[test]
  fn rfc7515_a3_es256_verifies() {
    let key = Key::from_json(&json!({"kty":"EC","crv":"P-256","x":A3_X,"y":A3_Y})).unwrap();
    let (input, sig) = split(A3_TOKEN);
    key.verify(Algorithm::ES256, input, &sig).unwrap();
    assert!(!key.usable_for(Algorithm::RS256));
    assert!(key.verify(Algorithm::ES384, input, &sig).is_err());
  }

  /// `base^exp` as big-endian bytes (schoolbook; test-sized numbers only).
  fn power_bytes(base: u32, exp: u32) -> Vec<u8> {
    let mut little = vec![1u8];
    for _ in 0..exp {
      let mut carry = 0u64;
      for digit in little.iter_mut() {
        let value = u64::from(*digit) * u64::from(base) + carry;
        *digit = (value & 0xff) as u8;
        carry = value >> 8;
      }
      while carry > 0 {
        little.push((carry & 0xff) as u8);
        carry >>= 8;
      }
    }
    little.reverse();
    little
  }

  #[test]
  fn roca_fingerprint() {
    // Every power of 65537 has, modulo each test prime, a residue in the subgroup 65537 generates:
    // exactly the fingerprint (the vulnerable library's primes are such powers modulo a primorial).
    let fingerprinted = power_bytes(65537, 130); // 2081 bits
    assert!(has_roca_fingerprint(&fingerprinted));
    let mut broken = fingerprinted.clone();
    if let Some(last) = broken.last_mut() {
      *last ^= 1;
    }
    assert!(!has_roca_fingerprint(&broken), "one bit off: no fingerprint");
    assert!(
      !has_roca_fingerprint(&URL_SAFE_NO_PAD.decode(A2_N).unwrap()),
      "RFC 7515's key is fine"
    );
    let n = URL_SAFE_NO_PAD.encode(&fingerprinted);
    let err = Key::from_json(&json!({"kty":"RSA","n":n,"e":"AQAB"})).unwrap_err();
    assert!(err.contains("ROCA"), "{err}");
  }

  #[test]
  fn ed25519_small_order_and_non_canonical_keys_are_refused() {
    let key = |bytes: [u8; 32]| Key::from_json(&json!({"kty":"OKP","crv":"Ed25519","x":URL_SAFE_NO_PAD.encode(bytes)}));
    let mut identity = [0u8; 32];
    identity[0] = 1; // y = 1: the identity, order 1
    assert!(key(identity).unwrap_err().contains("small order"));
    let mut minus_one = [0xffu8; 32]; // y = p - 1: order 2
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    assert!(key(minus_one).unwrap_err().contains("small order"));
    let mut y_is_p_plus_one = [0xffu8; 32]; // y = p + 1 ≡ 1: the identity, not canonically encoded
    y_is_p_plus_one[0] = 0xee;
    y_is_p_plus_one[31] = 0x7f;
    assert!(key(y_is_p_plus_one).is_err());
    let mut negative_zero = identity; // x = 0 with the sign bit set
    negative_zero[31] = 0x80;
    assert!(key(negative_zero).is_err());
    // RFC 8032 §7.1 test 1's public key is usable.
    let rfc8032: [u8; 32] = URL_SAFE_NO_PAD
      .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
      .unwrap()
      .try_into()
      .unwrap();
    assert!(key(rfc8032).is_ok());
  }

  #[test]
  fn unusable_keys_are_refused_with_a_reason() {
    let short_n = URL_SAFE_NO_PAD.encode([0xC5u8; 128]); // 1024 bits
    let cases = [
      json!({"kty":"RSA","n":short_n,"e":"AQAB"}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAB","use":"enc"}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAB","key_ops":["encrypt"]}),
      // key_ops must be an array of distinct strings (issue #13 item 10).
      json!({"kty":"RSA","n":A2_N,"e":"AQAB","key_ops":null}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAB","key_ops":"verify"}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAB","key_ops":["verify","verify"]}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAB","key_ops":["verify",7]}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAB","alg":"RSA-OAEP"}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAB","alg":"ES256"}),
      json!({"kty":"RSA","n":"***","e":"AQAB"}),
      json!({"kty":"RSA","n":A2_N,"e":"AQ"}),
      json!({"kty":"RSA","n":"","e":"AQAB"}),
      json!({"kty":"RSA","n":"AAAA","e":"AQAB"}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAA"}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAAAAAAAAAAAQ"}),
      json!({"kty":"oct","k":"c2VjcmV0"}),
      json!({"kty":"EC","crv":"P-521","x":A3_X,"y":A3_Y}),
      json!({"kty":"EC","crv":"P-256","x":A3_X,"y":A3_X}),
      json!({"kty":"OKP","crv":"Ed25519","x":"AAAA"}),
      json!({"kty":"RSA","n":A2_N,"e":"AQAB","kid":5}),
      json!("not an object"),
    ];
    for case in cases {
      assert!(Key::from_json(&case).is_err(), "{case}");
    }
  }

  #[test]
  fn a_key_with_its_own_alg_serves_only_that_alg() {
    let key = Key::from_json(&json!({"kty":"RSA","n":A2_N,"e":"AQAB","alg":"RS256"})).unwrap();
    assert!(key.usable_for(Algorithm::RS256));
    assert!(!key.usable_for(Algorithm::RS512));
    let any = Key::from_json(&json!({"kty":"RSA","n":A2_N,"e":"AQAB"})).unwrap();
    assert!(any.usable_for(Algorithm::PS384));
  }
}
