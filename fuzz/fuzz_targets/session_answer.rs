//! Hanko's `/sessions/validate` answer reader, for any status and body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
  // The first two bytes pick the HTTP status; the rest is the body.
  let (status, body) = match data {
    [a, b, rest @ ..] => (100 + u16::from_le_bytes([*a, *b]) % 500, rest),
    _ => (200, data),
  };
  let _ = hanko_auth::session::read_answer(status, body);
});
