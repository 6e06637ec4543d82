//! The verifier: the verification rules 1–5 (README: Security notes; RFC 7515 §5.2, RFC 7519 §7.2), in that order, over a shared key cache, and the session step
//! (rule 6's last part) over a session checker. `Verifier::from_config` assembles every part.

use crate::claims::{Checked, ClaimRules};
use crate::clock::{self, Clock};
use crate::config::Config;
use crate::error::{reason, Code, Error, Result};
use crate::fetch::{HttpClient, HttpFetch, HttpSettings};
use crate::jwks::{self, KeyCache, Lookup, Wait};
use crate::jws::{self, ParsedToken};
use crate::session::{HttpSessions, SessionChecker, SessionKey};
use jsonwebtoken::Algorithm;
use std::sync::Arc;
use std::time::Duration;

/// Token rules of one verifier (the key cache may be shared by verifiers with other rules; defaults:
/// `config`).
#[derive(Debug, Clone)]
pub struct TokenRules {
  /// Default `[RS256]`.
  pub algorithms: Vec<Algorithm>,
  pub claims: ClaimRules,
  /// When set, the header `typ` must match it.
  pub typ: Option<String>,
}

/// A token that passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
  /// The payload JSON exactly as signed.
  pub payload_json: String,
  /// Until when the token stays acceptable (ms since the epoch); a cache must not keep it longer.
  pub acceptable_until_ms: Option<f64>,
  /// The key-set epoch read before the key was looked up: a cache entry is valid while it is current.
  pub epoch: u32,
}

/// The outcome of a verification that may not wait.
pub enum Attempt {
  Done(Result<Verified>),
  /// The key set must be fetched first; hand the parsed token to [`Verifier::finish_after_fetch`].
  NeedFetch(ParsedToken, u32),
}

pub struct Verifier {
  pub rules: TokenRules,
  pub keys: Arc<KeyCache>,
  pub session: Option<Arc<SessionChecker>>,
  clock: Arc<dyn Clock>,
}

fn no_log(_: &str) {}

fn debug_log(message: &str) {
  eprintln!("HANKO-AUTH {}: {message}", std::process::id());
}

/// One HTTP client per key cache or session checker: they share the timeout, size limit and https rule.
fn http_client(
  config: &Config,
  headers: Vec<(String, String)>,
  follow_redirects: bool,
) -> std::result::Result<HttpClient, String> {
  HttpClient::new(&HttpSettings {
    timeout: Duration::from_millis(config.cache.timeout),
    max_bytes: config.cache.max_bytes,
    headers,
    allow_insecure_http: config.allow_insecure_http,
    follow_redirects,
  })
}

impl Verifier {
  pub fn new(
    rules: TokenRules,
    keys: Arc<KeyCache>,
    session: Option<Arc<SessionChecker>>,
    clock: Arc<dyn Clock>,
  ) -> Verifier {
    Verifier {
      rules,
      keys,
      session,
      clock,
    }
  }

  /// Builds the verifier and its parts from a configuration: the key cache is the process-wide one for
  /// this URL and settings (shared with every other verifier and worker thread), the session checker
  /// is this verifier's own.
  pub fn from_config(config: Config) -> std::result::Result<Verifier, String> {
    let log: fn(&str) = if config.debug { debug_log } else { no_log };
    let cache_key = format!(
      "{}|{:?}|{:?}|{}",
      config.jwks_uri, config.cache, config.headers, config.allow_insecure_http
    );
    let keys = jwks::shared(cache_key, || {
      let source = Box::new(HttpFetch {
        client: http_client(&config, config.headers.clone(), true)?,
        url: config.jwks_uri.clone(),
      });
      Ok(KeyCache::with_log(
        config.cache.clone(),
        clock::system(),
        source,
        log,
        crate::fetch::shown_url(&config.jwks_uri),
      ))
    })?;
    let session = match &config.session {
      None => None,
      Some(session) => {
        let transport = HttpSessions {
          client: http_client(&config, vec![], false)?,
          url: session.url.clone(),
        };
        Some(Arc::new(SessionChecker::new(
          Box::new(transport),
          session.settings.clone(),
          clock::system(),
          log,
        )))
      }
    };
    Ok(Verifier::new(config.rules, keys, session, clock::system()))
  }

  /// Verifies with the keys at hand. With `Wait::Allowed`, a needed fetch comes back as `NeedFetch`
  /// with the parsed token; with `Wait::Never` the fetch starts in the background and the token fails
  /// now (`verifySync`).
  pub fn attempt(&self, token: &str, wait: Wait) -> Attempt {
    // Read before the lookup: if a key leaves meanwhile, what this verification vouches for is born stale.
    let epoch = self.keys.epoch();
    let parsed = match jws::parse(token, &self.rules.algorithms) {
      Ok(parsed) => parsed,
      Err(err) => return Attempt::Done(Err(err)),
    };
    match self.keys.lookup(parsed.header.kid.as_deref(), parsed.header.alg, wait) {
      Lookup::Found(key) => Attempt::Done(self.finish(&parsed, &key, epoch)),
      Lookup::Failed(err) => Attempt::Done(Err(err)),
      Lookup::NeedFetch => Attempt::NeedFetch(parsed, epoch),
    }
  }

  /// Verifies, fetching the key set when it must (at most one fetch per call, shared with others).
  pub async fn verify(&self, token: &str) -> Result<Verified> {
    match self.attempt(token, Wait::Allowed) {
      Attempt::Done(result) => result,
      Attempt::NeedFetch(parsed, epoch) => self.finish_after_fetch(parsed, epoch).await,
    }
  }

  /// The rest of a verification that needed the key set fetched, with the token parsed only once.
  pub async fn finish_after_fetch(&self, parsed: ParsedToken, epoch: u32) -> Result<Verified> {
    let key = self
      .keys
      .key_for(parsed.header.kid.as_deref(), parsed.header.alg)
      .await?;
    self.finish(&parsed, &key, epoch)
  }

  /// Rules 4 and 5, plus `typ`.
  fn finish(&self, parsed: &ParsedToken, key: &crate::jwk::Key, epoch: u32) -> Result<Verified> {
    key.verify(parsed.header.alg, &parsed.signing_input, &parsed.signature)?;
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
          format!(
            "the token's \"typ\" header is not the expected {:?} (option typ)",
            jws::truncate(expected)
          ),
        ));
      }
    }
    // Whole seconds, as NumericDate claims are (RFC 7519 §2) and as jose compares them: a token whose age
    // equals `maxTokenAge` still passes.
    let now = (self.clock.now_ms() / 1000) as f64;
    let checked: Checked = self.rules.claims.check(&parsed.claims, now)?;
    Ok(Verified {
      payload_json: parsed.payload_json.clone(),
      acceptable_until_ms: self.rules.claims.acceptable_until_ms(&checked),
      epoch,
    })
  }

  /// The key of a verified token's session, or why it has none (`validateSession` needs `session_id`).
  pub fn session_key(session_id: Option<&str>, sub: Option<&str>) -> Result<SessionKey> {
    SessionChecker::key_for(session_id, sub)
  }
}
