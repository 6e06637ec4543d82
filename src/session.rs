//! Server-side session confirmation against Hanko's `POST <api>/sessions/validate` (README: Local verification and revocation).
//!
//! Local verification says a token was issued by Hanko; only Hanko knows whether the session has since
//! ended (logout, revocation, limits, idle timeout). Answers are cached per `session_id` and `sub`
//! together for `ttl` (never past the token's `exp`), with one request in flight per session. `failOpen`
//! and its counter live here too, so the sync and async paths share one rule.

use crate::clock::Clock;
use crate::error::{Code, Error, Result};
use crate::fetch::{BoxFuture, HttpClient};
use reqwest::Url;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// Session ids longer than this are not looked up (Hanko's are UUIDs).
pub const MAX_SESSION_ID_BYTES: usize = 256;

/// How session answers are cached, and whether an unreachable Hanko lets tokens through (defaults:
/// `config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
  /// How long an answer is trusted, in ms. Default 30 000.
  pub ttl: u64,
  /// Sessions remembered at most. Default 10 000.
  pub max_entries: usize,
  /// Accept the token when Hanko cannot be reached, times out, or answers 5xx/429. Default false.
  pub fail_open: bool,
}

/// What Hanko said about a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
  Live,
  Dead,
}

/// Why Hanko gave no answer, which decides whether `failOpen` may apply (README: Local verification and revocation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoAnswer {
  /// Unreachable, timed out, or 5xx/429: Hanko is down or busy; `failOpen` may accept the token.
  Unavailable(Error),
  /// Anything else (a redirect, another 4xx, garbage): not Hanko's documented answer; always refused.
  Unexpected(Error),
}

impl NoAnswer {
  fn error(&self) -> &Error {
    match self {
      NoAnswer::Unavailable(err) | NoAnswer::Unexpected(err) => err,
    }
  }
}

/// Reads a `/sessions/validate` answer. `{"is_valid": false}` is a dead session whatever the status;
/// `{"is_valid": true}` counts only with a 2xx status.
pub fn read_answer(status: u16, body: &[u8]) -> std::result::Result<Answer, NoAnswer> {
  let is_valid = crate::jws::parse_json_object(body)
    .ok()
    .and_then(|object| object.get("is_valid").and_then(serde_json::Value::as_bool));
  match (is_valid, status) {
    (Some(false), _) => Ok(Answer::Dead),
    (Some(true), 200..=299) => Ok(Answer::Live),
    (_, 429 | 500..=599) => Err(NoAnswer::Unavailable(Error::new(
      Code::SessionUnavailable,
      format!("the session service answered HTTP {status}"),
    ))),
    (_, 200..=299) => Err(NoAnswer::Unexpected(Error::new(
      Code::SessionUnavailable,
      "the session service answered something other than {\"is_valid\": …}",
    ))),
    _ => Err(NoAnswer::Unexpected(Error::new(
      Code::SessionUnavailable,
      format!("the session service answered HTTP {status} without a session answer"),
    ))),
  }
}

/// Asks Hanko about one token. HTTP in production; a scripted answer in unit tests.
pub trait SessionTransport: Send + Sync + 'static {
  fn ask(&self, token: &str) -> BoxFuture<std::result::Result<Answer, NoAnswer>>;
}

/// The production transport: `POST <api>/sessions/validate` with `{"session_token": …}`, no redirects.
pub struct HttpSessions {
  pub client: HttpClient,
  pub url: Url,
}

impl SessionTransport for HttpSessions {
  fn ask(&self, token: &str) -> BoxFuture<std::result::Result<Answer, NoAnswer>> {
    let (client, url) = (self.client.clone(), self.url.clone());
    let body = serde_json::json!({ "session_token": token }).to_string().into_bytes();
    Box::pin(async move {
      match client.exchange(url, Some(body), "the session service").await {
        // Transport failures (unreachable, timeout, too large) get the session code, not the JWKS ones.
        Err(err) => Err(NoAnswer::Unavailable(Error::new(Code::SessionUnavailable, err.message))),
        Ok(fetched) => read_answer(fetched.status, &fetched.body),
      }
    })
  }
}

