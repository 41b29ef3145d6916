//! Redis names for a session: keys and pub/sub channels carry a digest of
//! the token, never the token.
//!
//! The token is the session's only credential. Anyone who can list Redis's
//! keys (`KEYS`, `SCAN`, `PUBSUB CHANNELS`, `MONITOR`, a backup, a log of
//! slow commands) could otherwise take over every session. A SHA-256 of a
//! 128-bit random token cannot be turned back into it, so the names give
//! nothing away, and they are still one per session, so a session's keys
//! keep sharing a Redis Cluster slot through the hash tag.
//!
//! A message arrives on a channel named by digest; [`Names`] maps the
//! digests of the sessions this process owns or follows back to their
//! tokens.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use sha2::{Digest, Sha256};

use crate::{mutex::lock, token::SessionToken};

/// The first 128 bits of the token's SHA-256: as long as the token, so no
/// two sessions share a name.
type SessionDigest = [u8; 16];

/// Separates these digests from any other use of SHA-256 on tokens.
const DOMAIN: &[u8] = b"stateside session key v1\0";

fn digest(token: &SessionToken) -> SessionDigest {
    let hash = Sha256::new()
        .chain_update(DOMAIN)
        .chain_update(token.as_u128().to_be_bytes())
        .finalize();
    let mut digest = SessionDigest::default();
    let len = digest.len();
    digest.copy_from_slice(&hash[..len]);
    digest
}

fn hex(digest: &SessionDigest) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `stateside:{digest}:part`. The braces make the digest Redis Cluster's
/// hash tag, so one session's keys share a slot and its scripts stay legal
/// there.
pub(super) fn key(token: &SessionToken, part: &str) -> String {
    format!("stateside:{{{}}}:{part}", hex(&digest(token)))
}

/// `stateside:{digest}:part` back into its digest (as hex) and part.
fn parse_channel(channel: &[u8]) -> Option<(&str, &str)> {
    let channel = std::str::from_utf8(channel).ok()?;
    channel.strip_prefix("stateside:{")?.split_once("}:")
}

/// The tokens behind the digests this process listens for.
#[derive(Default)]
pub(super) struct Names(Mutex<HashMap<String, SessionToken>>);

impl Names {
    /// Remembers `token`, before subscribing to any of its channels.
    pub(super) fn learn(&self, token: SessionToken) {
        lock(&self.0).insert(hex(&digest(&token)), token);
    }

    /// Forgets every token not in `keep` (the sessions still owned or
    /// followed here).
    pub(super) fn keep_only(&self, keep: &HashSet<SessionToken>) {
        lock(&self.0).retain(|_, token| keep.contains(token));
    }

    /// The session and part a channel names, if the session is known here.
    pub(super) fn channel<'a>(&self, channel: &'a [u8]) -> Option<(SessionToken, &'a str)> {
        let (digest, part) = parse_channel(channel)?;
        let token = *lock(&self.0).get(digest)?;
        Some((token, part))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_its_session_without_its_token() {
        let token = SessionToken::random();
        let name = key(&token, "updates");
        assert!(!name.contains(&token.to_string()), "{name}");
        assert_eq!(name, key(&token, "updates"), "stable");
        assert_ne!(name, key(&SessionToken::random(), "updates"));

        let names = Names::default();
        assert!(names.channel(name.as_bytes()).is_none(), "not learnt yet");
        names.learn(token);
        assert_eq!(names.channel(name.as_bytes()), Some((token, "updates")));
        names.keep_only(&HashSet::new());
        assert!(names.channel(name.as_bytes()).is_none(), "forgotten");
    }
}
