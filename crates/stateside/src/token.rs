//! Session tokens: the only credential a tab holds.

use std::{fmt, str::FromStr};

/// 128 bits from the operating system's CSPRNG, written as 32 hex digits.
///
/// `Debug` shows only a prefix, so a token that reaches a log line cannot be
/// used to take over the session.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionToken(u128);

impl SessionToken {
    /// A new token from the OS random source.
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        Self(u128::from_le_bytes(bytes))
    }

    /// A store key that no session's token can be: the first 128 bits of
    /// a SHA-256 of `parts` under `domain`. Shared states are kept under
    /// one (see `shared::durable`), so a plain `Store` holds them too.
    pub(crate) fn derived(domain: &str, parts: &[&str]) -> Self {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new().chain_update(domain.as_bytes());
        for part in parts {
            // Each part's length first: ("ab", "c") and ("a", "bc") differ.
            hash = hash
                .chain_update((part.len() as u64).to_be_bytes())
                .chain_update(part.as_bytes());
        }
        let digest = hash.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        Self(u128::from_be_bytes(first))
    }

    /// The token as a number, for stores that key by it.
    pub fn as_u128(&self) -> u128 {
        self.0
    }

    /// A short, non-secret tag for logs.
    pub fn log_tag(&self) -> String {
        format!("{:08x}", (self.0 >> 96) as u32)
    }
}

impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionToken({}…)", self.log_tag())
    }
}

/// A string that is not a session token.
#[derive(Debug, thiserror::Error)]
#[error("a session token is 32 hex digits")]
pub struct BadToken;

impl FromStr for SessionToken {
    type Err = BadToken;

    fn from_str(text: &str) -> Result<Self, BadToken> {
        if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BadToken);
        }
        u128::from_str_radix(text, 16)
            .map(Self)
            .map_err(|_| BadToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_hides_itself_in_debug() {
        let token = SessionToken::random();
        let text = token.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<SessionToken>().unwrap(), token);
        assert!(!format!("{token:?}").contains(&text));
        assert!("xyz".parse::<SessionToken>().is_err());
        assert!(
            "+0000000000000000000000000000000"
                .parse::<SessionToken>()
                .is_err()
        );
        assert_ne!(SessionToken::random(), token);
    }
}