/// Which session of which user: a token of another user carrying the same `session_id` is another key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
  pub session_id: String,
  pub sub: String,
}

type Asked = std::result::Result<Answer, NoAnswer>;

struct Entry {
  answer: Answer,
  until: u64,
  seq: u64,
}

#[derive(Default)]
struct State {
  entries: HashMap<SessionKey, Entry>,
  order: VecDeque<(SessionKey, u64)>,
  in_flight: HashMap<SessionKey, watch::Receiver<Option<Asked>>>,
  seq: u64,
}

/// Counters for `stats()`.
#[derive(Default)]
pub struct SessionCounters {
  pub checks: AtomicU64,
  pub cache_hits: AtomicU64,
  pub failed_open: AtomicU64,
}

pub struct SessionChecker {
  transport: Box<dyn SessionTransport>,
  settings: SessionSettings,
  clock: Arc<dyn Clock>,
  state: Mutex<State>,
  pub counters: SessionCounters,
  log: fn(&str),
}

fn dead() -> Error {
  Error::new(
    Code::SessionInvalid,
    "the session has ended (logged out, revoked or expired at Hanko)",
  )
}

fn not_confirmed() -> Error {
  Error::new(
    Code::SessionUnavailable,
    "the session is not confirmed yet; verifySync cannot wait for Hanko (use verify)",
  )
}

impl SessionChecker {
  pub fn new(
    transport: Box<dyn SessionTransport>,
    settings: SessionSettings,
    clock: Arc<dyn Clock>,
    log: fn(&str),
  ) -> SessionChecker {
    SessionChecker {
      transport,
      settings,
      clock,
      state: Mutex::default(),
      counters: SessionCounters::default(),
      log,
    }
  }

  fn lock(&self) -> MutexGuard<'_, State> {
    self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// The key for a verified token's claims, or why the token cannot be checked.
  pub fn key_for(session_id: Option<&str>, sub: Option<&str>) -> Result<SessionKey> {
    let invalid = |why: &str| {
      Error::claim(
        Code::JwtClaimValidationFailed,
        "session_id",
        crate::error::reason::INVALID,
        why.to_string(),
      )
    };
    let session_id = session_id.ok_or_else(|| invalid("\"session_id\" claim must be a string"))?;
    if session_id.len() > MAX_SESSION_ID_BYTES {
      return Err(invalid("\"session_id\" claim is too long"));
    }
    Ok(SessionKey {
      session_id: session_id.to_string(),
      sub: sub.unwrap_or_default().to_string(),
    })
  }

  /// The cached answer, if still trusted: `Some(Ok)` live, `Some(Err)` ended, `None` unknown.
  pub fn cached(&self, key: &SessionKey) -> Option<Result<()>> {
    let now = self.clock.now_ms();
    let state = self.lock();
    let entry = state.entries.get(key).filter(|entry| now < entry.until)?;
    self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
    Some(match entry.answer {
      Answer::Live => Ok(()),
      Answer::Dead => Err(dead()),
    })
  }

  /// Confirms the session, asking Hanko when no trusted answer is cached (one request in flight per
  /// session). `exp_ms` caps how long a live answer is cached.
  pub async fn check(self: &Arc<Self>, key: SessionKey, token: String, exp_ms: Option<u64>) -> Result<()> {
    if let Some(answer) = self.cached(&key) {
      return answer;
    }
    let mut done = self.ask_once(key, token, exp_ms);
    let asked = match done.wait_for(Option::is_some).await {
      Ok(value) => value.clone(),
      Err(_) => None,
    };
    let asked = asked.unwrap_or_else(|| {
      Err(NoAnswer::Unexpected(Error::new(
        Code::SessionUnavailable,
        "the session check was abandoned",
      )))
    });
    self.decide(asked)
  }

  /// `verifySync`'s step: a trusted cached answer, else the check starts in the background and the
  /// token fails now. Never fails open: a session nobody has confirmed is not accepted synchronously.
  pub fn check_now(self: &Arc<Self>, key: SessionKey, token: String, exp_ms: Option<u64>) -> Result<()> {
    if let Some(answer) = self.cached(&key) {
      return answer;
    }
    drop(self.ask_once(key, token, exp_ms));
    Err(not_confirmed())
  }

