//! Hanko's `/sessions/validate` answer parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
  let _ = hanko_auth::session::parse_answer(data);
});
