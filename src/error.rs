//! One error type for the whole core, with one table of stable codes.
//!
//! Codes are the contract (they follow jose's names); messages are for people and may change.

use std::borrow::Cow;
use std::fmt;

/// Which JS class a failure maps to: a problem with the token, or with getting the key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
  /// `JwtError`: the token is bad (401).
  Token,
  /// `JwksError`: the key set (or session service) cannot be had (503).
  Unavailable,
}

/// The stable failure codes. Adding one is a minor release; renaming one is a major release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
  JwtExpired,
  JwtClaimValidationFailed,
  JwsSignatureVerificationFailed,
  JwsInvalid,
  JwtInvalid,
  AlgNotAllowed,
  JwksNoMatchingKey,
  JwksMultipleMatchingKeys,
  SessionInvalid,
  /// No token at all (the inner error of `credentials_required`).
  JwtMissing,
  JwksTimeout,
  JwksUnavailable,
  JwksInvalid,
  JwksNotLoaded,
  SessionUnavailable,
}

impl Code {
  pub const ALL: [Code; 15] = [
    Code::JwtExpired,
    Code::JwtClaimValidationFailed,
    Code::JwsSignatureVerificationFailed,
    Code::JwsInvalid,
    Code::JwtInvalid,
    Code::AlgNotAllowed,
    Code::JwksNoMatchingKey,
    Code::JwksMultipleMatchingKeys,
    Code::SessionInvalid,
    Code::JwtMissing,
    Code::JwksTimeout,
    Code::JwksUnavailable,
    Code::JwksInvalid,
    Code::JwksNotLoaded,
    Code::SessionUnavailable,
  ];

  /// The table: code, and which class it belongs to.
  pub const fn describe(self) -> (&'static str, Kind) {
    match self {
      Code::JwtExpired => ("ERR_JWT_EXPIRED", Kind::Token),
      Code::JwtClaimValidationFailed => ("ERR_JWT_CLAIM_VALIDATION_FAILED", Kind::Token),
      Code::JwsSignatureVerificationFailed => ("ERR_JWS_SIGNATURE_VERIFICATION_FAILED", Kind::Token),
      Code::JwsInvalid => ("ERR_JWS_INVALID", Kind::Token),
      Code::JwtInvalid => ("ERR_JWT_INVALID", Kind::Token),
      Code::AlgNotAllowed => ("ERR_JOSE_ALG_NOT_ALLOWED", Kind::Token),
      Code::JwksNoMatchingKey => ("ERR_JWKS_NO_MATCHING_KEY", Kind::Token),
      Code::JwksMultipleMatchingKeys => ("ERR_JWKS_MULTIPLE_MATCHING_KEYS", Kind::Token),
      Code::SessionInvalid => ("ERR_SESSION_INVALID", Kind::Token),
      Code::JwtMissing => ("ERR_JWT_MISSING", Kind::Token),
      Code::JwksTimeout => ("ERR_JWKS_TIMEOUT", Kind::Unavailable),
      Code::JwksUnavailable => ("ERR_JWKS_UNAVAILABLE", Kind::Unavailable),
      Code::JwksInvalid => ("ERR_JWKS_INVALID", Kind::Unavailable),
      Code::JwksNotLoaded => ("ERR_JWKS_NOT_LOADED", Kind::Unavailable),
      Code::SessionUnavailable => ("ERR_SESSION_UNAVAILABLE", Kind::Unavailable),
    }
  }

  pub const fn as_str(self) -> &'static str {
    self.describe().0
  }

  pub const fn kind(self) -> Kind {
    self.describe().1
  }
}

/// jose's `reason` values for claim failures.
pub mod reason {
  pub const CHECK_FAILED: &str = "check_failed";
  pub const MISSING: &str = "missing";
  pub const INVALID: &str = "invalid";
}

/// A failure, as data: the binding hands it to JS, which throws the right class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
  pub code: Code,
  pub message: String,
  pub claim: Option<Cow<'static, str>>,
  pub reason: Option<&'static str>,
}

impl Error {
  pub fn new(code: Code, message: impl Into<String>) -> Self {
    Error {
      code,
      message: message.into(),
      claim: None,
      reason: None,
    }
  }

  /// A claim check failed (`ERR_JWT_CLAIM_VALIDATION_FAILED` or `ERR_JWT_EXPIRED`).
  pub fn claim(
    code: Code,
    claim: impl Into<Cow<'static, str>>,
    reason: &'static str,
    message: impl Into<String>,
  ) -> Self {
    Error {
      code,
      message: message.into(),
      claim: Some(claim.into()),
      reason: Some(reason),
    }
  }

  pub fn kind(&self) -> Kind {
    self.code.kind()
  }
}

impl fmt::Display for Error {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{} ({})", self.message, self.code.as_str())
  }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn codes_are_unique_and_prefixed() {
    let mut seen = std::collections::HashSet::new();
    for code in Code::ALL {
      assert!(code.as_str().starts_with("ERR_"));
      assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
    }
  }

  #[test]
  fn unavailable_codes_are_the_key_set_and_session_ones() {
    let unavailable: Vec<_> = Code::ALL
      .iter()
      .filter(|c| c.kind() == Kind::Unavailable)
      .map(|c| c.as_str())
      .collect();
    assert_eq!(
      unavailable,
      [
        "ERR_JWKS_TIMEOUT",
        "ERR_JWKS_UNAVAILABLE",
        "ERR_JWKS_INVALID",
        "ERR_JWKS_NOT_LOADED",
        "ERR_SESSION_UNAVAILABLE"
      ]
    );
  }
}
