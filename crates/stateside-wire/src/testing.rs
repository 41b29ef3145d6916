//! A client's copy of a session that checks the stream as it applies it:
//! what the engine's tests, the protocol tests, the fuzz rig and the load
//! generator all read the server through.
//!
//! [`Document::apply`] is lenient on purpose: the browser ignores a stale
//! update, so an overlapping replay is harmless. A checker must not be, or
//! a server that repeats or skips a version would pass; so every message is
//! checked before it is applied, and a [`Violation`] names what was wrong.
//! The mirror takes messages, not a transport: each caller reads its own
//! (a broadcast receiver in process, SSE over HTTP).

use std::fmt;

use crate::{ApplyError, Document, ServerMessage};

/// A [`Document`] kept in step by a stream that must be exact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mirror {
    document: Document,
}

/// A message the server should never have sent to this mirror.
#[derive(Debug, PartialEq, Eq)]
pub enum Violation {
    /// An update with ops that is not exactly the next version.
    NotNextVersion {
        /// The version the mirror held.
        have: u64,
        /// The update's version.
        got: u64,
    },
    /// An update without ops (an ack, a notice) at a version other than
    /// the one the mirror holds.
    UnversionedMoved {
        /// The version the mirror held.
        have: u64,
        /// The update's version.
        got: u64,
    },
    /// An update acknowledging less than an earlier message did.
    AckWentBack {
        /// The highest ack the mirror had seen.
        have: u64,
        /// The update's ack.
        got: u64,
    },
    /// The update's ops do not apply to the document.
    Apply(ApplyError),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotNextVersion { have, got } => {
                write!(f, "versions are not contiguous: have {have}, got {got}")
            }
            Self::UnversionedMoved { have, got } => write!(
                f,
                "an update without ops moved the version: have {have}, got {got}"
            ),
            Self::AckWentBack { have, got } => {
                write!(f, "the ack went back: have {have}, got {got}")
            }
            Self::Apply(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for Violation {}

impl Mirror {
    /// A mirror holding `document`, as a client reconnecting with it does.
    pub fn new(document: Document) -> Self {
        Self { document }
    }

    /// The copy as it stands.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// Checks one message, then applies it. Returns whether it moved the
    /// copy to another version. A snapshot is always taken: it replaces
    /// whatever the copy held.
    pub fn apply(&mut self, message: &ServerMessage) -> Result<bool, Violation> {
        let have = self.document.version();
        if let ServerMessage::Update(update) = message {
            let expected = if update.ops.is_empty() {
                have
            } else {
                have + 1
            };
            if update.version != expected {
                let (have, got) = (have, update.version);
                return Err(if update.ops.is_empty() {
                    Violation::UnversionedMoved { have, got }
                } else {
                    Violation::NotNextVersion { have, got }
                });
            }
            if update.acked < self.document.acked() {
                return Err(Violation::AckWentBack {
                    have: self.document.acked(),
                    got: update.acked,
                });
            }
        }
        self.document.apply(message).map_err(Violation::Apply)?;
        Ok(self.document.version() != have)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Update;

    fn update(version: u64, acked: u64, with_ops: bool) -> ServerMessage {
        let ops = if with_ops {
            serde_json::from_value(json!([{ "op": "add", "path": "/n", "value": version }]))
                .unwrap()
        } else {
            Vec::new()
        };
        ServerMessage::Update(Update {
            version,
            ops,
            acked,
            ..Update::default()
        })
    }

    #[test]
    fn an_exact_stream_applies() {
        let mut mirror = Mirror::default();
        assert_eq!(mirror.apply(&update(1, 1, true)), Ok(true));
        assert_eq!(mirror.apply(&update(1, 2, false)), Ok(false));
        assert_eq!(mirror.apply(&update(2, 2, true)), Ok(true));
        assert_eq!(mirror.document().value(), &json!({ "n": 2 }));
    }

    #[test]
    fn repeats_skips_and_going_back_are_violations() {
        let mut mirror = Mirror::default();
        mirror.apply(&update(1, 3, true)).unwrap();
        let before = mirror.clone();
        for (message, violation) in [
            (
                update(1, 3, true),
                Violation::NotNextVersion { have: 1, got: 1 },
            ),
            (
                update(3, 3, true),
                Violation::NotNextVersion { have: 1, got: 3 },
            ),
            (
                update(2, 3, false),
                Violation::UnversionedMoved { have: 1, got: 2 },
            ),
            (
                update(1, 2, false),
                Violation::AckWentBack { have: 3, got: 2 },
            ),
        ] {
            assert_eq!(mirror.apply(&message), Err(violation));
            assert_eq!(mirror, before, "a violation changes nothing");
        }
    }

    #[test]
    fn a_snapshot_resets_the_copy() {
        let mut mirror = Mirror::default();
        mirror.apply(&update(1, 5, true)).unwrap();
        let snapshot = ServerMessage::Snapshot {
            version: 7,
            acked: 2,
            state: json!({}),
        };
        assert_eq!(mirror.apply(&snapshot), Ok(true));
        assert_eq!(mirror.document().version(), 7);
    }
}
