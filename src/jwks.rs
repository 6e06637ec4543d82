//! The key set, and the per-URL key cache around it (README: Key caching).
//!
//! One `KeyCache` per JWKS URL and option set in the process. It never blocks a caller while it holds
//! usable keys: past their fresh age it refreshes in the background, and when a refresh fails it keeps
//! serving them for `max_stale`. Unknown kids refetch at most once per `cooldown`.

use crate::clock::Clock;
use crate::error::{Code, Error, Result};
use crate::fetch::{Fetch, Fetched};
use crate::jwk::Key;
use jsonwebtoken::Algorithm;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tokio::sync::watch;

/// At most this many keys are kept from one document; a larger set is cut (a Hanko set holds a few).
pub const MAX_KEYS: usize = 100;

/// The usable keys of one fetched document.
#[derive(Debug, Default)]
pub struct KeySet {
  pub keys: Vec<Arc<Key>>,
  /// Entries skipped as unusable, with why (for debug output).
  pub skipped: Vec<String>,
}

/// Why no single key was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
  NoMatch,
  Multiple,
}

impl KeySet {
  /// Parses a JWKS document. Unusable entries are skipped; a document with no usable key is
  /// `ERR_JWKS_INVALID`. Keys equal to one in `previous` are reused with their parsed form.
  pub fn parse(body: &[u8], previous: Option<&KeySet>) -> Result<KeySet> {
    let invalid = |why: String| Error::new(Code::JwksInvalid, why);
    let document =
      crate::jws::parse_json_object(body).map_err(|e| invalid(format!("the JWKS is not a JSON object: {e}")))?;
    let Some(serde_json::Value::Array(entries)) = document.get("keys") else {
      return Err(invalid("the JWKS has no \"keys\" array".into()));
    };
    let mut set = KeySet::default();
    for (index, entry) in entries.iter().enumerate() {
      if set.keys.len() >= MAX_KEYS {
        set.skipped.push(format!("keys after the first {MAX_KEYS} usable ones"));
        break;
      }
      match Key::from_json(entry) {
        Ok(key) => {
          let reused = previous.and_then(|p| p.keys.iter().find(|old| ***old == key)).cloned();
          set.keys.push(reused.unwrap_or_else(|| Arc::new(key)));
        }
        Err(why) => set.skipped.push(format!("key {index}: {why}")),
      }
    }
    if set.keys.is_empty() {
      return Err(invalid(format!(
        "the JWKS has no usable key ({})",
        set.skipped.join("; ")
      )));
    }
    Ok(set)
  }

  /// RFC 7517 §4.5: by kid; without a kid, the single usable key for the algorithm.
  pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> std::result::Result<&Arc<Key>, Miss> {
    let mut found = self
      .keys
      .iter()
      .filter(|k| k.usable_for(alg) && (kid.is_none() || k.kid.as_deref() == kid));
    match (found.next(), found.next()) {
      (Some(key), None) => Ok(key),
      (Some(_), Some(_)) => Err(Miss::Multiple),
      (None, _) => Err(Miss::NoMatch),
    }
  }

  pub fn kids(&self) -> Vec<String> {
    self.keys.iter().filter_map(|k| k.kid.clone()).collect()
  }
}

/// Timing and size settings of a key cache, all in milliseconds or bytes (defaults: `config`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheSettings {
  /// Fresh age when the server sends no `Cache-Control: max-age`. Default 600 000.
  pub cache_max_age: u64,
  /// Lower clamp for a server's max-age. Default 30 000.
  pub min_cache_age: u64,
  /// Upper clamp for a server's max-age. Default 86 400 000.
  pub max_cache_age: u64,
  /// No unknown-kid refetch sooner than this after the last fetch started. Default 30 000.
  pub cooldown: u64,
  /// Per request. Default 5 000.
  pub timeout: u64,
  /// How long past their fresh age the last good keys still verify when refreshes fail. Default 86 400 000.
  pub max_stale: u64,
  /// Larger responses are refused. Default 1 048 576.
  pub max_bytes: u64,
}

