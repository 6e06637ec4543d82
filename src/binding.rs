//! The one module that talks to N-API. Everything here converts; nothing here decides.

use crate::claims::ClaimRules;
use crate::clock;
use crate::error::{Error, Kind};
use crate::fetch::{parse_url, HttpClient, HttpFetch, HttpSettings};
use crate::jwks::{self, CacheSettings, KeyCache};
use crate::jws::supported_algorithm;
use crate::session::{Answer, Cached, SessionChecker, SessionSettings};
use crate::verify::{Attempt, TokenRules, Verified, Verifier};
use napi::bindgen_prelude::{Env, Object, ToNapiValue};
use napi_derive::napi;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Options as `index.js` hands them over: already validated and with every default filled in.
#[napi(object)]
pub struct NativeOptions {
  pub jwks_uri: String,
  /// The option the URL came from (`jwksUri`, `jwksHost` or `HANKO_API_URL`), for error messages.
  pub jwks_uri_source: String,
  pub allow_insecure_http: bool,
  pub algorithms: Vec<String>,
  pub audience: Vec<String>,
  pub issuer: Vec<String>,
  pub subject: Option<String>,
  /// Seconds.
  pub clock_tolerance: f64,
  /// Seconds.
  pub max_token_age: Option<f64>,
  pub required_claims: Vec<String>,
  pub typ: Option<String>,
  /// Milliseconds, like every jwks time below.
  pub cache_max_age: f64,
  pub min_cache_age: f64,
  pub max_cache_age: f64,
  pub cooldown: f64,
  pub timeout: f64,
  pub max_stale: f64,
  pub max_bytes: f64,
  pub headers: HashMap<String, String>,
  /// `<jwksHost>/sessions/validate` when `validateSession` is on.
  pub session_url: Option<String>,
  /// Milliseconds.
  pub session_ttl: f64,
  pub session_max_entries: f64,
}

/// A failed verification, as data; `index.js` turns it into a `JwtError` or `JwksError`.
#[napi(object)]
pub struct Failure {
  pub code: String,
  pub message: String,
  pub claim: Option<String>,
  pub reason: Option<String>,
  /// `true` for the key-set / session-service codes (503), `false` for token problems (401).
  pub unavailable: bool,
}

#[napi(object)]
pub struct NativeStats {
  pub jwks_fetches: f64,
  pub jwks_failures: f64,
  pub last_fetch_at: Option<f64>,
  pub last_fetch_status: Option<String>,
  pub keys: u32,
  pub kids: Vec<String>,
  pub serving_stale: bool,
  pub cooling_down: bool,
  pub key_epoch: f64,
  pub session_checks: f64,
  pub session_cache_hits: f64,
  pub session_cache_size: f64,
}

/// Test hook (`__setPanicProbe`): 1 makes every entry point panic before it does anything, 2 makes the
/// async work panic on the I/O runtime. Proves that a panic becomes a JS error, never an abort.
static PANIC_PROBE: AtomicU32 = AtomicU32::new(0);

#[allow(clippy::panic, reason = "the probe exists to panic on purpose, under test only")]
fn probe(stage: u32) {
  if PANIC_PROBE.load(Ordering::Relaxed) == stage {
    panic!("hanko-auth panic probe (stage {stage})");
  }
}

/// Test hook: see `PANIC_PROBE`. 0 turns it off.
#[napi(js_name = "__setPanicProbe")]
#[cfg_attr(
  test,
  allow(dead_code, reason = "registered with N-API, which unit tests do not load")
)]
pub fn set_panic_probe(stage: u32) {
  PANIC_PROBE.store(stage, Ordering::Relaxed);
}

fn failure(err: Error) -> Failure {
  Failure {
    code: err.code.as_str().to_string(),
    message: err.message,
    claim: err.claim.map(|c| c.into_owned()),
    reason: err.reason.map(str::to_string),
    unavailable: err.code.kind() == Kind::Unavailable,
  }
}

fn internal_failure(what: &str) -> Failure {
  Failure {
    code: "ERR_JWKS_UNAVAILABLE".into(),
    message: format!("internal error in hanko-auth ({what}); please report it"),
    claim: None,
    reason: None,
    unavailable: true,
  }
}

/// A verification's result as tagged data: JS reads `ok`, never `instanceof` (a value made here is
/// of the main realm, which a `vm` context such as Jest's does not share; SPEC §2 Hosts).
#[napi(object)]
pub struct Outcome {
  pub ok: bool,
  /// The payload JSON exactly as signed, when `ok`.
  pub claims: Option<String>,
  /// Why it failed, when not `ok`.
  pub failure: Option<Failure>,
}

fn outcome(result: crate::error::Result<Verified>) -> Outcome {
  match result {
    Ok(verified) => Outcome {
      ok: true,
      claims: Some(verified.payload_json),
      failure: None,
    },
    Err(err) => failed(failure(err)),
  }
}