  fn decide(&self, asked: Asked) -> Result<()> {
    match asked {
      Ok(Answer::Live) => Ok(()),
      Ok(Answer::Dead) => Err(dead()),
      Err(NoAnswer::Unavailable(_)) if self.settings.fail_open => {
        self.counters.failed_open.fetch_add(1, Ordering::Relaxed);
        (self.log)("the session service could not be reached: accepting the token (failOpen)");
        Ok(())
      }
      Err(no_answer) => Err(no_answer.error().clone()),
    }
  }

  /// Joins the request in flight for this session, or starts one.
  fn ask_once(self: &Arc<Self>, key: SessionKey, token: String, exp_ms: Option<u64>) -> watch::Receiver<Option<Asked>> {
    let mut state = self.lock();
    if let Some(rx) = state.in_flight.get(&key) {
      return rx.clone();
    }
    let (tx, rx) = watch::channel(None);
    let checker = self.clone();
    let future = self.transport.ask(&token);
    let task_key = key.clone();
    let task = async move {
      checker.counters.checks.fetch_add(1, Ordering::Relaxed);
      let asked = future.await;
      checker.remember(&task_key, &asked, exp_ms);
      let _ = tx.send(Some(asked));
    };
    match crate::runtime::get() {
      Ok(runtime) => {
        state.in_flight.insert(key, rx.clone());
        runtime.spawn(task);
      }
      // Dropping the task drops `tx`: every wait on `rx` ends, as "abandoned".
      Err(_) => drop(task),
    }
    rx
  }

  fn remember(&self, key: &SessionKey, asked: &Asked, exp_ms: Option<u64>) {
    let now = self.clock.now_ms();
    let mut state = self.lock();
    state.in_flight.remove(key);
    let Ok(answer) = asked else { return };
    let mut until = now.saturating_add(self.settings.ttl);
    if let (Answer::Live, Some(exp)) = (answer, exp_ms) {
      until = until.min(exp);
    }
    while state.entries.len() >= self.settings.max_entries.max(1) {
      let Some((oldest, seq)) = state.order.pop_front() else {
        break;
      };
      if state.entries.get(&oldest).is_some_and(|e| e.seq == seq) {
        state.entries.remove(&oldest);
      }
    }
    state.seq += 1;
    let seq = state.seq;
    state.entries.insert(
      key.clone(),
      Entry {
        answer: *answer,
        until,
        seq,
      },
    );
    state.order.push_back((key.clone(), seq));
    // Stale order records (re-inserted sessions) are dropped lazily; keep the queue bounded too.
    if state.order.len() > self.settings.max_entries.saturating_mul(2) {
      let State { entries, order, .. } = &mut *state;
      order.retain(|(id, seq)| entries.get(id).is_some_and(|e| e.seq == *seq));
    }
  }

  pub fn len(&self) -> usize {
    self.lock().entries.len()
  }

  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }
}

#[cfg(test)]
mod tests {
  #![allow(clippy::unwrap_used, clippy::panic)]
  use super::*;
  use crate::clock::ManualClock;
  use std::sync::atomic::AtomicUsize;
  use tokio::sync::Notify;

  /// A transport that answers what the test says, counts calls, and can hold answers back.
  struct Scripted {
    answer: Mutex<Asked>,
    calls: Arc<AtomicUsize>,
    gate: Option<Arc<Notify>>,
  }

  impl SessionTransport for Scripted {
    fn ask(&self, _token: &str) -> BoxFuture<Asked> {
      self.calls.fetch_add(1, Ordering::SeqCst);
      let answer = self.answer.lock().unwrap().clone();
      let gate = self.gate.clone();
      Box::pin(async move {
        if let Some(gate) = gate {
          gate.notified().await;
        }
        answer
      })
    }
  }

  struct Setup {
    checker: Arc<SessionChecker>,
    calls: Arc<AtomicUsize>,
    clock: Arc<ManualClock>,
  }

