//! The one module that talks to N-API. Everything here converts; nothing here decides.

use crate::claims::ClaimRules;
use crate::config::{self, Config, SessionConfig, TokenCacheSettings};
use crate::error::{Code, Error, Kind};
use crate::fetch::parse_url;
use crate::jwks::{CacheSettings, Wait};
use crate::jws::{algorithm_name, supported_algorithm, MAX_TOKEN_BYTES};
use crate::session::{SessionChecker, SessionKey, SessionSettings};
use crate::verify::{Attempt, TokenRules, Verified, Verifier};
use napi::bindgen_prelude::{ArrayBuffer, Either, Env, Object, ToNapiValue};
use napi_derive::napi;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// `validateSession` as JS hands it over: only what the user set (defaults: `defaults().session`).
#[napi(object)]
pub struct NativeSessionOptions {
  /// Milliseconds.
  pub ttl: Option<f64>,
  pub max_entries: Option<f64>,
  pub fail_open: Option<bool>,
}

/// Options as JS hands them over: shape- and range-checked, and only what the user set. Every gap is
/// filled here from `config`'s `Default` impls (see `defaults()`).
#[napi(object)]
pub struct NativeOptions {
  /// The Hanko API URL (`jwksHost` or `HANKO_API_URL`); the JWKS is under it unless `jwks_uri` is set.
  pub jwks_host: Option<String>,
  pub jwks_uri: Option<String>,
  /// The option the URL came from (`jwksUri`, `jwksHost` or `HANKO_API_URL`), for error messages.
  pub jwks_uri_source: String,
  pub allow_insecure_http: Option<bool>,
  pub algorithms: Option<Vec<String>>,
  pub audience: Option<Vec<String>>,
  pub issuer: Option<Vec<String>>,
  pub subject: Option<String>,
  /// Seconds.
  pub clock_tolerance: Option<f64>,
  /// Seconds.
  pub max_token_age: Option<f64>,
  pub required_claims: Option<Vec<String>>,
  pub typ: Option<String>,
  /// Milliseconds, like every jwks time below.
  pub cache_max_age: Option<f64>,
  pub min_cache_age: Option<f64>,
  pub max_cache_age: Option<f64>,
  pub cooldown: Option<f64>,
  pub timeout: Option<f64>,
  pub max_stale: Option<f64>,
  pub max_bytes: Option<f64>,
  pub headers: Option<HashMap<String, String>>,
  pub validate_session: Option<NativeSessionOptions>,
}

#[napi(object)]
pub struct JwksDefaults {
  pub cache_max_age: f64,
  pub min_cache_age: f64,
  pub max_cache_age: f64,
  pub cooldown: f64,
  pub timeout: f64,
  pub max_stale: f64,
  pub max_bytes: f64,
}

#[napi(object)]
pub struct SessionDefaults {
  pub ttl: f64,
  pub max_entries: f64,
  pub fail_open: bool,
}

/// One row of the error-code table (`error::Code`).
#[napi(object)]
pub struct CodeRow {
  pub code: String,
  /// `"JwtError"` (a token problem, 401) or `"JwksError"` (the key set or Hanko cannot be had, 503).
  pub class_name: String,
}

/// Every default and list the core owns, for JS to apply and document (never to restate).
#[napi(object)]
pub struct NativeDefaults {
  pub algorithms: Vec<String>,
  pub supported_algorithms: Vec<String>,
  pub required_claims: Vec<String>,
  pub clock_tolerance: f64,
  pub jwks: JwksDefaults,
  pub token_cache_max_entries: f64,
  pub session: SessionDefaults,
  /// Longer tokens are refused before they cross into Rust.
  pub max_token_bytes: f64,
  pub codes: Vec<CodeRow>,
}

