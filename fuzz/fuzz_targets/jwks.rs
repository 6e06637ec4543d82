//! JWKS document parsing, then key selection for every algorithm.
#![no_main]

use hanko_auth::jwks::KeySet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
  let Ok(set) = KeySet::parse(data, None) else { return };
  assert!(!set.keys.is_empty(), "a parsed key set has a usable key");
  for alg in hanko_auth::jwk::ALGORITHMS {
    if let Ok(key) = set.select(None, alg) {
      let _ = key.verify(alg, b"message", b"signature");
    }
    for kid in set.kids() {
      let _ = set.select(Some(&kid), alg);
    }
  }
});
