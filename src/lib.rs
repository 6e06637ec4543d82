//! hanko-auth: native verification of Hanko session tokens for Node.js.
//!
//! The core modules never touch napi; `binding` is the one seam to JavaScript.

pub mod claims;
pub mod clock;
pub mod config;
pub mod error;
pub mod fetch;
pub mod jwk;
pub mod jwks;
pub mod jws;
pub mod runtime;
pub mod session;
pub mod verify;

#[cfg(feature = "napi")]
#[cfg_attr(
  test,
  allow(
    dead_code,
    reason = "entry points registered with N-API, which unit tests do not load"
  )
)]
mod binding;