/// The core's defaults and tables (one owner per fact: CONTRIBUTING.md).
#[napi]
pub fn defaults() -> NativeDefaults {
  let rules = TokenRules::default();
  let cache = CacheSettings::default();
  let session = SessionSettings::default();
  NativeDefaults {
    algorithms: rules.algorithms.iter().map(|a| algorithm_name(*a)).collect(),
    supported_algorithms: crate::jwk::ALGORITHMS.iter().map(|a| algorithm_name(*a)).collect(),
    required_claims: rules.claims.required_claims,
    clock_tolerance: rules.claims.clock_tolerance,
    jwks: JwksDefaults {
      cache_max_age: cache.cache_max_age as f64,
      min_cache_age: cache.min_cache_age as f64,
      max_cache_age: cache.max_cache_age as f64,
      cooldown: cache.cooldown as f64,
      timeout: cache.timeout as f64,
      max_stale: cache.max_stale as f64,
      max_bytes: cache.max_bytes as f64,
    },
    token_cache_max_entries: f64::from(TokenCacheSettings::default().max_entries),
    session: SessionDefaults {
      ttl: session.ttl as f64,
      max_entries: session.max_entries as f64,
      fail_open: session.fail_open,
    },
    max_token_bytes: MAX_TOKEN_BYTES as f64,
    codes: Code::ALL
      .iter()
      .map(|code| CodeRow {
        code: code.as_str().to_string(),
        class_name: match code.kind() {
          Kind::Token => "JwtError",
          Kind::Unavailable => "JwksError",
        }
        .to_string(),
      })
      .collect(),
  }
}

/// A failed step, as data; JS turns it into a `JwtError` or `JwksError`.
#[napi(object)]
pub struct Failure {
  pub code: String,
  pub message: String,
  pub claim: Option<String>,
  pub reason: Option<String>,
  /// `true` for the key-set / session-service codes (503), `false` for token problems (401).
  pub unavailable: bool,
}

/// A step's result as tagged data: JS reads `ok`, never `instanceof` (a value made here is of the main
/// realm, which a `vm` context such as Jest's does not share; README: Hosts).
#[napi(object)]
pub struct Outcome {
  pub ok: bool,
  /// The payload JSON exactly as signed, when a verification is `ok`.
  pub claims: Option<String>,
  /// Until when (ms since the epoch) the verified token may be cached; absent: do not cache.
  pub cache_until: Option<f64>,
  /// The key-set epoch the verification was made under (compare with `epochView()`).
  pub epoch: Option<u32>,
  /// Why it failed, when not `ok`.
  pub failure: Option<Failure>,
}

/// How `verify` may proceed when it cannot answer at once.
#[napi]
pub enum VerifyMode {
  /// Verify now with the keys at hand; return a Promise only when the key set must be fetched.
  Inline,
  /// Always return a Promise and verify on the I/O threads (the JS thread serves others meanwhile).
  Offload,
  /// Never wait: with no usable key, start the fetch in the background and fail now (`verifySync`).
  CachedKeysOnly,
}

/// A key-set fetch starting or ending, for the `hanko-auth:jwks` tracing channel.
#[napi(object)]
pub struct FetchEvent {
  pub jwks_uri: String,
  /// `"start"` or `"end"`.
  pub phase: String,
  /// When it ended: the error code, absent when usable keys came.
  pub code: Option<String>,
  pub keys: u32,
}

/// Calls `listener` (on this JS thread, asynchronously) for every key-set fetch of the process from now
/// on, background refreshes included. The listener does not keep the process alive.
#[napi(ts_args_type = "listener: (event: FetchEvent) => void")]
pub fn on_key_set_fetch(listener: napi::bindgen_prelude::Function<FetchEvent, ()>) -> napi::Result<()> {
  use napi::threadsafe_function::ThreadsafeFunctionCallMode;
  let tsfn = listener
    .build_threadsafe_function::<FetchEvent>()
    .weak::<true>()
    .callee_handled::<false>()
    .build()?;
  crate::jwks::observe_fetches(Box::new(move |fetch| {
    let event = FetchEvent {
      jwks_uri: fetch.url.clone(),
      phase: if fetch.started { "start" } else { "end" }.to_string(),
      code: fetch.code.map(str::to_string),
      keys: u32::try_from(fetch.keys).unwrap_or(u32::MAX),
    };
    tsfn.call(event, ThreadsafeFunctionCallMode::NonBlocking) != napi::Status::Closing
  }));
  Ok(())
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
  pub session_fail_open: f64,
}

