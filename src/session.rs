//! Server-side session confirmation against Hanko's `POST <api>/sessions/validate` (SPEC §1, §2).
//!
//! Local verification says a token was issued by Hanko; only Hanko knows whether the session has since
//! ended (logout, revocation, limits, idle timeout). Answers are cached per `session_id` for `ttl`
//! (never past the token's `exp`), with one request in flight per session.

use crate::clock::Clock;
use crate::error::{Code, Error, Result};
use crate::fetch::HttpClient;
use reqwest::Url;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// Session ids longer than this are not looked up (Hanko's are UUIDs).
pub const MAX_SESSION_ID_BYTES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
  /// How long an answer is trusted, in ms. Default 30 000.
  pub ttl: u64,
  /// Sessions remembered at most. Default 10 000.
  pub max_entries: usize,
}

/// What Hanko said about a session, or that it could not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
  Live,
  Dead,
}

/// Reads the body of a `/sessions/validate` answer: `{"is_valid": true|false, …}`. Anything else is
/// not the documented answer and counts as Hanko being unavailable (fail closed).
pub fn parse_answer(body: &[u8]) -> Result<Answer> {
  let unexpected = || {
    Error::new(
      Code::SessionUnavailable,
      "the session service answered something other than {\"is_valid\": …}",
    )
  };
  let object = crate::jws::parse_json_object(body).map_err(|_| unexpected())?;
  match object.get("is_valid") {
    Some(serde_json::Value::Bool(true)) => Ok(Answer::Live),
    Some(serde_json::Value::Bool(false)) => Ok(Answer::Dead),
    _ => Err(unexpected()),
  }
}

/// The cached state of one session, as the sync path sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cached {
  Live,
  Dead,
  Unknown,
}

struct Entry {
  answer: Answer,
  until: u64,
  seq: u64,
}

#[derive(Default)]
struct State {
  entries: HashMap<String, Entry>,
  order: VecDeque<(String, u64)>,
  in_flight: HashMap<String, watch::Receiver<Option<Result<Answer>>>>,
  seq: u64,
}

pub struct SessionChecker {
  client: HttpClient,
  url: Url,
  settings: SessionSettings,
  clock: Arc<dyn Clock>,
  state: Mutex<State>,
  pub checks: AtomicU64,
  pub cache_hits: AtomicU64,
}

impl SessionChecker {
  pub fn new(client: HttpClient, url: Url, settings: SessionSettings, clock: Arc<dyn Clock>) -> SessionChecker {
    SessionChecker {
      client,
      url,
      settings,
      clock,
      state: Mutex::default(),
      checks: AtomicU64::new(0),
      cache_hits: AtomicU64::new(0),
    }
  }

  fn lock(&self) -> MutexGuard<'_, State> {
    self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// The cached answer for a session, if still trusted.
  pub fn cached(&self, session_id: &str) -> Cached {
    let now = self.clock.now_ms();
    let state = self.lock();
    match state.entries.get(session_id) {
      Some(entry) if now < entry.until => {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
        match entry.answer {
          Answer::Live => Cached::Live,
          Answer::Dead => Cached::Dead,
        }
      }
      _ => Cached::Unknown,
    }
  }

  /// Asks Hanko (or joins the request in flight for this session). `exp_ms` caps how long a live
  /// answer is cached.
  pub async fn confirm(self: &Arc<Self>, session_id: &str, token: &str, exp_ms: Option<u64>) -> Result<Answer> {
    if session_id.len() > MAX_SESSION_ID_BYTES {
      return Err(Error::claim(
        Code::JwtClaimValidationFailed,
        "session_id",
        crate::error::reason::INVALID,
        "\"session_id\" claim is too long",
      ));
    }
    match self.cached(session_id) {
      Cached::Live => return Ok(Answer::Live),
      Cached::Dead => return Ok(Answer::Dead),
      Cached::Unknown => {}
    }
    let mut done = {
      let mut state = self.lock();
      match state.in_flight.get(session_id) {
        Some(rx) => rx.clone(),
        None => {
          let (tx, rx) = watch::channel(None);
          state.in_flight.insert(session_id.to_string(), rx.clone());
          let checker = self.clone();
          let (id, token) = (session_id.to_string(), token.to_string());
          let task = async move {
            let answer = checker.ask(&token).await;
            checker.remember(&id, &answer, exp_ms);
            let _ = tx.send(Some(answer));
          };
          crate::runtime::get()?.spawn(task);
          rx
        }
      }
    };
    let outcome = match done.wait_for(Option::is_some).await {
      Ok(value) => value.clone(),
      Err(_) => None,
    };
    outcome.unwrap_or_else(|| Err(Error::new(Code::SessionUnavailable, "the session check was abandoned")))
  }

  async fn ask(&self, token: &str) -> Result<Answer> {
    self.checks.fetch_add(1, Ordering::Relaxed);
    let body = serde_json::json!({ "session_token": token }).to_string().into_bytes();
    let fetched = self
      .client
      .request(self.url.clone(), Some(body), "the session service")
      .await
      .map_err(|err| {
        // Transport failures of the session service get the session code, not the JWKS ones.
        Error::new(Code::SessionUnavailable, err.message)
      })?;
    parse_answer(&fetched.body)
  }

  fn remember(&self, session_id: &str, answer: &Result<Answer>, exp_ms: Option<u64>) {
    let now = self.clock.now_ms();
    let mut state = self.lock();
    state.in_flight.remove(session_id);
    let Ok(answer) = answer else { return };
    let mut until = now.saturating_add(self.settings.ttl);
    if let (Answer::Live, Some(exp)) = (answer, exp_ms) {
      until = until.min(exp);
    }
    while state.entries.len() >= self.settings.max_entries {
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
      session_id.to_string(),
      Entry {
        answer: answer.clone(),
        until,
        seq,
      },
    );
    state.order.push_back((session_id.to_string(), seq));
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
  #![allow(clippy::unwrap_used)]
  use super::*;

  #[test]
  fn answers_are_read_strictly() {
    assert_eq!(
      parse_answer(br#"{"is_valid":true,"claims":{"sub":"x"}}"#).unwrap(),
      Answer::Live
    );
    assert_eq!(parse_answer(br#"{"is_valid":false}"#).unwrap(), Answer::Dead);
    for bad in [
      &b""[..],
      b"[]",
      b"{}",
      br#"{"is_valid":"true"}"#,
      br#"{"is_valid":1}"#,
      b"<html>",
      br#"{"is_valid":true,"is_valid":false}"#,
    ] {
      assert_eq!(parse_answer(bad).unwrap_err().code.as_str(), "ERR_SESSION_UNAVAILABLE");
    }
  }
}
