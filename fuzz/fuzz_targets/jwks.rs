//! JWKS document parsing, then key selection for every algorithm.
#![no_main]

use hanko_auth::jwks::KeySet;
use jsonwebtoken::Algorithm;
use libfuzzer_sys::fuzz_target;

const ALGS: [Algorithm; 9] = [
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

fuzz_target!(|data: &[u8]| {
  let Ok(set) = KeySet::parse(data, None) else { return };
  assert!(!set.keys.is_empty(), "a parsed key set has a usable key");
  for alg in ALGS {
    if let Ok(key) = set.select(None, alg) {
      let _ = key.verify(alg, b"message", b"signature");
    }
    for kid in set.kids() {
      let _ = set.select(Some(&kid), alg);
    }
  }
});