  fn setup(answer: Asked, settings: SessionSettings, gate: Option<Arc<Notify>>) -> Setup {
    let calls = Arc::new(AtomicUsize::new(0));
    let clock = ManualClock::at(1_000_000);
    let transport = Scripted {
      answer: Mutex::new(answer),
      calls: calls.clone(),
      gate,
    };
    let checker = Arc::new(SessionChecker::new(
      Box::new(transport),
      settings,
      clock.clone(),
      |_| {},
    ));
    Setup { checker, calls, clock }
  }

  fn key(id: &str, sub: &str) -> SessionKey {
    SessionKey {
      session_id: id.into(),
      sub: sub.into(),
    }
  }

  fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    crate::runtime::get().unwrap().block_on(f)
  }

  fn check(s: &Setup, k: &SessionKey) -> Result<()> {
    block(s.checker.check(k.clone(), "token".into(), None))
  }

  fn code(result: Result<()>) -> &'static str {
    result.err().map_or("ok", |e| e.code.as_str())
  }

  fn unavailable() -> Asked {
    Err(NoAnswer::Unavailable(Error::new(Code::SessionUnavailable, "down")))
  }

  #[test]
  fn answers_are_read_strictly() {
    let read = |status, body: &[u8]| match read_answer(status, body) {
      Ok(Answer::Live) => "live",
      Ok(Answer::Dead) => "dead",
      Err(NoAnswer::Unavailable(_)) => "unavailable",
      Err(NoAnswer::Unexpected(_)) => "unexpected",
    };
    assert_eq!(read(200, br#"{"is_valid":true,"claims":{"sub":"x"}}"#), "live");
    assert_eq!(read(200, br#"{"is_valid":false}"#), "dead");
    // is_valid: false refuses whatever the status; is_valid: true counts only with a 2xx.
    for status in [400, 401, 403, 500] {
      assert_eq!(read(status, br#"{"is_valid":false}"#), "dead");
    }
    assert_eq!(read(401, br#"{"is_valid":true}"#), "unexpected");
    assert_eq!(read(302, b""), "unexpected");
    assert_eq!(read(404, b"not found"), "unexpected");
    assert_eq!(read(429, b""), "unavailable");
    assert_eq!(read(503, b"<html>"), "unavailable");
    for bad in [
      &b""[..],
      b"[]",
      b"{}",
      br#"{"is_valid":"true"}"#,
      br#"{"is_valid":1}"#,
      b"<html>",
      br#"{"is_valid":true,"is_valid":false}"#,
    ] {
      assert_eq!(read(200, bad), "unexpected", "{}", String::from_utf8_lossy(bad));
    }
  }

  #[test]
  fn an_answer_is_trusted_for_ttl_then_asked_again() {
    let s = setup(
      Ok(Answer::Live),
      SessionSettings {
        ttl: 30_000,
        ..Default::default()
      },
      None,
    );
    let k = key("s1", "u1");
    assert_eq!(code(check(&s, &k)), "ok");
    assert_eq!(code(check(&s, &k)), "ok");
    assert_eq!(s.calls.load(Ordering::SeqCst), 1);
    s.clock.advance(29_999);
    assert_eq!(code(check(&s, &k)), "ok");
    assert_eq!(s.calls.load(Ordering::SeqCst), 1);
    s.clock.advance(1);
    assert_eq!(code(check(&s, &k)), "ok");
    assert_eq!(s.calls.load(Ordering::SeqCst), 2);
  }

  #[test]
  fn a_live_answer_never_outlives_exp() {
    let s = setup(Ok(Answer::Live), SessionSettings::default(), None);
    let k = key("s1", "u1");
    block(s.checker.check(k.clone(), "t".into(), Some(1_000_000 + 5_000))).unwrap();
    s.clock.advance(5_000);
    assert!(s.checker.cached(&k).is_none());
  }

  #[test]
  fn an_ended_session_is_refused_and_cached() {
    let s = setup(Ok(Answer::Dead), SessionSettings::default(), None);
    let k = key("s1", "u1");
    assert_eq!(code(check(&s, &k)), "ERR_SESSION_INVALID");
    assert_eq!(code(check(&s, &k)), "ERR_SESSION_INVALID");
    assert_eq!(s.calls.load(Ordering::SeqCst), 1);
  }

  #[test]
  fn the_cache_is_keyed_by_session_and_subject_together() {
    let s = setup(Ok(Answer::Live), SessionSettings::default(), None);
    check(&s, &key("s1", "alice")).unwrap();
    assert!(s.checker.cached(&key("s1", "alice")).is_some());
    assert!(s.checker.cached(&key("s1", "mallory")).is_none());
  }

  #[test]
  fn the_cache_evicts_the_oldest_beyond_max_entries() {
    let s = setup(
      Ok(Answer::Live),
      SessionSettings {
        max_entries: 3,
        ..Default::default()
      },
      None,
    );
    for id in ["a", "b", "c", "d"] {
      check(&s, &key(id, "u")).unwrap();
    }
    assert_eq!(s.checker.len(), 3);
    assert!(s.checker.cached(&key("a", "u")).is_none());
    assert!(s.checker.cached(&key("d", "u")).is_some());
  }

  #[test]
  fn concurrent_checks_of_one_session_share_one_request() {
    let gate = Arc::new(Notify::new());
    let s = setup(Ok(Answer::Live), SessionSettings::default(), Some(gate.clone()));
    let k = key("s1", "u1");
    let checks: Vec<_> = (0..50)
      .map(|_| {
        let (checker, k) = (s.checker.clone(), k.clone());
        crate::runtime::get()
          .unwrap()
          .spawn(async move { checker.check(k, "t".into(), None).await })
      })
      .collect();
    std::thread::sleep(std::time::Duration::from_millis(50));
    gate.notify_waiters();
    gate.notify_one();
    for check in checks {
      block(check).unwrap().unwrap();
    }
    assert_eq!(s.calls.load(Ordering::SeqCst), 1);
  }

  #[test]
  fn fail_open_covers_only_an_unreachable_hanko_and_is_counted() {
    let open = SessionSettings {
      fail_open: true,
      ..Default::default()
    };
    let s = setup(unavailable(), open.clone(), None);
    assert_eq!(code(check(&s, &key("s1", "u"))), "ok");
    assert_eq!(s.checker.counters.failed_open.load(Ordering::Relaxed), 1);
    // Failures are not cached: the next request asks again.
    assert_eq!(code(check(&s, &key("s1", "u"))), "ok");
    assert_eq!(s.calls.load(Ordering::SeqCst), 2);

    let unexpected = setup(
      Err(NoAnswer::Unexpected(Error::new(Code::SessionUnavailable, "302"))),
      open.clone(),
      None,
    );
    assert_eq!(code(check(&unexpected, &key("s1", "u"))), "ERR_SESSION_UNAVAILABLE");
    let dead = setup(Ok(Answer::Dead), open, None);
    assert_eq!(code(check(&dead, &key("s1", "u"))), "ERR_SESSION_INVALID");

    let closed = setup(unavailable(), SessionSettings::default(), None);
    assert_eq!(code(check(&closed, &key("s1", "u"))), "ERR_SESSION_UNAVAILABLE");
  }

  #[test]
  fn the_sync_step_never_fails_open_but_starts_the_check() {
    let s = setup(
      Ok(Answer::Live),
      SessionSettings {
        fail_open: true,
        ..Default::default()
      },
      None,
    );
    let k = key("s1", "u");
    let now = s.checker.check_now(k.clone(), "t".into(), None);
    assert_eq!(code(now), "ERR_SESSION_UNAVAILABLE");
    for _ in 0..100 {
      if s.checker.cached(&k).is_some() {
        break;
      }
      std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(code(s.checker.check_now(k, "t".into(), None)), "ok");
    assert_eq!(s.checker.counters.failed_open.load(Ordering::Relaxed), 0);
  }

  #[test]
  fn session_ids_are_checked_before_any_request() {
    assert_eq!(
      SessionChecker::key_for(None, Some("u")).unwrap_err().claim.as_deref(),
      Some("session_id")
    );
    let long = "x".repeat(MAX_SESSION_ID_BYTES + 1);
    assert_eq!(
      SessionChecker::key_for(Some(&long), Some("u"))
        .unwrap_err()
        .claim
        .as_deref(),
      Some("session_id")
    );
    assert_eq!(SessionChecker::key_for(Some("s"), None).unwrap().sub, "");
  }
}
