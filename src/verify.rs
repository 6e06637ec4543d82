//! The verifier: SPEC §3 rules 1–5, in that order, over a shared key cache.

use crate::claims::{Checked, ClaimRules};
use crate::clock::Clock;
use crate::error::{reason, Code, Error, Result};
use crate::jwks::{KeyCache, Lookup};
use crate::jws;
use jsonwebtoken::Algorithm;
use std::sync::Arc;

/// Token rules of one verifier (the key cache may be shared by verifiers with other rules).
#[derive(Debug, Clone)]
pub struct TokenRules {
  /// Default `[RS256]`.
  pub algorithms: Vec<Algorithm>,
  pub claims: ClaimRules,
  /// When set, the header `typ` must match it.
  pub typ: Option<String>,
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

/// A token that passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
  /// The payload JSON exactly as signed.
  pub payload_json: String,
  /// `exp` in seconds, when present.
  pub exp: Option<f64>,
}

/// The outcome of a verification that may not wait.
pub enum Attempt {
  Done(Result<Verified>),
  /// The key set must be fetched first; call [`Verifier::verify`].
  NeedFetch,
}

pub struct Verifier {
  pub rules: TokenRules,
  pub keys: Arc<KeyCache>,
  clock: Arc<dyn Clock>,
}

impl Verifier {
  pub fn new(rules: TokenRules, keys: Arc<KeyCache>, clock: Arc<dyn Clock>) -> Verifier {
    Verifier { rules, keys, clock }
  }

  /// Verifies with the keys at hand. With `may_wait`, a needed fetch is reported as `NeedFetch`;
  /// without it, the fetch starts in the background and the token fails now (`verifySync`).
  pub fn attempt(&self, token: &str, may_wait: bool) -> Attempt {
    let parsed = match jws::parse(token, &self.rules.algorithms) {
      Ok(parsed) => parsed,
      Err(err) => return Attempt::Done(Err(err)),
    };
    match self
      .keys
      .lookup(parsed.header.kid.as_deref(), parsed.header.alg, may_wait)
    {
      Lookup::Found(key) => Attempt::Done(self.finish(&parsed, &key)),
      Lookup::Failed(err) => Attempt::Done(Err(err)),
      Lookup::NeedFetch => Attempt::NeedFetch,
    }
  }

  /// Verifies, fetching the key set when it must (at most one fetch per call, shared with others).
  pub async fn verify(&self, token: &str) -> Result<Verified> {
    if let Attempt::Done(result) = self.attempt(token, true) {
      return result;
    }
    let parsed = jws::parse(token, &self.rules.algorithms)?;
    let key = self
      .keys
      .key_for(parsed.header.kid.as_deref(), parsed.header.alg)
      .await?;
    self.finish(&parsed, &key)
  }

  /// Rules 4 and 5, plus `typ`.
  fn finish(&self, parsed: &jws::ParsedToken<'_>, key: &crate::jwk::Key) -> Result<Verified> {
    key.verify(parsed.header.alg, parsed.signing_input, &parsed.signature)?;
    if let Some(expected) = &self.rules.typ {
      let matches = parsed
        .header
        .typ
        .as_deref()
        .is_some_and(|actual| jws::typ_matches(expected, actual));
      if !matches {
        return Err(Error::claim(
          Code::JwtClaimValidationFailed,
          "typ",
          reason::CHECK_FAILED,
          "unexpected \"typ\" header value",
        ));
      }
    }
    let now = self.clock.now_ms() as f64 / 1000.0;
    let Checked { exp } = self.rules.claims.check(&parsed.claims, now)?;
    Ok(Verified {
      payload_json: parsed.payload_json.clone(),
      exp,
    })
  }
}
