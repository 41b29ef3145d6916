//! What the browser learns when something fails on the server: a generic
//! message with a short error id, while the server's log has the whole
//! error chain under the same id.
//!
//! Error chains say what the server knows (internal URLs, hosts, paths,
//! queries, a store's address), which is none of a visitor's business; the
//! id lets whoever reads the user's report find the log line at once.

use std::fmt::Display;

/// Logs `detail` in full, as an error of `context` (a handler's name, a
/// store), under a fresh id, and returns the message for the browser:
/// `error 7f3a2c`.
pub fn incident(context: &str, detail: impl Display) -> String {
    let id = error_id();
    tracing::error!(error_id = %id, context, "{detail}");
    format!("error {id}")
}

/// 24 random bits as six hex digits: short enough to read out, and enough
/// that two reports in one day hardly ever share one.
fn error_id() -> String {
    let mut bytes = [0u8; 3];
    // The OS random source never fails on the platforms we run on; an id
    // of zeros would still be a valid, if unhelpful, one.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_generic_with_a_short_id() {
        let message = incident("test", "connect to http://10.0.0.7:8080/internal failed");
        let id = message.strip_prefix("error ").expect("generic");
        assert_eq!(id.len(), 6);
        assert!(id.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_ne!(incident("test", "x"), incident("test", "x"));
    }
}
