//! Time as an injected dependency, so tests can move it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
  fn now_ms(&self) -> u64;
}

pub struct SystemClock;

impl Clock for SystemClock {
  fn now_ms(&self) -> u64 {
    SystemTime::now()
      .duration_since(UNIX_EPOCH)
      .map(|d| d.as_millis() as u64)
      .unwrap_or(0)
  }
}

/// A clock that only moves when told to (tests).
#[derive(Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
  pub fn at(ms: u64) -> Arc<Self> {
    Arc::new(ManualClock(AtomicU64::new(ms)))
  }
  pub fn set(&self, ms: u64) {
    self.0.store(ms, Ordering::SeqCst)
  }
  pub fn advance(&self, ms: u64) {
    self.0.fetch_add(ms, Ordering::SeqCst);
  }
}

impl Clock for ManualClock {
  fn now_ms(&self) -> u64 {
    self.0.load(Ordering::SeqCst)
  }
}

pub fn system() -> Arc<dyn Clock> {
  Arc::new(SystemClock)
}