impl CacheSettings {
  /// With no usable keys, a failed load is retried no sooner than this (so an outage at startup costs
  /// Hanko at most one request per second, however many requests arrive).
  fn retry_after_failure(&self) -> u64 {
    self.cooldown.min(1_000)
  }

  /// Past the fresh age, a background refresh is retried at most this often while refreshes fail.
  fn refresh_retry(&self) -> u64 {
    self.min_cache_age.min(self.cooldown).max(1)
  }
}

/// Whether a lookup may hand a needed fetch back to its caller to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
  /// Report `NeedFetch`: the caller awaits the fetch (`verify()`).
  Allowed,
  /// Start the fetch in the background and fail now (`verifySync()`).
  Never,
}

/// Result of looking for a key without waiting.
pub enum Lookup {
  Found(Arc<Key>),
  Failed(Error),
  /// A fetch is allowed and needed: the caller may wait for it.
  NeedFetch,
}

/// A snapshot for `stats()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheStats {
  pub fetches: u64,
  pub failures: u64,
  pub last_fetch_at: Option<u64>,
  /// `"ok"`, or the error code of the last failed fetch; `None` before the first fetch ends.
  pub last_fetch_status: Option<String>,
  pub keys: usize,
  pub kids: Vec<String>,
  pub serving_stale: bool,
  pub cooling_down: bool,
}

type Done = watch::Receiver<bool>;

#[derive(Default)]
struct State {
  keys: Option<Arc<KeySet>>,
  fresh_until: u64,
  last_fetch_started: Option<u64>,
  last_fetch_ended: Option<u64>,
  /// When the last refetch for an unknown kid started: only those start a cooldown, so a key rotated
  /// in is picked up by its first token even right after the initial load (README: Key caching).
  last_kid_refetch: Option<u64>,
  last_error: Option<Error>,
  in_flight: Option<Done>,
  fetches: u64,
  failures: u64,
}

pub struct KeyCache {
  settings: CacheSettings,
  clock: Arc<dyn Clock>,
  source: Box<dyn Fetch>,
  state: Mutex<State>,
  /// Bumped whenever a key leaves the set, so token caches can drop what that key vouched for.
  epoch: AtomicU32,
  /// Each verifier's copy of `epoch`, in memory its JS side reads directly (see `subscribe_epoch`).
  epoch_slots: Mutex<Vec<Weak<AtomicU32>>>,
  log: fn(&str),
  label: String,
}

/// One key-set fetch, as observers (the JS tracing channel `hanko-auth:jwks`) see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
  pub url: String,
  /// `true` when the fetch starts, `false` when it has ended.
  pub started: bool,
  /// When it ended: `None` for a usable key set, else the error code.
  pub code: Option<&'static str>,
  /// When it ended well: how many usable keys.
  pub keys: usize,
}

type Observer = Box<dyn Fn(&FetchReport) -> bool + Send + Sync>;

static OBSERVERS: std::sync::LazyLock<Mutex<Vec<Observer>>> = std::sync::LazyLock::new(Default::default);

/// Calls `observer` for every fetch of every key cache in the process, from the thread that starts or
/// ends it, until it returns `false` (its listener is gone).
pub fn observe_fetches(observer: Observer) {
  OBSERVERS.lock().unwrap_or_else(|p| p.into_inner()).push(observer);
}

fn report(fetch: &FetchReport) {
  let mut observers = OBSERVERS.lock().unwrap_or_else(|p| p.into_inner());
  if !observers.is_empty() {
    observers.retain(|observer| observer(fetch));
  }
}

fn no_log(_: &str) {}

impl KeyCache {
  pub fn new(settings: CacheSettings, clock: Arc<dyn Clock>, source: Box<dyn Fetch>) -> Arc<KeyCache> {
    Self::with_log(settings, clock, source, no_log, String::new())
  }

