//! Claim checks (RFC 7519 §4.1) against a clock the caller passes in.

use crate::error::{reason, Code, Error, Result};
use serde_json::{Map, Value};

/// What the claims must satisfy. Built once per verifier (defaults: `config`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRules {
  /// Token `aud` must contain one of these (when not empty).
  pub audience: Vec<String>,
  /// Token `iss` must equal one of these (when not empty).
  pub issuer: Vec<String>,
  pub subject: Option<String>,
  /// Seconds of leeway for `exp`, `nbf` and `iat`. Default 0.
  pub clock_tolerance: f64,
  /// Seconds a token stays acceptable after its `iat`.
  pub max_token_age: Option<f64>,
  /// Default `["sub", "exp"]`.
  pub required_claims: Vec<String>,
}

/// What the caller needs to know about claims that passed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Checked {
  /// The token's `exp` in seconds, if it has one.
  pub exp: Option<f64>,
  /// The token's `iat` in seconds, if it has one.
  pub iat: Option<f64>,
}

/// The configured values, quoted and short, for a message that says what was expected (the configuration
/// is ours to show; the token's values are not echoed).
fn expected(values: &[String]) -> String {
  let shown: Vec<String> = values
    .iter()
    .take(3)
    .map(|v| format!("{:?}", crate::jws::truncate(v)))
    .collect();
  let more = if values.len() > 3 {
    format!(" and {} more", values.len() - 3)
  } else {
    String::new()
  };
  format!("{}{more}", shown.join(", "))
}

fn failed(claim: &'static str, why: &'static str, message: String) -> Error {
  Error::claim(Code::JwtClaimValidationFailed, claim, why, message)
}

fn numeric_date(claims: &Map<String, Value>, claim: &'static str) -> Result<Option<f64>> {
  match claims.get(claim) {
    None => Ok(None),
    Some(Value::Number(n)) => match n.as_f64() {
      Some(v) if v.is_finite() => Ok(Some(v)),
      _ => Err(failed(
        claim,
        reason::INVALID,
        format!("\"{claim}\" claim must be a finite number"),
      )),
    },
    Some(_) => Err(failed(
      claim,
      reason::INVALID,
      format!("\"{claim}\" claim must be a number"),
    )),
  }
}

fn string_claim<'a>(claims: &'a Map<String, Value>, claim: &'static str) -> Result<Option<&'a str>> {
  match claims.get(claim) {
    None => Ok(None),
    Some(Value::String(s)) => Ok(Some(s)),
    Some(_) => Err(failed(
      claim,
      reason::INVALID,
      format!("\"{claim}\" claim must be a string"),
    )),
  }
}

