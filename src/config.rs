//! Every default, in one place, and the assembled configuration of a verifier.
//!
//! JS validates the shape of what the user passed and leaves out what the user left out; the binding
//! fills the gaps from the `Default` impls here, and hands the same values to JS (`defaults()`) for the
//! parts JS owns (the token cache) and for documentation. Nothing else in either language spells a
//! default out.

use crate::claims::ClaimRules;
use crate::jwks::CacheSettings;
use crate::session::SessionSettings;
use crate::verify::TokenRules;
use jsonwebtoken::Algorithm;
use reqwest::Url;

impl Default for CacheSettings {
  fn default() -> Self {
    CacheSettings {
      cache_max_age: 600_000,
      min_cache_age: 30_000,
      max_cache_age: 86_400_000,
      cooldown: 30_000,
      timeout: 5_000,
      max_stale: 86_400_000,
      max_bytes: 1_048_576,
    }
  }
}

impl Default for ClaimRules {
  fn default() -> Self {
    ClaimRules {
      audience: vec![],
      issuer: vec![],
      subject: None,
      clock_tolerance: 0.0,
      max_token_age: None,
      required_claims: vec!["sub".into(), "exp".into()],
    }
  }
}

impl Default for TokenRules {
  fn default() -> Self {
    TokenRules {
      algorithms: vec![Algorithm::RS256],
      claims: ClaimRules::default(),
      typ: None,
    }
  }
}

impl Default for SessionSettings {
  fn default() -> Self {
    SessionSettings {
      ttl: 30_000,
      max_entries: 10_000,
      fail_open: false,
    }
  }
}

/// The verified-token cache, which lives in JS (a cache hit must not cross into Rust).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCacheSettings {
  /// Entries at most. Default 10 000.
  pub max_entries: u32,
}

impl Default for TokenCacheSettings {
  fn default() -> Self {
    TokenCacheSettings { max_entries: 10_000 }
  }
}

/// `validateSession`: where Hanko's session endpoint is, and how answers are cached.
#[derive(Debug, Clone)]
pub struct SessionConfig {
  /// `<jwksHost>/sessions/validate`.
  pub url: Url,
  pub settings: SessionSettings,
}

/// Everything a verifier is made from; `verify::Verifier::from_config` assembles the parts.
#[derive(Debug, Clone)]
pub struct Config {
  pub jwks_uri: Url,
  pub allow_insecure_http: bool,
  /// Extra request headers for the key set (sorted, so equal sets share one cache).
  pub headers: Vec<(String, String)>,
  pub cache: CacheSettings,
  pub rules: TokenRules,
  pub session: Option<SessionConfig>,
  /// Write `NODE_DEBUG=hanko-auth` lines to stderr.
  pub debug: bool,
}

/// `<Hanko API URL>/<path>`, keeping a tenant path (`<api>/<tenant_id>`): the JWKS and the session
/// endpoint both live under the Hanko API URL.
pub fn under_host(host: &str, path: &str) -> Result<String, String> {
  let mut base =
    Url::parse(host).map_err(|_| format!("jwksHost is not a valid URL: {:?}", crate::jws::truncate(host)))?;
  if !base.path().ends_with('/') {
    let with_slash = format!("{}/", base.path());
    base.set_path(&with_slash);
  }
  base
    .join(path)
    .map(String::from)
    .map_err(|e| format!("jwksHost: cannot build the {path} URL: {e}"))
}

/// Whether `NODE_DEBUG` names us (Node's own convention for `util.debuglog`).
pub fn debug_from_env() -> bool {
  std::env::var("NODE_DEBUG").is_ok_and(|v| {
    v.split([',', ' '])
      .any(|s| s.eq_ignore_ascii_case("hanko-auth") || s == "*")
  })
}

#[cfg(test)]
mod tests {
  #![allow(clippy::unwrap_used)]
  use super::*;

  #[test]
  fn urls_under_the_hanko_host_keep_a_tenant_path() {
    assert_eq!(
      under_host("https://x.hanko.io", ".well-known/jwks.json").unwrap(),
      "https://x.hanko.io/.well-known/jwks.json"
    );
    assert_eq!(
      under_host("https://x.hanko.io/tenant-1", "sessions/validate").unwrap(),
      "https://x.hanko.io/tenant-1/sessions/validate"
    );
    assert_eq!(
      under_host("http://127.0.0.1:8000/t/", ".well-known/jwks.json").unwrap(),
      "http://127.0.0.1:8000/t/.well-known/jwks.json"
    );
    assert!(under_host("not a url", "x").unwrap_err().contains("jwksHost"));
  }
}