  /// `label` names the key set in fetch reports (its URL, as messages show it).
  pub fn with_log(
    settings: CacheSettings,
    clock: Arc<dyn Clock>,
    source: Box<dyn Fetch>,
    log: fn(&str),
    label: String,
  ) -> Arc<KeyCache> {
    Arc::new(KeyCache {
      settings,
      clock,
      source,
      state: Mutex::new(State::default()),
      epoch: AtomicU32::new(0),
      epoch_slots: Mutex::new(Vec::new()),
      log,
      label,
    })
  }

  /// The key set's URL as messages and fetch reports show it.
  pub fn label(&self) -> &str {
    &self.label
  }

  pub fn settings(&self) -> &CacheSettings {
    &self.settings
  }

  fn lock(&self) -> MutexGuard<'_, State> {
    // A poisoned lock only means another thread panicked mid-update; the state is still consistent
    // enough to serve keys (every update is a handful of assignments).
    self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  pub fn epoch(&self) -> u32 {
    self.epoch.load(Ordering::Acquire)
  }

  /// A slot that always holds the current epoch: written here, before any lookup can see the new key
  /// set, so a reader of the slot never trusts a token whose key has left. One slot per subscriber
  /// (each JS verifier wraps its own in an ArrayBuffer; N-API forbids two buffers over one memory).
  pub fn subscribe_epoch(&self) -> Arc<AtomicU32> {
    let mut slots = self.epoch_slots.lock().unwrap_or_else(|p| p.into_inner());
    slots.retain(|slot| slot.strong_count() > 0);
    let slot = Arc::new(AtomicU32::new(self.epoch()));
    slots.push(Arc::downgrade(&slot));
    slot
  }

  fn bump_epoch(&self) {
    let epoch = self.epoch.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
    let slots = self.epoch_slots.lock().unwrap_or_else(|p| p.into_inner());
    for slot in slots.iter().filter_map(Weak::upgrade) {
      slot.store(epoch, Ordering::Release);
    }
  }

  pub fn now(&self) -> u64 {
    self.clock.now_ms()
  }

  fn usable(&self, state: &State, now: u64) -> Option<Arc<KeySet>> {
    let keys = state.keys.as_ref()?;
    (now < state.fresh_until.saturating_add(self.settings.max_stale)).then(|| keys.clone())
  }

  fn since(at: Option<u64>, now: u64) -> u64 {
    at.map_or(u64::MAX, |at| now.saturating_sub(at))
  }

  fn since_last_start(state: &State, now: u64) -> u64 {
    state
      .last_fetch_started
      .map_or(u64::MAX, |started| now.saturating_sub(started))
  }

  /// Finds the key for a token without waiting. May start a background refresh. With `Wait::Never` a
  /// needed fetch is started in the background and the caller gets the error now.
  pub fn lookup(self: &Arc<Self>, kid: Option<&str>, alg: Algorithm, wait: Wait) -> Lookup {
    let now = self.now();
    let mut state = self.lock();
    match self.usable(&state, now) {
      Some(keys) => {
        if now >= state.fresh_until && Self::since_last_start(&state, now) >= self.settings.refresh_retry() {
          (self.log)("key set past its fresh age: refreshing in the background");
          self.start_fetch(&mut state, now);
        }
        match keys.select(kid, alg) {
          Ok(key) => Lookup::Found(key.clone()),
          Err(Miss::Multiple) => Lookup::Failed(miss_error(Miss::Multiple, kid)),
          Err(Miss::NoMatch) => {
            let no_key = miss_error(Miss::NoMatch, kid);
            // A fetch in flight (the initial load, a refresh, another kid's refetch) may bring the key:
            // join it. Otherwise refetch only if no unknown-kid refetch started within the cooldown.
            if state.in_flight.is_none() {
              if Self::since(state.last_kid_refetch, now) < self.settings.cooldown {
                return Lookup::Failed(no_key);
              }
              (self.log)("unknown kid: refetching the key set");
              state.last_kid_refetch = Some(now);
              self.start_fetch(&mut state, now);
            }
            if wait == Wait::Allowed {
              return Lookup::NeedFetch;
            }
            Lookup::Failed(no_key)
          }
        }
      }
      None => {
        // The pause after a failure counts from when that fetch ended, however long it took: a slow
        // failure must not be followed by a second fetch at once (README: Key caching).
        let last_failed = state.last_error.is_some() && state.in_flight.is_none();
        if last_failed && Self::since(state.last_fetch_ended, now) < self.settings.retry_after_failure() {
          return Lookup::Failed(state.last_error.clone().unwrap_or_else(not_loaded));
        }
        if wait == Wait::Allowed {
          return Lookup::NeedFetch;
        }
        self.start_fetch(&mut state, now);
        Lookup::Failed(if state.keys.is_some() {
          state.last_error.clone().unwrap_or_else(not_loaded)
        } else {
          not_loaded()
        })
      }
    }
  }