impl ClaimRules {
  /// Checks the claims at `now` (seconds since the epoch), in the documented order.
  pub fn check(&self, claims: &Map<String, Value>, now: f64) -> Result<Checked> {
    let tolerance = self.clock_tolerance;
    let exp = numeric_date(claims, "exp")?;
    if let Some(exp) = exp {
      if now >= exp + tolerance {
        return Err(Error::claim(
          Code::JwtExpired,
          "exp",
          reason::CHECK_FAILED,
          "the token has expired (\"exp\")",
        ));
      }
    }
    if let Some(nbf) = numeric_date(claims, "nbf")? {
      if nbf > now + tolerance {
        return Err(failed(
          "nbf",
          reason::CHECK_FAILED,
          "the token is not valid yet (\"nbf\")".into(),
        ));
      }
    }
    let iat = numeric_date(claims, "iat")?;
    if let Some(iat) = iat {
      if iat > now + tolerance {
        return Err(failed(
          "iat",
          reason::CHECK_FAILED,
          "the token was issued in the future (\"iat\")".into(),
        ));
      }
    }
    if let Some(max_age) = self.max_token_age {
      let Some(iat) = iat else {
        return Err(failed(
          "iat",
          reason::MISSING,
          "\"iat\" claim is needed to check maxTokenAge".into(),
        ));
      };
      if now - iat > max_age + tolerance {
        return Err(Error::claim(
          Code::JwtExpired,
          "iat",
          reason::CHECK_FAILED,
          format!("the token's \"iat\" is older than maxTokenAge ({max_age} s)"),
        ));
      }
    }

    let aud = claims.get("aud");
    let aud_values: Vec<&str> = match aud {
      None => vec![],
      Some(Value::String(s)) => vec![s.as_str()],
      Some(Value::Array(items)) => items
        .iter()
        .map(Value::as_str)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
          failed(
            "aud",
            reason::INVALID,
            "\"aud\" claim must be a string or an array of strings".into(),
          )
        })?,
      Some(_) => {
        return Err(failed(
          "aud",
          reason::INVALID,
          "\"aud\" claim must be a string or an array of strings".into(),
        ))
      }
    };
    if !self.audience.is_empty() {
      if aud.is_none() {
        return Err(failed(
          "aud",
          reason::MISSING,
          format!(
            "\"aud\" claim is missing; expected {} (option audience)",
            expected(&self.audience)
          ),
        ));
      }
      if !aud_values.iter().any(|a| self.audience.iter().any(|want| want == a)) {
        return Err(failed(
          "aud",
          reason::CHECK_FAILED,
          format!(
            "the token's \"aud\" does not contain the expected audience {} (option audience)",
            expected(&self.audience)
          ),
        ));
      }
    }

    let iss = string_claim(claims, "iss")?;
    if !self.issuer.is_empty() {
      let iss = iss.ok_or_else(|| {
        failed(
          "iss",
          reason::MISSING,
          format!(
            "\"iss\" claim is missing; expected {} (option issuer)",
            expected(&self.issuer)
          ),
        )
      })?;
      if !self.issuer.iter().any(|want| want == iss) {
        return Err(failed(
          "iss",
          reason::CHECK_FAILED,
          format!(
            "the token's \"iss\" is not the expected issuer {} (option issuer)",
            expected(&self.issuer)
          ),
        ));
      }
    }

    let sub = string_claim(claims, "sub")?;
    if let Some(want) = &self.subject {
      let sub = sub.ok_or_else(|| failed("sub", reason::MISSING, "\"sub\" claim is missing".into()))?;
      if sub != want {
        return Err(failed(
          "sub",
          reason::CHECK_FAILED,
          format!(
            "the token's \"sub\" is not the expected subject {} (option subject)",
            expected(std::slice::from_ref(want))
          ),
        ));
      }
    }

    for name in &self.required_claims {
      if !claims.contains_key(name.as_str()) {
        let message = format!(
          "\"{}\" claim is missing (option requiredClaims)",
          crate::jws::truncate(name)
        );
        return Err(Error::claim(
          Code::JwtClaimValidationFailed,
          name.clone(),
          reason::MISSING,
          message,
        ));
      }
    }
    Ok(Checked { exp, iat })
  }

  /// Until when (ms since the epoch) a token with these checked claims stays acceptable: its `exp`,
  /// and `iat + maxTokenAge` when set, each plus the tolerance. `None`: no end (no `exp` required).
  /// A cache may keep the verified token until then, never longer.
  pub fn acceptable_until_ms(&self, checked: &Checked) -> Option<f64> {
    let tolerance = self.clock_tolerance;
    let by_exp = checked.exp.map(|exp| exp + tolerance);
    let by_age = match (self.max_token_age, checked.iat) {
      (Some(max_age), Some(iat)) => Some(iat + max_age + tolerance),
      _ => None,
    };
    let until = match (by_exp, by_age) {
      (Some(a), Some(b)) => Some(a.min(b)),
      (a, b) => a.or(b),
    };
    until.map(|seconds| seconds * 1000.0)
  }
}

#[cfg(test)]
mod tests {
  #![allow(clippy::unwrap_used)]
  use super::*;
  use serde_json::json;

  const NOW: f64 = 1_700_000_000.0;

  fn claims(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
  }
  fn hanko() -> Value {
    json!({"sub":"u1","iat":NOW - 60.0,"exp":NOW + 3600.0,"aud":["localhost"],"session_id":"s1"})
  }
  fn with(field: &str, value: Value) -> Map<String, Value> {
    let mut c = claims(hanko());
    c.insert(field.into(), value);
    c
  }
  fn without(field: &str) -> Map<String, Value> {
    let mut c = claims(hanko());
    c.remove(field);
    c
  }
  fn fail(rules: &ClaimRules, c: &Map<String, Value>) -> (&'static str, Option<String>, Option<&'static str>) {
    let e = rules.check(c, NOW).unwrap_err();
    (e.code.as_str(), e.claim.map(|c| c.into_owned()), e.reason)
  }

  #[test]
  fn a_hanko_token_passes_default_rules() {
    let checked = ClaimRules::default().check(&claims(hanko()), NOW).unwrap();
    assert_eq!(checked.exp, Some(NOW + 3600.0));
  }