fn failed(failure: Failure) -> Outcome {
  Outcome {
    ok: false,
    claims: None,
    failure: Some(failure),
  }
}

fn ms(value: f64) -> u64 {
  // index.js has range-checked every value; this only guards against NaN and negatives.
  if value.is_finite() && value > 0.0 {
    value as u64
  } else {
    0
  }
}

/// The key set and the session service share the timeout, size limit and https rule.
fn http_client(
  settings: &CacheSettings,
  headers: Vec<(String, String)>,
  allow_insecure_http: bool,
) -> std::result::Result<HttpClient, String> {
  HttpClient::new(&HttpSettings {
    timeout: Duration::from_millis(settings.timeout),
    max_bytes: settings.max_bytes,
    headers,
    allow_insecure_http,
  })
}

fn debug_enabled() -> bool {
  std::env::var("NODE_DEBUG").is_ok_and(|v| {
    v.split([',', ' '])
      .any(|s| s.eq_ignore_ascii_case("hanko-auth") || s == "*")
  })
}

fn debug_log(message: &str) {
  eprintln!("HANKO-AUTH {}: {message}", std::process::id());
}

/// Resolves a JS promise from a future run on the I/O runtime. A panic in the future settles the
/// promise with `on_panic()` instead of leaving it pending forever.
fn promise<T, F>(env: &Env, future: F, on_panic: fn() -> T) -> napi::Result<Object<'_>>
where
  T: ToNapiValue + Send + 'static,
  F: Future<Output = T> + Send + 'static,
{
  type Resolver<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;
  let runtime = crate::runtime::get().map_err(|e| napi::Error::from_reason(e.message))?;
  let (deferred, promise) = env.create_deferred::<T, Resolver<T>>()?;
  let inner = runtime.spawn(async move {
    probe(2);
    future.await
  });
  runtime.spawn(async move {
    let value = inner.await.unwrap_or_else(|_| on_panic());
    deferred.resolve(Box::new(move |_| Ok(value)));
  });
  Ok(promise)
}

#[napi]
pub struct NativeVerifier {
  inner: Arc<Verifier>,
  session: Option<Arc<SessionChecker>>,
}

#[napi]
impl NativeVerifier {
  #[napi(constructor, catch_unwind)]
  pub fn new(options: NativeOptions) -> napi::Result<Self> {
    probe(1);
    let invalid = |message: String| napi::Error::new(napi::Status::InvalidArg, message);
    let url = parse_url(&options.jwks_uri, &options.jwks_uri_source, options.allow_insecure_http).map_err(invalid)?;
    let algorithms = options
      .algorithms
      .iter()
      .map(|name| supported_algorithm(name).ok_or_else(|| invalid(format!("algorithms: {name:?} is not supported"))))
      .collect::<napi::Result<Vec<_>>>()?;
    let settings = CacheSettings {
      cache_max_age: ms(options.cache_max_age),
      min_cache_age: ms(options.min_cache_age),
      max_cache_age: ms(options.max_cache_age),
      cooldown: ms(options.cooldown),
      timeout: ms(options.timeout),
      max_stale: ms(options.max_stale),
      max_bytes: ms(options.max_bytes),
    };
    let mut headers: Vec<(String, String)> = options.headers.into_iter().collect();
    headers.sort();
    let cache_key = format!("{url}|{settings:?}|{headers:?}|{}", options.allow_insecure_http);
    let keys = jwks::shared(cache_key, || {
      let client = http_client(&settings, headers.clone(), options.allow_insecure_http)?;
      let source = Box::new(HttpFetch {
        client,
        url: url.clone(),
      });
      let log: fn(&str) = if debug_enabled() { debug_log } else { |_| {} };
      Ok(KeyCache::with_log(settings.clone(), clock::system(), source, log))
    })
    .map_err(invalid)?;
    let rules = TokenRules {
      algorithms,
      claims: ClaimRules {
        audience: options.audience,
        issuer: options.issuer,
        subject: options.subject,
        clock_tolerance: options.clock_tolerance,
        max_token_age: options.max_token_age,
        required_claims: options.required_claims,
      },
      typ: options.typ,
    };
    let session = match &options.session_url {
      None => None,
      Some(url) => {
        let url = parse_url(url, "jwksHost", options.allow_insecure_http).map_err(invalid)?;
        let client = http_client(&settings, vec![], options.allow_insecure_http).map_err(invalid)?;
        let session_settings = SessionSettings {
          ttl: ms(options.session_ttl),
          max_entries: (ms(options.session_max_entries) as usize).max(1),
        };
        Some(Arc::new(SessionChecker::new(
          client,
          url,
          session_settings,
          clock::system(),
        )))
      }
    };
    Ok(NativeVerifier {
      inner: Arc::new(Verifier::new(rules, keys, clock::system())),
      session,
    })
  }

