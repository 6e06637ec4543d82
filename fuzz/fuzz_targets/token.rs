//! Token parsing and the whole verification (RFC 7515 / RFC 7519) against a fixed key set: RSA, EC and Ed25519.
#![no_main]

use hanko_auth::clock::ManualClock;
use hanko_auth::fetch::{BoxFuture, Fetch, Fetched};
use hanko_auth::jwks::{CacheSettings, KeyCache, Wait};
use hanko_auth::verify::{Attempt, TokenRules, Verifier};
use jsonwebtoken::Algorithm;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// RFC 7515 A.2 (RSA, kid "rsa"), A.3 (P-256, kid "ec") and RFC 8037 A.2 (Ed25519, kid "ed").
const KEY_SET: &str = r#"{"keys":[
  {"kty":"RSA","kid":"rsa","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"},
  {"kty":"EC","kid":"ec","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
  {"kty":"OKP","kid":"ed","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
]}"#;

struct Fixed;
impl Fetch for Fixed {
  fn fetch(&self) -> BoxFuture<hanko_auth::error::Result<Fetched>> {
    Box::pin(async { Ok(Fetched { body: KEY_SET.as_bytes().to_vec(), max_age_ms: None, status: 200 }) })
  }
}

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
  // Well before the RFC tokens' exp (1300819380), so their claims pass too.
  let clock = ManualClock::at(1_300_000_000_000);
  let keys = KeyCache::new(CacheSettings::default(), clock.clone(), Box::new(Fixed));
  let runtime = hanko_auth::runtime::get().unwrap_or_else(|e| panic!("runtime: {e}"));
  runtime.block_on(keys.reload()).unwrap_or_else(|e| panic!("key set: {e}"));
  let rules = TokenRules {
    algorithms: vec![Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA],
    claims: hanko_auth::claims::ClaimRules { required_claims: vec![], ..Default::default() },
    typ: None,
  };
  Verifier::new(rules, keys, None, clock)
});

fuzz_target!(|data: &[u8]| {
  let Ok(token) = std::str::from_utf8(data) else { return };
  match VERIFIER.attempt(token, Wait::Never) {
    Attempt::Done(_) => {}
    Attempt::NeedFetch(..) => panic!("a verifier that may not wait asked to"),
  }
});