  /// Finds the key, waiting for at most one fetch when one is needed and allowed.
  pub async fn key_for(self: &Arc<Self>, kid: Option<&str>, alg: Algorithm) -> Result<Arc<Key>> {
    match self.lookup(kid, alg, Wait::Allowed) {
      Lookup::Found(key) => return Ok(key),
      Lookup::Failed(err) => return Err(err),
      Lookup::NeedFetch => {}
    }
    self.fetch_now().await;
    self.select_after_fetch(kid, alg)
  }

  /// The key from what the fetch just waited for brought, starting no other fetch: with no usable keys
  /// the answer is that fetch's own error (`ERR_JWKS_NOT_LOADED` is only ever `verifySync`'s).
  fn select_after_fetch(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<Key>> {
    let now = self.now();
    let state = self.lock();
    let Some(keys) = self.usable(&state, now) else {
      return Err(
        state
          .last_error
          .clone()
          .unwrap_or_else(|| Error::new(Code::JwksUnavailable, "the key set fetch ended without keys")),
      );
    };
    match keys.select(kid, alg) {
      Ok(key) => Ok(key.clone()),
      Err(miss) => Err(miss_error(miss, kid)),
    }
  }

  /// Loads the key set now (or joins the fetch in flight); `Err` when no usable keys result.
  pub async fn reload(self: &Arc<Self>) -> Result<()> {
    self.fetch_now().await;
    let now = self.now();
    let state = self.lock();
    // `complete` clears `last_error` on success, so an error here is the outcome of the latest fetch.
    match (&state.last_error, self.usable(&state, now)) {
      (Some(err), _) => Err(err.clone()),
      (None, Some(_)) => Ok(()),
      (None, None) => Err(not_loaded()),
    }
  }

  /// Loads the key set unless usable keys are cached (`ready()`).
  pub async fn ensure_loaded(self: &Arc<Self>) -> Result<()> {
    let now = self.now();
    if self.usable(&self.lock(), now).is_some() {
      return Ok(());
    }
    self.reload().await
  }

  async fn fetch_now(self: &Arc<Self>) {
    let mut done = {
      let now = self.now();
      let mut state = self.lock();
      self.start_fetch(&mut state, now)
    };
    // The sender lives in the fetch task; if that task is gone, there is nothing left to wait for.
    let _ = done.wait_for(|finished| *finished).await;
  }

  /// Starts a fetch unless one is in flight; either way returns a handle that completes with it.
  fn start_fetch(self: &Arc<Self>, state: &mut State, now: u64) -> Done {
    if let Some(done) = &state.in_flight {
      return done.clone();
    }
    let (tx, rx) = watch::channel(false);
    state.in_flight = Some(rx.clone());
    state.last_fetch_started = Some(now);
    state.fetches += 1;
    report(&FetchReport {
      url: self.label.clone(),
      started: true,
      code: None,
      keys: 0,
    });
    let cache = Arc::downgrade(self);
    let future = self.source.fetch();
    let task = async move {
      let result = future.await;
      if let Some(cache) = Weak::upgrade(&cache) {
        cache.complete(result);
      }
      let _ = tx.send(true);
    };
    match crate::runtime::get() {
      Ok(runtime) => {
        runtime.spawn(task);
      }
      Err(err) => {
        state.in_flight = None;
        state.last_error = Some(err);
        state.failures += 1;
        // Dropping `tx` here closes the channel, which ends every wait on it.
      }
    }
    rx
  }

  fn complete(&self, result: Result<Fetched>) {
    // Parse before taking the lock that every lookup (and so `verifySync` on the JS thread) needs: a
    // 1 MiB hostile key set must not stall it (README: Key caching). Only this fetch's task writes `keys`, so the
    // previous set read here is still the current one below.
    let previous = self.lock().keys.clone();
    let parsed = result.and_then(|fetched| {
      let set = KeySet::parse(&fetched.body, previous.as_deref())?;
      Ok((set, fetched.max_age_ms))
    });
    let now = self.now();
    let mut state = self.lock();
    state.in_flight = None;
    state.last_fetch_ended = Some(now);
    match parsed {
      Ok((set, max_age)) => {
        let settings = &self.settings;
        let fresh_for = max_age.map_or(settings.cache_max_age, |age| {
          age.clamp(settings.min_cache_age, settings.max_cache_age)
        });
        for skipped in &set.skipped {
          (self.log)(&format!("skipped a JWKS entry: {skipped}"));
        }
        if let Some(old) = &state.keys {
          if old.keys.iter().any(|k| !set.keys.iter().any(|n| Arc::ptr_eq(k, n))) {
            self.bump_epoch();
            (self.log)("a key left the key set");
          }
        }
        (self.log)(&format!(
          "fetched the key set: {} usable keys, fresh for {} ms",
          set.keys.len(),
          fresh_for
        ));
        state.keys = Some(Arc::new(set));
        state.fresh_until = now.saturating_add(fresh_for);
        state.last_error = None;
      }
      Err(err) => {
        state.failures += 1;
        if self.usable(&state, now).is_some() {
          (self.log)(&format!("key set refresh failed, serving the last good keys: {err}"));
        } else {
          (self.log)(&format!("key set fetch failed: {err}"));
        }
        state.last_error = Some(err);
      }
    }
    let ended = FetchReport {
      url: self.label.clone(),
      started: false,
      code: state.last_error.as_ref().map(|e| e.code.as_str()),
      keys: state.keys.as_ref().map_or(0, |k| k.keys.len()),
    };
    drop(state);
    report(&ended);
  }

  pub fn stats(&self) -> CacheStats {
    let now = self.now();
    let state = self.lock();
    let keys = state.keys.as_ref();
    let usable = self.usable(&state, now).is_some();
    CacheStats {
      fetches: state.fetches,
      failures: state.failures,
      last_fetch_at: state.last_fetch_started,
      last_fetch_status: state.last_fetch_ended.map(|_| match &state.last_error {
        Some(err) => err.code.as_str().to_string(),
        None => "ok".to_string(),
      }),
      keys: keys.map_or(0, |k| k.keys.len()),
      kids: keys.map(|k| k.kids()).unwrap_or_default(),
      serving_stale: usable && now >= state.fresh_until,
      cooling_down: Self::since(state.last_kid_refetch, now) < self.settings.cooldown,
    }
  }
}

fn miss_error(miss: Miss, kid: Option<&str>) -> Error {
  match (miss, kid) {
    (Miss::Multiple, _) => Error::new(
      Code::JwksMultipleMatchingKeys,
      "more than one key in the key set matches the token; it must name one with \"kid\"",
    ),
    (Miss::NoMatch, Some(kid)) => Error::new(
      Code::JwksNoMatchingKey,
      format!("no usable key with kid {:?} in the key set", crate::jws::truncate(kid)),
    ),
    (Miss::NoMatch, None) => Error::new(
      Code::JwksNoMatchingKey,
      "no usable key in the key set for the token's algorithm",
    ),
  }
}

fn not_loaded() -> Error {
  Error::new(Code::JwksNotLoaded, "the key set has not been loaded yet")
}

/// One cache per JWKS URL and settings in the process, shared by every verifier and worker thread.
pub fn shared(
  key: String,
  make: impl FnOnce() -> std::result::Result<Arc<KeyCache>, String>,
) -> std::result::Result<Arc<KeyCache>, String> {
  use std::sync::LazyLock;
  static CACHES: LazyLock<Mutex<HashMap<String, Weak<KeyCache>>>> = LazyLock::new(Default::default);
  let mut caches = CACHES.lock().unwrap_or_else(|p| p.into_inner());
  if let Some(cache) = caches.get(&key).and_then(Weak::upgrade) {
    return Ok(cache);
  }
  caches.retain(|_, weak| weak.strong_count() > 0);
  let cache = make()?;
  caches.insert(key, Arc::downgrade(&cache));
  Ok(cache)
}

#[cfg(test)]
mod tests {
  #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
  use super::*;
  use crate::clock::ManualClock;
  use crate::fetch::BoxFuture;
  use crate::jwk::tests::{A2_N, A3_X, A3_Y};
  use serde_json::json;
  use std::sync::atomic::AtomicUsize;