  /// Verifies with the keys already cached; never waits (a needed fetch starts in the background).
  #[napi(catch_unwind)]
  pub fn verify_sync(&self, token: String) -> Outcome {
    probe(1);
    match self.inner.attempt(&token, false) {
      Attempt::Done(result) => outcome(result),
      Attempt::NeedFetch => failed(internal_failure("fetch requested in sync mode")),
    }
  }

  /// Verifies with the keys at hand, or returns `null` when the key set must be fetched first.
  #[napi(catch_unwind)]
  pub fn try_verify(&self, token: String) -> Option<Outcome> {
    probe(1);
    match self.inner.attempt(&token, true) {
      Attempt::Done(result) => Some(outcome(result)),
      Attempt::NeedFetch => None,
    }
  }

  /// Verifies, fetching the key set when it must.
  #[napi(catch_unwind, ts_return_type = "Promise<Outcome>")]
  pub fn verify<'env>(&self, env: &'env Env, token: String) -> napi::Result<Object<'env>> {
    probe(1);
    let verifier = self.inner.clone();
    promise(env, async move { outcome(verifier.verify(&token).await) }, || {
      failed(internal_failure("verify"))
    })
  }

  /// Loads the key set unless usable keys are cached; resolves to a failure or `null`.
  #[napi(catch_unwind, ts_return_type = "Promise<Failure | null>")]
  pub fn ready<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
    probe(1);
    let keys = self.inner.keys.clone();
    promise(
      env,
      async move { keys.ensure_loaded().await.err().map(failure) },
      || Some(internal_failure("ready")),
    )
  }

  /// Refetches the key set (joining a fetch in flight); resolves to a failure or `null`.
  #[napi(catch_unwind, ts_return_type = "Promise<Failure | null>")]
  pub fn reload<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
    probe(1);
    let keys = self.inner.keys.clone();
    promise(env, async move { keys.reload().await.err().map(failure) }, || {
      Some(internal_failure("reload"))
    })
  }

  #[napi(catch_unwind)]
  pub fn stats(&self) -> NativeStats {
    probe(1);
    let stats = self.inner.keys.stats();
    NativeStats {
      jwks_fetches: stats.fetches as f64,
      jwks_failures: stats.failures as f64,
      last_fetch_at: stats.last_fetch_at.map(|t| t as f64),
      last_fetch_status: stats.last_fetch_status,
      keys: u32::try_from(stats.keys).unwrap_or(u32::MAX),
      kids: stats.kids,
      serving_stale: stats.serving_stale,
      cooling_down: stats.cooling_down,
      key_epoch: self.inner.keys.epoch() as f64,
      session_checks: self
        .session
        .as_ref()
        .map_or(0.0, |s| s.checks.load(Ordering::Relaxed) as f64),
      session_cache_hits: self
        .session
        .as_ref()
        .map_or(0.0, |s| s.cache_hits.load(Ordering::Relaxed) as f64),
      session_cache_size: self.session.as_ref().map_or(0.0, |s| s.len() as f64),
    }
  }

  /// The cached session answer: 1 live, -1 ended, 0 unknown (ask with `confirmSession`).
  #[napi(catch_unwind)]
  pub fn session_status(&self, session_id: String) -> i32 {
    probe(1);
    match self.session.as_ref().map(|s| s.cached(&session_id)) {
      Some(Cached::Live) => 1,
      Some(Cached::Dead) => -1,
      _ => 0,
    }
  }

  /// Asks Hanko about a session (one request in flight per session); resolves to a failure or `null`.
  #[napi(catch_unwind, ts_return_type = "Promise<Failure | null>")]
  pub fn confirm_session<'env>(
    &self,
    env: &'env Env,
    session_id: String,
    token: String,
    exp_ms: Option<f64>,
  ) -> napi::Result<Object<'env>> {
    probe(1);
    let Some(session) = self.session.clone() else {
      return promise(env, async { None::<Failure> }, || None);
    };
    promise(
      env,
      async move {
        match session.confirm(&session_id, &token, exp_ms.map(ms)).await {
          Ok(Answer::Live) => None,
          Ok(Answer::Dead) => Some(failure(Error::new(
            crate::error::Code::SessionInvalid,
            "the session has ended (logged out, revoked or expired at Hanko)",
          ))),
          Err(err) => Some(failure(err)),
        }
      },
      || Some(internal_failure("confirmSession")),
    )
  }

  /// Bumped whenever a key leaves the key set; token caches compare it on every hit.
  #[napi(catch_unwind)]
  pub fn key_epoch(&self) -> f64 {
    probe(1);
    self.inner.keys.epoch() as f64
  }
}