/// Test hook (`__setPanicProbe`, only with the `panic-probe` feature, which release builds leave off):
/// 1 makes every entry point panic before it does anything, 2 makes the async work panic on the I/O
/// runtime. Proves that a panic becomes a JS error, never an abort.
#[cfg(feature = "panic-probe")]
static PANIC_PROBE: AtomicU32 = AtomicU32::new(0);

#[cfg(feature = "panic-probe")]
#[allow(clippy::panic, reason = "the probe exists to panic on purpose, under test only")]
fn probe(stage: u32) {
  if PANIC_PROBE.load(Ordering::Relaxed) == stage {
    panic!("hanko-auth panic probe (stage {stage})");
  }
}

#[cfg(not(feature = "panic-probe"))]
#[inline(always)]
fn probe(_stage: u32) {}

/// Test hook: see `PANIC_PROBE`. 0 turns it off. Returns whether the probe is built in (without the
/// feature it is a no-op, so the generated loader is the same either way).
#[napi(js_name = "__setPanicProbe")]
pub fn set_panic_probe(stage: u32) -> bool {
  #[cfg(feature = "panic-probe")]
  PANIC_PROBE.store(stage, Ordering::Relaxed);
  let _ = stage;
  cfg!(feature = "panic-probe")
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

fn failed(failure: Failure) -> Outcome {
  Outcome {
    ok: false,
    claims: None,
    cache_until: None,
    epoch: None,
    failure: Some(failure),
  }
}

fn passed() -> Outcome {
  Outcome {
    ok: true,
    claims: None,
    cache_until: None,
    epoch: None,
    failure: None,
  }
}

fn verified(result: crate::error::Result<Verified>) -> Outcome {
  match result {
    Ok(verified) => Outcome {
      ok: true,
      claims: Some(verified.payload_json),
      cache_until: verified.acceptable_until_ms,
      epoch: Some(verified.epoch),
      failure: None,
    },
    Err(err) => failed(failure(err)),
  }
}

fn stepped(result: crate::error::Result<()>) -> Outcome {
  match result {
    Ok(()) => passed(),
    Err(err) => failed(failure(err)),
  }
}

/// JS numbers to milliseconds or counts: JS has range-checked every value; this only guards NaN.
fn whole(value: Option<f64>, default: u64) -> u64 {
  match value {
    Some(v) if v.is_finite() && v >= 0.0 => v as u64,
    _ => default,
  }
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

fn config_from(options: NativeOptions) -> std::result::Result<Config, String> {
  let allow_insecure_http = options.allow_insecure_http.unwrap_or(false);
  let jwks_uri = match (&options.jwks_uri, &options.jwks_host) {
    (Some(uri), _) => uri.clone(),
    (None, Some(host)) => config::under_host(host, ".well-known/jwks.json")?,
    (None, None) => return Err("jwksHost is required: pass the Hanko API URL (or set jwksUri)".into()),
  };
  let jwks_uri = parse_url(&jwks_uri, &options.jwks_uri_source, allow_insecure_http)?;
  let mut rules = TokenRules::default();
  if let Some(names) = &options.algorithms {
    rules.algorithms = names
      .iter()
      .map(|name| supported_algorithm(name).ok_or_else(|| format!("algorithms: {name:?} is not supported")))
      .collect::<std::result::Result<_, _>>()?;
  }
  let defaults = ClaimRules::default();
  rules.claims = ClaimRules {
    audience: options.audience.unwrap_or(defaults.audience),
    issuer: options.issuer.unwrap_or(defaults.issuer),
    subject: options.subject.or(defaults.subject),
    clock_tolerance: options.clock_tolerance.unwrap_or(defaults.clock_tolerance),
    max_token_age: options.max_token_age.or(defaults.max_token_age),
    required_claims: options.required_claims.unwrap_or(defaults.required_claims),
  };
  rules.typ = options.typ;
  let d = CacheSettings::default();
  let cache = CacheSettings {
    cache_max_age: whole(options.cache_max_age, d.cache_max_age),
    min_cache_age: whole(options.min_cache_age, d.min_cache_age),
    max_cache_age: whole(options.max_cache_age, d.max_cache_age),
    cooldown: whole(options.cooldown, d.cooldown),
    timeout: whole(options.timeout, d.timeout),
    max_stale: whole(options.max_stale, d.max_stale),
    max_bytes: whole(options.max_bytes, d.max_bytes),
  };
  if cache.min_cache_age > cache.max_cache_age {
    return Err("jwks.minCacheAge must not exceed jwks.maxCacheAge".into());
  }
  let session = match options.validate_session {
    None => None,
    Some(session) => {
      let host = options
        .jwks_host
        .as_deref()
        .ok_or("validateSession needs jwksHost (the Hanko API URL): jwksUri alone does not say where Hanko is")?;
      let url = parse_url(
        &config::under_host(host, "sessions/validate")?,
        "jwksHost",
        allow_insecure_http,
      )?;
      let d = SessionSettings::default();
      if !rules.claims.required_claims.iter().any(|c| c == "session_id") {
        rules.claims.required_claims.push("session_id".into());
      }
      Some(SessionConfig {
        url,
        settings: SessionSettings {
          ttl: whole(session.ttl, d.ttl),
          max_entries: whole(session.max_entries, d.max_entries as u64).max(1) as usize,
          fail_open: session.fail_open.unwrap_or(d.fail_open),
        },
      })
    }
  };
  let mut headers: Vec<(String, String)> = options.headers.unwrap_or_default().into_iter().collect();
  headers.sort();
  Ok(Config {
    jwks_uri,
    allow_insecure_http,
    headers,
    cache,
    rules,
    session,
    debug: config::debug_from_env(),
  })
}

#[napi]
pub struct NativeVerifier {
  inner: Arc<Verifier>,
  /// This verifier's copy of the key-set epoch, shared with JS through `epochView()`.
  epoch_slot: Arc<AtomicU32>,
}

#[napi]
impl NativeVerifier {
  #[napi(constructor, catch_unwind)]
  pub fn new(options: NativeOptions) -> napi::Result<Self> {
    probe(1);
    let invalid = |message: String| napi::Error::new(napi::Status::InvalidArg, message);
    let inner = Verifier::from_config(config_from(options).map_err(invalid)?).map_err(invalid)?;
    let epoch_slot = inner.keys.subscribe_epoch();
    Ok(NativeVerifier {
      inner: Arc::new(inner),
      epoch_slot,
    })
  }

  /// Verifies `token`: an `Outcome` now, or a Promise of one (see `VerifyMode`).
  #[napi(catch_unwind, ts_return_type = "Outcome | Promise<Outcome>")]
  pub fn verify<'env>(
    &self,
    env: &'env Env,
    token: String,
    mode: VerifyMode,
  ) -> napi::Result<Either<Outcome, Object<'env>>> {
    probe(1);
    let wait = match mode {
      VerifyMode::CachedKeysOnly => Wait::Never,
      VerifyMode::Inline | VerifyMode::Offload => Wait::Allowed,
    };
    if !matches!(mode, VerifyMode::Offload) {
      match self.inner.attempt(&token, wait) {
        Attempt::Done(result) => return Ok(Either::A(verified(result))),
        Attempt::NeedFetch(parsed, epoch) => {
          let verifier = self.inner.clone();
          let pending = async move { verified(verifier.finish_after_fetch(parsed, epoch).await) };
          return promise(env, pending, || failed(internal_failure("verify"))).map(Either::B);
        }
      }
    }
    let verifier = self.inner.clone();
    promise(env, async move { verified(verifier.verify(&token).await) }, || {
      failed(internal_failure("verify"))
    })
    .map(Either::B)
  }

  /// The session step (`validateSession`) for a verified token: an `Outcome` now (a cached answer, or
  /// with `CachedKeysOnly` a check started in the background and a failure), or a Promise of one.
  #[napi(catch_unwind, ts_return_type = "Outcome | Promise<Outcome>")]
  pub fn session<'env>(
    &self,
    env: &'env Env,
    token: String,
    session_id: Option<String>,
    sub: Option<String>,
    exp_ms: Option<f64>,
    mode: VerifyMode,
  ) -> napi::Result<Either<Outcome, Object<'env>>> {
    probe(1);
    let Some(checker) = self.inner.session.clone() else {
      return Ok(Either::A(passed()));
    };
    let key: SessionKey = match Verifier::session_key(session_id.as_deref(), sub.as_deref()) {
      Ok(key) => key,
      Err(err) => return Ok(Either::A(failed(failure(err)))),
    };
    if let Some(answer) = checker.cached(&key) {
      return Ok(Either::A(stepped(answer)));
    }
    let exp_ms = exp_ms.map(|v| whole(Some(v), 0));
    if matches!(mode, VerifyMode::CachedKeysOnly) {
      return Ok(Either::A(stepped(checker.check_now(key, token, exp_ms))));
    }
    let pending = async move { stepped(checker.check(key, token, exp_ms).await) };
    promise(env, pending, || failed(internal_failure("session"))).map(Either::B)
  }

  /// Memory holding this verifier's key-set epoch (a `Uint32Array` of one), updated by the core the
  /// moment a key leaves the set: a token cache compares against it with no native call. `null` when
  /// the host copies external buffers (then `keyEpoch()` must be called instead).
  #[napi(catch_unwind, ts_return_type = "ArrayBuffer | null")]
  #[allow(unsafe_code, reason = "an external ArrayBuffer over the epoch slot; see SAFETY")]
  pub fn epoch_view<'env>(&self, env: &'env Env) -> napi::Result<Option<ArrayBuffer<'env>>> {
    probe(1);
    let slot = self.epoch_slot.clone();
    let data = Arc::as_ptr(&slot).cast::<u8>().cast_mut();
    // SAFETY: `data` points at the 4 bytes of an `AtomicU32` inside an `Arc` whose clone is the
    // finalize hint, so the memory lives until V8 collects the buffer and the finalizer drops it. Each
    // verifier has its own slot, so no two buffers share memory (nodejs/node#32463). The core only
    // ever writes the slot with an atomic store; JS only reads it.
    let buffer =
      unsafe { ArrayBuffer::from_external(env, data, std::mem::size_of::<AtomicU32>(), slot, |_, slot| drop(slot)) }?;
    // Hosts without external buffers hand back a copy, which would never see an update.
    Ok((buffer.as_ptr() == data.cast_const()).then_some(buffer))
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
    let session = self.inner.session.as_ref();
    let counter = |read: fn(&SessionChecker) -> u64| session.map_or(0.0, |s| read(s) as f64);
    NativeStats {
      jwks_fetches: stats.fetches as f64,
      jwks_failures: stats.failures as f64,
      last_fetch_at: stats.last_fetch_at.map(|t| t as f64),
      last_fetch_status: stats.last_fetch_status,
      keys: u32::try_from(stats.keys).unwrap_or(u32::MAX),
      kids: stats.kids,
      serving_stale: stats.serving_stale,
      cooling_down: stats.cooling_down,
      key_epoch: f64::from(self.inner.keys.epoch()),
      session_checks: counter(|s| s.counters.checks.load(Ordering::Relaxed)),
      session_cache_hits: counter(|s| s.counters.cache_hits.load(Ordering::Relaxed)),
      session_cache_size: counter(|s| s.len() as u64),
      session_fail_open: counter(|s| s.counters.failed_open.load(Ordering::Relaxed)),
    }
  }

  /// The key set's URL as messages show it (no query string), for tracing contexts.
  #[napi(getter)]
  pub fn jwks_uri(&self) -> String {
    self.inner.keys.label().to_string()
  }

  /// The key-set epoch, for hosts where `epochView()` is `null`.
  #[napi(catch_unwind)]
  pub fn key_epoch(&self) -> u32 {
    probe(1);
    self.epoch_slot.load(Ordering::Acquire)
  }
}