  #[test]
  fn exp_boundary_and_tolerance() {
    let rules = ClaimRules::default();
    assert_eq!(
      fail(&rules, &with("exp", json!(NOW))),
      ("ERR_JWT_EXPIRED", Some("exp".into()), Some("check_failed"))
    );
    assert!(rules.check(&with("exp", json!(NOW + 1.0)), NOW).is_ok());
    let tolerant = ClaimRules {
      clock_tolerance: 5.0,
      ..Default::default()
    };
    assert!(tolerant.check(&with("exp", json!(NOW - 4.0)), NOW).is_ok());
    assert_eq!(fail(&tolerant, &with("exp", json!(NOW - 5.0))).0, "ERR_JWT_EXPIRED");
    assert_eq!(
      fail(&rules, &with("exp", json!("9999999999"))),
      ("ERR_JWT_CLAIM_VALIDATION_FAILED", Some("exp".into()), Some("invalid"))
    );
  }

  #[test]
  fn nbf_and_iat() {
    let rules = ClaimRules::default();
    assert_eq!(fail(&rules, &with("nbf", json!(NOW + 10.0))).1, Some("nbf".into()));
    assert!(rules.check(&with("nbf", json!(NOW)), NOW).is_ok());
    assert_eq!(
      fail(&rules, &with("iat", json!(NOW + 10.0))),
      (
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
        Some("iat".into()),
        Some("check_failed")
      )
    );
    assert_eq!(fail(&rules, &with("iat", json!(null))).2, Some("invalid"));
    let aged = ClaimRules {
      max_token_age: Some(30.0),
      ..Default::default()
    };
    assert_eq!(
      fail(&aged, &claims(hanko())),
      ("ERR_JWT_EXPIRED", Some("iat".into()), Some("check_failed"))
    );
    assert_eq!(fail(&aged, &without("iat")).2, Some("missing"));
    let fresh = ClaimRules {
      max_token_age: Some(120.0),
      ..Default::default()
    };
    assert!(fresh.check(&claims(hanko()), NOW).is_ok());
    // An age equal to maxTokenAge passes, as in jose (issue #13 item 12); one second more fails.
    let exact = ClaimRules {
      max_token_age: Some(60.0),
      ..Default::default()
    };
    assert!(
      exact.check(&claims(hanko()), NOW).is_ok(),
      "hanko() is issued at NOW - 60"
    );
    assert_eq!(fail(&exact, &with("iat", json!(NOW - 61.0))).0, "ERR_JWT_EXPIRED");
    let zero = ClaimRules {
      max_token_age: Some(0.0),
      ..Default::default()
    };
    assert!(
      zero.check(&with("iat", json!(NOW)), NOW).is_ok(),
      "maxTokenAge: 0 accepts a token issued this second"
    );
  }

  #[test]
  fn audience_string_or_array() {
    let rules = ClaimRules {
      audience: vec!["app.example".into(), "localhost".into()],
      ..Default::default()
    };
    assert!(rules.check(&claims(hanko()), NOW).is_ok());
    assert!(rules.check(&with("aud", json!("app.example")), NOW).is_ok());
    assert_eq!(fail(&rules, &with("aud", json!(["other"]))).2, Some("check_failed"));
    assert_eq!(fail(&rules, &with("aud", json!([1]))).2, Some("invalid"));
    assert_eq!(fail(&rules, &with("aud", json!({"0":"localhost"}))).2, Some("invalid"));
    assert_eq!(
      fail(&rules, &without("aud")),
      ("ERR_JWT_CLAIM_VALIDATION_FAILED", Some("aud".into()), Some("missing"))
    );
  }

  #[test]
  fn issuer_subject_required() {
    let rules = ClaimRules {
      issuer: vec!["https://hanko".into()],
      ..Default::default()
    };
    assert_eq!(fail(&rules, &claims(hanko())).2, Some("missing"));
    assert_eq!(
      fail(&rules, &with("iss", json!("https://evil"))).2,
      Some("check_failed")
    );
    assert_eq!(fail(&rules, &with("iss", json!(["https://hanko"]))).2, Some("invalid"));
    let sub = ClaimRules {
      subject: Some("u2".into()),
      ..Default::default()
    };
    assert_eq!(fail(&sub, &claims(hanko())).1, Some("sub".into()));
    assert_eq!(
      fail(&ClaimRules::default(), &without("sub")),
      ("ERR_JWT_CLAIM_VALIDATION_FAILED", Some("sub".into()), Some("missing"))
    );
    assert_eq!(fail(&ClaimRules::default(), &without("exp")).1, Some("exp".into()));
    let custom = ClaimRules {
      required_claims: vec!["session_id".into(), "email".into()],
      ..Default::default()
    };
    assert_eq!(fail(&custom, &claims(hanko())).1, Some("email".into()));
  }
}
