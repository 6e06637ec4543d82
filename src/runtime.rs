//! The one tokio runtime of the process, built on first use and never shut down: it does the network
//! I/O (key sets, session checks) for every verifier on every JS thread, including worker threads.

use crate::error::{Code, Error, Result};
use std::sync::LazyLock;
use tokio::runtime::{Builder, Runtime};

static RUNTIME: LazyLock<std::io::Result<Runtime>> = LazyLock::new(|| {
  Builder::new_multi_thread()
    .worker_threads(2)
    .thread_name("hanko-auth-io")
    .enable_all()
    .build()
});

pub fn get() -> Result<&'static Runtime> {
  RUNTIME
    .as_ref()
    .map_err(|e| Error::new(Code::JwksUnavailable, format!("cannot start the I/O runtime: {e}")))
}