  /// A key-set source whose answer the test sets; counts calls.
  #[derive(Clone, Default)]
  struct Script {
    answer: Arc<Mutex<Option<Result<Fetched>>>>,
    calls: Arc<AtomicUsize>,
    delay_ms: u64,
  }
  impl Script {
    fn set(&self, answer: Result<Fetched>) {
      *self.answer.lock().unwrap() = Some(answer);
    }
    fn calls(&self) -> usize {
      self.calls.load(Ordering::SeqCst)
    }
  }
  impl Fetch for Script {
    fn fetch(&self) -> BoxFuture<Result<Fetched>> {
      self.calls.fetch_add(1, Ordering::SeqCst);
      let answer = self.answer.lock().unwrap().clone().unwrap();
      let delay = self.delay_ms;
      Box::pin(async move {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        answer
      })
    }
  }

  fn doc(keys: serde_json::Value, max_age_ms: Option<u64>) -> Result<Fetched> {
    Ok(Fetched {
      body: json!({ "keys": keys }).to_string().into_bytes(),
      max_age_ms,
      status: 200,
    })
  }
  fn rsa(kid: &str) -> serde_json::Value {
    json!({"kty":"RSA","n":A2_N,"e":"AQAB","kid":kid,"alg":"RS256","use":"sig"})
  }
  fn down() -> Result<Fetched> {
    Err(Error::new(Code::JwksUnavailable, "down"))
  }
  fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    crate::runtime::get().unwrap().block_on(f)
  }
  fn setup(settings: CacheSettings) -> (Arc<KeyCache>, Script, Arc<ManualClock>) {
    let script = Script::default();
    script.set(doc(json!([rsa("k1")]), None));
    let clock = ManualClock::at(1_000_000);
    let cache = KeyCache::new(settings, clock.clone(), Box::new(script.clone()));
    (cache, script, clock)
  }
  fn found(cache: &Arc<KeyCache>, kid: &str) -> Result<Arc<Key>> {
    block(cache.key_for(Some(kid), Algorithm::RS256))
  }
  fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(50));
  }

  #[test]
  fn a_partly_broken_set_keeps_its_usable_keys() {
    let body =
      json!({"keys":[rsa("k1"), {"kty":"oct","k":"AA"}, {"kty":"EC","crv":"P-256","x":A3_X,"y":A3_Y,"kid":"ec"}, 7]});
    let set = KeySet::parse(body.to_string().as_bytes(), None).unwrap();
    assert_eq!(set.kids(), ["k1", "ec"]);
    assert_eq!(set.skipped.len(), 2);
    for bad in [
      json!({"keys":[]}),
      json!({"keys":[{"kty":"oct","k":"AA"}]}),
      json!({"nokeys":1}),
      json!([1]),
    ] {
      let err = KeySet::parse(bad.to_string().as_bytes(), None).unwrap_err();
      assert_eq!(err.code.as_str(), "ERR_JWKS_INVALID", "{bad}");
    }
  }

  #[test]
  fn fuzz_regressions_parse_without_panicking() {
    // Every input the fuzzer ever crashed on is kept in fuzz/regressions/jwks and replayed here.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/jwks");
    for entry in std::fs::read_dir(dir).unwrap() {
      let body = std::fs::read(entry.unwrap().path()).unwrap();
      let _ = KeySet::parse(&body, None);
    }
  }

  #[test]
  fn kidless_selection_needs_exactly_one_usable_key() {
    let one = KeySet::parse(json!({"keys":[rsa("a")]}).to_string().as_bytes(), None).unwrap();
    assert!(one.select(None, Algorithm::RS256).is_ok());
    assert_eq!(one.select(None, Algorithm::ES256).unwrap_err(), Miss::NoMatch);
    let two = KeySet::parse(json!({"keys":[rsa("a"), rsa("b")]}).to_string().as_bytes(), None).unwrap();
    assert_eq!(two.select(None, Algorithm::RS256).unwrap_err(), Miss::Multiple);
    assert!(two.select(Some("b"), Algorithm::RS256).is_ok());
    assert_eq!(two.select(Some("c"), Algorithm::RS256).unwrap_err(), Miss::NoMatch);
  }

  #[test]
  fn first_use_fetches_once_and_unknown_kids_respect_the_cooldown() {
    let (cache, script, clock) = setup(CacheSettings::default());
    assert!(found(&cache, "k1").is_ok());
    assert_eq!(script.calls(), 1);
    // The initial load starts no cooldown: a key rotated in right after it is picked up by its first
    // token (issue #15 item 2).
    script.set(doc(json!([rsa("k1"), rsa("k2")]), None));
    assert!(
      found(&cache, "k2").is_ok(),
      "rotation: the new kid verifies after one refetch"
    );
    assert_eq!(script.calls(), 2);
    // That refetch for an unknown kid does start one: a flood of random kids makes no more requests.
    for i in 0..100 {
      assert_eq!(
        found(&cache, &format!("random-{i}")).unwrap_err().code.as_str(),
        "ERR_JWKS_NO_MATCHING_KEY"
      );
    }
    assert_eq!(
      script.calls(),
      2,
      "a flood of unknown kids causes no fetch within the cooldown"
    );
    clock.advance(30_000);
    assert!(found(&cache, "random-x").is_err());
    assert_eq!(script.calls(), 3, "one refetch per cooldown");
  }

  #[test]
  fn past_fresh_age_keys_still_serve_while_one_background_refresh_runs() {
    let (cache, script, clock) = setup(CacheSettings::default());
    found(&cache, "k1").unwrap();
    clock.advance(600_000);
    script.set(down());
    assert!(matches!(
      cache.lookup(Some("k1"), Algorithm::RS256, Wait::Never),
      Lookup::Found(_)
    ));
    assert!(matches!(
      cache.lookup(Some("k1"), Algorithm::RS256, Wait::Never),
      Lookup::Found(_)
    ));
    settle();
    assert_eq!(script.calls(), 2, "one background refresh");
    let stats = cache.stats();
    assert!(stats.serving_stale);
    assert_eq!(stats.last_fetch_status.as_deref(), Some("ERR_JWKS_UNAVAILABLE"));
    clock.advance(86_400_000 - 1);
    assert!(found(&cache, "k1").is_ok(), "still within max_stale");
    clock.advance(1);
    let err = found(&cache, "k1").unwrap_err();
    assert_eq!(
      err.code.as_str(),
      "ERR_JWKS_UNAVAILABLE",
      "past max_stale, with the endpoint down"
    );
    script.set(doc(json!([rsa("k1")]), None));
    clock.advance(1_000);
    assert!(found(&cache, "k1").is_ok(), "recovers on the next due fetch");
  }

  #[test]
  fn a_failed_first_load_is_retried_after_a_pause_not_per_request() {
    let (cache, script, clock) = setup(CacheSettings::default());
    script.set(down());
    assert_eq!(found(&cache, "k1").unwrap_err().code.as_str(), "ERR_JWKS_UNAVAILABLE");
    for _ in 0..50 {
      assert!(found(&cache, "k1").is_err());
    }
    assert_eq!(script.calls(), 1);
    script.set(doc(json!([rsa("k1")]), None));
    clock.advance(1_000);
    assert!(found(&cache, "k1").is_ok());
    assert_eq!(script.calls(), 2);
  }

  #[test]
  fn server_max_age_is_clamped() {
    let (cache, script, clock) = setup(CacheSettings::default());
    script.set(doc(json!([rsa("k1")]), Some(1_000)));
    found(&cache, "k1").unwrap();
    clock.advance(29_999);
    assert!(!cache.stats().serving_stale, "clamped up to min_cache_age");
    clock.advance(1);
    assert!(cache.stats().serving_stale);
    let (cache, script, clock) = setup(CacheSettings::default());
    script.set(doc(json!([rsa("k1")]), Some(200_000)));
    found(&cache, "k1").unwrap();
    clock.advance(199_999);
    assert!(!cache.stats().serving_stale);
    clock.advance(1);
    assert!(cache.stats().serving_stale);
  }

  #[test]
  fn a_key_leaving_the_set_bumps_the_epoch_and_stops_verifying() {
    let (cache, script, clock) = setup(CacheSettings::default());
    script.set(doc(json!([rsa("k1"), rsa("k2")]), None));
    let k1 = found(&cache, "k1").unwrap();
    assert_eq!(cache.epoch(), 0);
    let (first, second) = (cache.subscribe_epoch(), cache.subscribe_epoch());
    clock.advance(600_000);
    script.set(doc(json!([rsa("k1")]), None));
    block(cache.reload()).unwrap();
    assert_eq!(cache.epoch(), 1);
    // Every subscriber's slot already holds the new epoch when reload() returns.
    assert_eq!((first.load(Ordering::Acquire), second.load(Ordering::Acquire)), (1, 1));
    drop(second);
    assert_eq!(
      cache.subscribe_epoch().load(Ordering::Acquire),
      1,
      "a new slot starts at the current epoch"
    );
    assert!(
      Arc::ptr_eq(&k1, &found(&cache, "k1").unwrap()),
      "an unchanged key keeps its parsed form"
    );
    assert_eq!(
      found(&cache, "k2").unwrap_err().code.as_str(),
      "ERR_JWKS_NO_MATCHING_KEY"
    );
  }

  #[test]
  fn concurrent_first_requests_share_one_fetch() {
    let (cache, _, _) = setup(CacheSettings::default());
    let script = Script {
      delay_ms: 100,
      ..Script::default()
    };
    script.set(doc(json!([rsa("k1")]), None));
    let cache = KeyCache::new(cache.settings().clone(), ManualClock::at(5), Box::new(script.clone()));
    let results = block(async {
      let tasks: Vec<_> = (0..200)
        .map(|_| {
          let cache = cache.clone();
          tokio::spawn(async move { cache.key_for(Some("k1"), Algorithm::RS256).await.is_ok() })
        })
        .collect();
      let mut ok = 0;
      for task in tasks {
        ok += usize::from(task.await.unwrap());
      }
      ok
    });
    assert_eq!(results, 200);
    assert_eq!(script.calls(), 1);
  }

  #[test]
  fn sync_lookup_never_waits_but_starts_the_fetch() {
    let (cache, script, _) = setup(CacheSettings::default());
    let Lookup::Failed(err) = cache.lookup(Some("k1"), Algorithm::RS256, Wait::Never) else {
      panic!()
    };
    assert_eq!(err.code.as_str(), "ERR_JWKS_NOT_LOADED");
    settle();
    assert_eq!(script.calls(), 1);
    assert!(matches!(
      cache.lookup(Some("k1"), Algorithm::RS256, Wait::Never),
      Lookup::Found(_)
    ));
  }
}
