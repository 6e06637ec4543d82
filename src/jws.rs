//! Compact JWS parsing (RFC 7515 §5.2 steps 1–4): structure, base64url, JSON objects, `alg`, `crit`.
//!
//! Written by hand rather than with `jsonwebtoken::decode`: that function needs the key before it looks
//! at the header, re-parses the key on every call and cannot reject duplicate JSON members.

use crate::error::{Code, Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};
use std::str::FromStr;

/// Tokens longer than this are refused before any decoding (RFC 7515 §7.1; README: Security notes).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Parses the name of an algorithm we verify (`jwk::ALGORITHMS`, the one list); `None` for names we
/// never verify (`none`, `HS*`, unknown).
pub fn supported_algorithm(name: &str) -> Option<Algorithm> {
  Algorithm::from_str(name)
    .ok()
    .filter(|alg| crate::jwk::ALGORITHMS.contains(alg) && algorithm_name(*alg) == name)
}

/// The JOSE name of an algorithm (RFC 7518 §3.1), e.g. `"RS256"`.
pub fn algorithm_name(alg: Algorithm) -> String {
  format!("{alg:?}")
}

/// The protected header members we act on. `jku`, `x5u`, `jwk` and `x5c` are deliberately ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
  pub alg: Algorithm,
  pub kid: Option<String>,
  pub typ: Option<String>,
}

/// A token that passed rules 1 and 2: well formed, allowed algorithm. Its signature is not checked yet.
#[derive(Debug)]
pub struct ParsedToken {
  pub header: Header,
  /// `<header>.<payload>` exactly as sent: the signed bytes.
  /// Owned, so a verification that must wait for the key set carries it across the await.
  pub signing_input: Vec<u8>,
  pub signature: Vec<u8>,
  /// The decoded payload JSON text, handed to JS as is.
  pub payload_json: String,
  pub claims: Map<String, Value>,
}

fn jws_invalid(message: &str) -> Error {
  Error::new(Code::JwsInvalid, message)
}

fn decode_segment(segment: &str, what: &str) -> Result<Vec<u8>> {
  // URL_SAFE_NO_PAD refuses padding, the standard alphabet and non-canonical trailing bits.
  URL_SAFE_NO_PAD
    .decode(segment)
    .map_err(|_| jws_invalid(&format!("the {what} segment is not base64url without padding")))
}

/// Parses a JSON object, refusing duplicate member names at every depth (serde_json would keep the last
/// one silently, and two parsers that disagree on which one wins is a classic token-confusion bug; RFC
/// 7515 §5.2 step 4 and RFC 7519 §7.2 step 4 let a verifier refuse them). Nesting stays bounded by
/// serde_json's recursion limit.
pub fn parse_json_object(bytes: &[u8]) -> std::result::Result<Map<String, Value>, String> {
  use serde::de::Deserializer;
  let mut de = serde_json::Deserializer::from_slice(bytes);
  let object = de.deserialize_map(unique::UniqueVisitor).map_err(|e| e.to_string())?;
  de.end().map_err(|e| e.to_string())?;
  match object {
    Value::Object(map) => Ok(map),
    _ => Err("not a JSON object".into()),
  }
}

/// A `serde_json::Value` that refuses a member name repeated in any object it contains.
mod unique {
  use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
  use serde_json::{Map, Number, Value};
  use std::fmt;

  pub struct UniqueVisitor;

  struct Unique(Value);

  impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
      deserializer.deserialize_any(UniqueVisitor).map(Unique)
    }
  }

  impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
      f.write_str("JSON")
    }
    fn visit_bool<E: Error>(self, v: bool) -> Result<Value, E> {
      Ok(Value::Bool(v))
    }
    fn visit_i64<E: Error>(self, v: i64) -> Result<Value, E> {
      Ok(Value::Number(v.into()))
    }
    fn visit_u64<E: Error>(self, v: u64) -> Result<Value, E> {
      Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: Error>(self, v: f64) -> Result<Value, E> {
      Number::from_f64(v)
        .map(Value::Number)
        .ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_str<E: Error>(self, v: &str) -> Result<Value, E> {
      Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: Error>(self, v: String) -> Result<Value, E> {
      Ok(Value::String(v))
    }
    fn visit_unit<E: Error>(self) -> Result<Value, E> {
      Ok(Value::Null)
    }
    fn visit_none<E: Error>(self) -> Result<Value, E> {
      Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
      let mut items = Vec::new();
      while let Some(Unique(item)) = access.next_element()? {
        items.push(item);
      }
      Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
      let mut map = Map::new();
      while let Some(key) = access.next_key::<String>()? {
        let Unique(value) = access.next_value()?;
        if map.contains_key(&key) {
          return Err(A::Error::custom(format!(
            "duplicate member {:?}",
            super::truncate(&key)
          )));
        }
        map.insert(key, value);
      }
      Ok(Value::Object(map))
    }
  }
}

/// RFC 7515 §5.2 steps 1–4: structure, base64url, JSON header, `alg`, `crit`.
pub fn parse(token: &str, allowed: &[Algorithm]) -> Result<ParsedToken> {
  if token.len() > MAX_TOKEN_BYTES {
    return Err(jws_invalid(&format!(
      "the token is longer than {MAX_TOKEN_BYTES} bytes"
    )));
  }
  let mut parts = token.split('.');
  let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
    (parts.next(), parts.next(), parts.next(), parts.next())
  else {
    return Err(jws_invalid("a compact JWS has exactly three dot-separated segments"));
  };
  if header_b64.is_empty() || payload_b64.is_empty() {
    return Err(jws_invalid("the header and payload segments must not be empty"));
  }

  let header_bytes = decode_segment(header_b64, "header")?;
  let header = parse_json_object(&header_bytes)
    .map_err(|why| jws_invalid(&format!("the protected header is not a JSON object: {why}")))?;
  let payload_bytes = decode_segment(payload_b64, "payload")?;
  let signature = decode_segment(signature_b64, "signature")?;
  let payload_json =
    String::from_utf8(payload_bytes).map_err(|_| Error::new(Code::JwtInvalid, "the payload is not UTF-8 JSON"))?;
  let claims = parse_json_object(payload_json.as_bytes())
    .map_err(|why| Error::new(Code::JwtInvalid, format!("the payload is not a JSON object: {why}")))?;

  let alg_name = match header.get("alg") {
    Some(Value::String(name)) => name.as_str(),
    _ => return Err(jws_invalid("the header has no \"alg\" string")),
  };
  let alg = supported_algorithm(alg_name)
    .filter(|alg| allowed.contains(alg))
    .ok_or_else(|| {
      Error::new(
        Code::AlgNotAllowed,
        format!("the \"alg\" {:?} is not allowed", truncate(alg_name)),
      )
    })?;

  if let Some(crit) = header.get("crit") {
    // We understand no extension, so any critical one (and a malformed list) must fail (RFC 7515 §4.1.11).
    let names = match crit {
      Value::Array(items) if !items.is_empty() => items,
      _ => return Err(jws_invalid("the \"crit\" header must be a non-empty array")),
    };
    let first = names.first().and_then(Value::as_str).unwrap_or("");
    return Err(jws_invalid(&format!(
      "the critical header extension {:?} is not supported",
      truncate(first)
    )));
  }
  let kid = optional_string(&header, "kid")?;
  let typ = optional_string(&header, "typ")?;

  let signing_input_len = header_b64.len() + 1 + payload_b64.len();
  let signing_input = token.as_bytes().get(..signing_input_len).unwrap_or_default().to_vec();
  Ok(ParsedToken {
    header: Header { alg, kid, typ },
    signing_input,
    signature,
    payload_json,
    claims,
  })
}

fn optional_string(header: &Map<String, Value>, name: &str) -> Result<Option<String>> {
  match header.get(name) {
    None => Ok(None),
    Some(Value::String(value)) => Ok(Some(value.clone())),
    Some(_) => Err(jws_invalid(&format!("the \"{name}\" header must be a string"))),
  }
}

/// Keeps attacker-chosen strings short in messages.
pub fn truncate(text: &str) -> &str {
  match text.char_indices().nth(64) {
    Some((at, _)) => text.get(..at).unwrap_or(text),
    None => text,
  }
}

/// `typ` matching: case-insensitive media types, with `application/` implied only when the value has no
/// `/` at all (RFC 7515 §4.1.9), so `jwt` equals `application/jwt` but `text/plain` never equals
/// `application/text/plain`.
pub fn typ_matches(expected: &str, actual: &str) -> bool {
  fn normalize(value: &str) -> String {
    let lower = value.to_ascii_lowercase();
    if lower.contains('/') {
      lower
    } else {
      format!("application/{lower}")
    }
  }
  normalize(expected) == normalize(actual)
}

#[cfg(test)]
mod tests {
  #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
  use super::*;

  fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
  }
  fn token(header: &str, payload: &str) -> String {
    format!("{}.{}.{}", b64(header), b64(payload), b64("sig"))
  }
  const RS: &[Algorithm] = &[Algorithm::RS256];

  fn code(token: &str) -> &'static str {
    parse(token, RS).unwrap_err().code.as_str()
  }

  #[test]
  fn duplicate_members_are_refused_at_every_depth() {
    for bad in [
      &br#"{"a":1,"a":2}"#[..],
      br#"{"email":{"address":"a@x","address":"b@x"}}"#,
      br#"{"list":[{"k":1},{"k":2,"k":3}]}"#,
      br#"{"x":{"y":{"z":{"w":1,"w":1}}}}"#,
    ] {
      let why = parse_json_object(bad).unwrap_err();
      assert!(why.contains("duplicate member"), "{why}");
    }
    let ok = parse_json_object(br#"{"a":{"k":1},"b":{"k":1},"c":[1,1.5,-2,"s",null,true,{"k":[]}]}"#).unwrap();
    assert_eq!(ok.len(), 3);
    let long = format!("{{\"{0}\":1,\"{0}\":2}}", "n".repeat(4800));
    assert!(
      parse_json_object(long.as_bytes()).unwrap_err().len() < 200,
      "a long name is not echoed"
    );
    assert!(parse_json_object(b"[1]").is_err());
  }

  #[test]
  fn parses_a_well_formed_token() {
    let t = token(
      r#"{"alg":"RS256","kid":"k1","typ":"JWT","jku":"http://127.0.0.1:1"}"#,
      r#"{"sub":"u"}"#,
    );
    let parsed = parse(&t, RS).unwrap();
    assert_eq!(parsed.header.alg, Algorithm::RS256);
    assert_eq!(parsed.header.kid.as_deref(), Some("k1"));
    assert_eq!(parsed.claims["sub"], "u");
    assert_eq!(parsed.signature, b"sig");
    assert_eq!(parsed.signing_input, t.rsplit_once('.').unwrap().0.as_bytes());
  }

  #[test]
  fn structure_failures_are_jws_invalid() {
    let good = token(r#"{"alg":"RS256"}"#, "{}");
    assert_eq!(code("a.b"), "ERR_JWS_INVALID");
    assert_eq!(code(&format!("{good}.extra")), "ERR_JWS_INVALID");
    assert_eq!(code(&format!("{}=", good)), "ERR_JWS_INVALID", "padding");
    assert_eq!(code(&good.replace('.', ".+")), "ERR_JWS_INVALID", "standard alphabet");
    assert_eq!(code(&"a".repeat(MAX_TOKEN_BYTES + 1)), "ERR_JWS_INVALID");
    assert_eq!(code(&token("[1]", "{}")), "ERR_JWS_INVALID");
    assert_eq!(
      code(&token(r#"{"alg":"RS256","alg":"RS256"}"#, "{}")),
      "ERR_JWS_INVALID"
    );
    assert_eq!(code(&token(r#"{"alg":1}"#, "{}")), "ERR_JWS_INVALID");
    assert_eq!(code(&token(r#"{"alg":"RS256","kid":7}"#, "{}")), "ERR_JWS_INVALID");
    assert_eq!(
      code(&token(r#"{"alg":"RS256","crit":["exp"]}"#, "{}")),
      "ERR_JWS_INVALID"
    );
    assert_eq!(code(&token(r#"{"alg":"RS256","crit":[]}"#, "{}")), "ERR_JWS_INVALID");
  }

  #[test]
  fn payload_failures_are_jwt_invalid() {
    assert_eq!(code(&token(r#"{"alg":"RS256"}"#, "\"str\"")), "ERR_JWT_INVALID");
    assert_eq!(
      code(&token(r#"{"alg":"RS256"}"#, r#"{"sub":"a","sub":"b"}"#)),
      "ERR_JWT_INVALID"
    );
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(500), "]".repeat(500));
    assert_eq!(code(&token(r#"{"alg":"RS256"}"#, &deep)), "ERR_JWT_INVALID");
  }

  #[test]
  fn algorithms_outside_the_allow_list_are_refused() {
    for alg in ["none", "HS256", "RS384", "rs256", "XYZ"] {
      assert_eq!(
        code(&token(&format!(r#"{{"alg":"{alg}"}}"#), "{}")),
        "ERR_JOSE_ALG_NOT_ALLOWED",
        "{alg}"
      );
    }
    assert!(supported_algorithm("HS256").is_none());
    assert!(supported_algorithm("none").is_none());
  }

  #[test]
  fn typ_comparison_follows_jose() {
    assert!(typ_matches("JWT", "jwt"));
    assert!(typ_matches("at+jwt", "application/AT+JWT"));
    assert!(!typ_matches("JWT", "JOSE"));
    // `application/` is implied only when the value has no `/` (issue #13 item 11).
    assert!(!typ_matches("application/text/plain", "text/plain"));
    assert!(!typ_matches("text/plain", "application/text/plain"));
    assert!(typ_matches("text/plain", "TEXT/PLAIN"));
    assert!(typ_matches("application/jwt", "JWT"));
  }
}
