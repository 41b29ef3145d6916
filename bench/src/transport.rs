//! Which of the server's two transports a session speaks: the websocket
//! (the primary one, `SOCKET_PATH`) or POST + SSE (the fallback for
//! networks that refuse upgrades). Every workload takes one, so each runs
//! on both without a second copy, and each row says which it measured.
//!
//! The POST + SSE rows keep the anchor's names (the report pairs them with
//! Reflex's by name); a socket row's name is the same behind `socket: `.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// One websocket per tab: events up, the stream down.
    Socket,
    /// `send_events` POSTs up, an SSE stream down.
    Http,
}

impl Transport {
    pub fn label(self) -> &'static str {
        match self {
            Self::Socket => "socket",
            Self::Http => "post+sse",
        }
    }

    /// The row name of workload `test` on this transport.
    pub fn test(self, test: &str) -> String {
        match self {
            Self::Socket => format!("socket: {test}"),
            Self::Http => test.to_owned(),
        }
    }

    /// Renames a workload's row for this transport and records which it is.
    pub fn tag(self, mut row: Value) -> Value {
        if let Some(test) = row["test"].as_str() {
            row["test"] = self.test(test).into();
        }
        row["transport"] = self.label().into();
        row
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fallback_rows_keep_the_anchor_names() {
        let row = json!({ "test": "b round-trip", "n": 3 });
        assert_eq!(Transport::Http.tag(row.clone())["test"], "b round-trip");
        let socket = Transport::Socket.tag(row);
        assert_eq!(socket["test"], "socket: b round-trip");
        assert_eq!(socket["transport"], "socket");
        assert_eq!(socket["n"], 3);
    }
}
