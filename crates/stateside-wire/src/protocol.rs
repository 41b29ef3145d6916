//! The protocol around the messages: where each endpoint lives, what a
//! request carries, what comes back, and how a call fails.
//!
//! The browser, the load generator, the protocol tests and the fuzz rig all
//! speak it, so it is spelt once here: a renamed field or path is then a
//! compile error on every side rather than a failing request on one.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ClientEvent;

/// Every path the protocol serves starts with this.
pub const PROTOCOL_PREFIX: &str = "/stateside/";

/// `POST`, form-encoded [`OpenRequest`]: opens or resumes a session, and
/// answers [`SessionInfo`].
pub const OPEN_PATH: &str = "/stateside/open";

/// `POST`, JSON [`SendRequest`]: delivers events, and answers one
/// [`Receipt`] per event taken.
pub const SEND_PATH: &str = "/stateside/send";

/// `GET ?token=…[&since=…]`: the session's SSE stream of
/// [`ServerMessage`](crate::ServerMessage)s, from the version after `since`
/// (or a `Last-Event-ID` header) or from a snapshot.
pub const STREAM_PATH: &str = "/stateside/stream";

/// `GET` with a WebSocket upgrade: the tab's one connection, a Leptos
/// websocket server function. [`Upward`] messages go up, [`Downward`]
/// frames come down (see [`socket_frame`] for the bytes). The primary
/// transport; [`OPEN_PATH`], [`SEND_PATH`] and [`STREAM_PATH`] are the
/// fallback for networks that refuse upgrades.
pub const SOCKET_PATH: &str = "/stateside/socket";

/// The body of an [`OPEN_PATH`] request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// The token the tab held, if any: its session is resumed when the
    /// server still has it, and a new one is opened otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
}

/// A tab's session, as the server confirms it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The session's bearer token: every later request names it.
    pub token: String,
    /// The seq the server expects next from this tab.
    pub next_seq: u64,
    /// The fields the app keeps in the browser: the tab reads them into a
    /// new session and writes them back when they change (see [`STORED`](crate::STORED)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage: Vec<crate::StorageBinding>,
}

/// The body of a [`SEND_PATH`] request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendRequest {
    /// The session the events belong to.
    pub token: String,
    /// Events in seq order; the server stops at the first [`Receipt::Busy`].
    pub events: Vec<ClientEvent>,
}

/// What became of one event of a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Receipt {
    /// Taken, and next in seq order: it will run.
    Accepted,
    /// Taken, but waiting for an earlier seq to arrive.
    Held,
    /// Already taken before (a resend): ignored.
    Duplicate,
    /// Refused for good: never resend it.
    Refused(Refusal),
    /// The session's queue is full: resend this event and the rest later.
    Busy,
}

/// Why an event was refused for good, and what to tell the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// What was wrong, for a client to act on.
    pub reason: RefusalReason,
    /// The server's explanation, for a person to read.
    pub message: String,
}

impl Refusal {
    /// Whether the event itself is at fault, so resending it can never
    /// succeed: the client drops it and tells the user. Every other refusal
    /// is about the moment (a restart, a full queue, a lost session): the
    /// event stays in the client's outbox until it is applied.
    pub fn is_final(&self) -> bool {
        self.reason.is_final()
    }
}

/// The kinds of [`Refusal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalReason {
    /// No handler has the event's name.
    UnknownHandler,
    /// The arguments do not fit the handler.
    BadArgs,
    /// The seq is further ahead of the next expected one than the server
    /// will hold.
    SeqOutOfWindow,
    /// The handler runs in the foreground and cannot be started as a task.
    NotBackground,
    /// The session runs as many background tasks as it may.
    TooManyTasks,
    /// The server has as many sessions as it may.
    TooManySessions,
    /// The session is gone.
    UnknownSession,
    /// The server is shutting down.
    ShuttingDown,
}

impl RefusalReason {
    /// See [`Refusal::is_final`].
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::UnknownHandler | Self::BadArgs | Self::NotBackground | Self::TooManyTasks
        )
    }
}

/// What a tab sends on its socket ([`SOCKET_PATH`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Upward {
    /// The first message on every socket, and only the first: the session
    /// the tab holds, if any, and the document version it has, so the
    /// stream resumes there. The token travels here, never in the URL.
    Hello {
        /// As in [`OpenRequest::resume`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
        /// The document version the tab holds, if it holds this session.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// Events in seq order, as in [`SendRequest::events`].
    Events(Vec<ClientEvent>),
    /// The answer to [`Downward::Ping`].
    Pong,
}

/// One message of what the server sends on a socket. Each WebSocket message
/// carries a frame: every `Downward` ready at that moment, in order.
///
/// A stream message is written as it is on [`STREAM_PATH`] (`{"u":..}` or
/// `{"s":..}`), with no wrapper: it is what most frames carry. The others
/// are tagged by name: `{"session":..}`, `{"receipt":..}`, `"ping"`,
/// `{"failed":..}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Downward {
    /// The answer to [`Upward::Hello`]: the session this socket serves. A
    /// token other than the one the tab sent means its session was lost
    /// and this is a new one.
    Session(SessionInfo),
    /// One step of the session's stream, as on [`STREAM_PATH`].
    Stream(crate::ServerMessage),
    /// An event that was not taken. Sent only for what the client must act
    /// on ([`Receipt::Refused`] and [`Receipt::Busy`]): on a socket, every
    /// event not mentioned here was taken, in order.
    Receipt {
        /// The event's seq.
        seq: u64,
        /// What became of it.
        receipt: Receipt,
    },
    /// The socket has been quiet one way or the other for a keepalive
    /// period (5 s by default): answer [`Upward::Pong`] at once. A tab the
    /// server hears nothing from for three periods is taken for gone and
    /// its socket closed.
    Ping,
    /// The socket failed as a whole; the server closes it after this.
    Failed(ProtocolError),
}

/// A [`Downward`] other than a stream message, as written.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Named<'a> {
    Session(&'a SessionInfo),
    Receipt { seq: u64, receipt: &'a Receipt },
    Ping,
    Failed(&'a ProtocolError),
}

/// Any [`Downward`], as read: the named messages and the stream's tags in
/// one externally tagged enum, so reading never buffers and retries.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Read {
    Session(SessionInfo),
    Receipt {
        seq: u64,
        receipt: Receipt,
    },
    Ping,
    Failed(ProtocolError),
    #[serde(rename = "u")]
    Update(crate::Update),
    #[serde(rename = "s")]
    Snapshot((u64, u64, serde_json::Value)),
}

impl Serialize for Downward {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Stream(message) => message.serialize(serializer),
            Self::Session(info) => Named::Session(info).serialize(serializer),
            Self::Receipt { seq, receipt } => {
                Named::Receipt { seq: *seq, receipt }.serialize(serializer)
            }
            Self::Ping => Named::Ping.serialize(serializer),
            Self::Failed(error) => Named::Failed(error).serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Downward {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Read::deserialize(deserializer)? {
            Read::Session(info) => Self::Session(info),
            Read::Receipt { seq, receipt } => Self::Receipt { seq, receipt },
            Read::Ping => Self::Ping,
            Read::Failed(error) => Self::Failed(error),
            Read::Update(update) => Self::Stream(crate::ServerMessage::Update(update)),
            Read::Snapshot((version, acked, state)) => {
                Self::Stream(crate::ServerMessage::Snapshot {
                    version,
                    acked,
                    state,
                })
            }
        })
    }
}

/// The bytes of a socket message, for the server and for clients other than
/// the browser's (the load generator, the protocol tests). Leptos's
/// websocket server functions frame each message as one tag byte, 0 for a
/// value and 1 for an error, then the JSON of the [`Upward`] message or the
/// [`Downward`] frame.
pub mod socket_frame {
    use serde::Serialize;

    use super::{Downward, ProtocolError, Upward};
    use crate::ServerMessage;

    /// A value's frame.
    pub fn encode(message: &Upward) -> Vec<u8> {
        let mut bytes = vec![0];
        serde_json::to_writer(&mut bytes, message).expect("an upward message serialises");
        bytes
    }

    /// A frame from the server: the messages it carries, or the error the
    /// server function ended with.
    pub fn decode(bytes: &[u8]) -> Result<Vec<Downward>, ProtocolError> {
        let unreadable =
            |why: String| ProtocolError::Call(format!("unreadable socket frame: {why}"));
        match bytes.split_first() {
            Some((0, json)) => serde_json::from_slice(json).map_err(|e| unreadable(e.to_string())),
            Some((1, json)) => {
                Err(serde_json::from_slice(json).map_err(|e| unreadable(e.to_string()))?)
            }
            _ => Err(unreadable("no tag byte".to_owned())),
        }
    }

    /// A frame from a tab, as the server reads it: one [`Upward`] message.
    pub fn decode_upward(bytes: &[u8]) -> Result<Upward, ProtocolError> {
        let malformed = |why: String| ProtocolError::Malformed(format!("socket message: {why}"));
        match bytes.split_first() {
            Some((0, json)) => serde_json::from_slice(json).map_err(|e| malformed(e.to_string())),
            Some((tag, _)) => Err(malformed(format!("tag byte {tag}, not a value"))),
            None => Err(malformed("empty".to_owned())),
        }
    }

    /// A [`Downward`] frame built one message at a time, as the server
    /// writes it: the stream's messages are shared by every reader of a
    /// session, and are written from where they are rather than copied into
    /// a [`Downward::Stream`] first.
    pub struct Writer {
        bytes: Vec<u8>,
        messages: usize,
    }

    impl Default for Writer {
        fn default() -> Self {
            Self {
                bytes: vec![0, b'['],
                messages: 0,
            }
        }
    }

    impl Writer {
        /// Adds one message.
        pub fn push(&mut self, message: &Downward) {
            self.write(message);
        }

        /// Adds `Downward::Stream(message)`; returns its size in bytes.
        pub fn push_stream(&mut self, message: &ServerMessage) -> usize {
            let before = self.bytes.len();
            // A stream message is written bare (see `Downward`).
            self.write(message);
            self.bytes.len() - before
        }

        fn write(&mut self, message: &impl Serialize) {
            if self.messages > 0 {
                self.bytes.push(b',');
            }
            self.messages += 1;
            serde_json::to_writer(&mut self.bytes, message).expect("a downward message serialises");
        }

        /// The frame's size so far, in bytes.
        pub fn len(&self) -> usize {
            self.bytes.len()
        }

        /// Whether no message was added.
        pub fn is_empty(&self) -> bool {
            self.messages == 0
        }

        /// The frame's bytes.
        pub fn finish(mut self) -> Vec<u8> {
            self.bytes.push(b']');
            self.bytes
        }
    }
}

/// Why a protocol call failed as a whole (as opposed to one event of it,
/// which gets a [`Receipt`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtocolError {
    /// The server has no session under this token (it expired, or the
    /// server restarted with a store that forgets): open a new one.
    UnknownSession,
    /// The token is not one the server could have issued.
    MalformedToken,
    /// The server could not read the request: its body or a socket message
    /// did not decode, or a socket did not start with [`Upward::Hello`].
    /// Resending it as it is cannot succeed.
    Malformed(String),
    /// The request body or socket message is larger than the server takes.
    TooLarge {
        /// The server's limit, in bytes.
        limit: usize,
    },
    /// The server has as many sessions as it may; try again later.
    TooManySessions {
        /// The server's limit.
        limit: usize,
    },
    /// The session has as many streams open as the server allows; close a
    /// tab of it and retry.
    TooManyStreams {
        /// The server's limit.
        limit: usize,
    },
    /// This client address opened new sessions faster than the server
    /// allows; retry in a moment.
    RateLimited,
    /// This client address holds as many streams as the server allows.
    TooManyConnections {
        /// The server's limit per address.
        limit: usize,
    },
    /// The server holds as many streams as it takes; retry later, or
    /// another instance may answer.
    Overloaded,
    /// The session runs as many background tasks as it may, and an upload
    /// runs as one; retry when one has ended.
    TooManyTasks {
        /// The server's limit per session.
        limit: usize,
    },
    /// The server is shutting down; another instance may answer.
    ShuttingDown,
    /// The session store failed; the call may succeed later.
    Store(String),
    /// The server could not serve the call (it is misconfigured).
    Server(String),
    /// The call did not get through: the server was unreachable, or the
    /// request or its reply could not be read.
    Call(String),
}

impl ProtocolError {
    /// Whether the session is gone for good, so the client must open a new
    /// one rather than retry.
    pub fn session_is_gone(&self) -> bool {
        matches!(self, Self::UnknownSession | Self::MalformedToken)
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownSession => f.write_str("unknown or expired session"),
            Self::MalformedToken => f.write_str("malformed session token"),
            Self::Malformed(why) => write!(f, "malformed request: {why}"),
            Self::TooLarge { limit } => write!(
                f,
                "the request is larger than the server takes ({limit} bytes)"
            ),
            Self::TooManySessions { limit } => write!(
                f,
                "the server is at its session limit ({limit}); try again later"
            ),
            Self::TooManyStreams { limit } => write!(
                f,
                "this session already has {limit} open streams; close a tab of it and retry"
            ),
            Self::RateLimited => {
                f.write_str("too many new sessions from this address; retry in a moment")
            }
            Self::TooManyConnections { limit } => write!(
                f,
                "this address already has {limit} open connections; close some tabs and retry"
            ),
            Self::Overloaded => f.write_str("the server is at its connection limit; retry later"),
            Self::TooManyTasks { limit } => write!(
                f,
                "this session already runs {limit} background tasks; retry when one has ended"
            ),
            Self::ShuttingDown => f.write_str("the server is shutting down"),
            Self::Store(why) => write!(f, "session store failed: {why}"),
            Self::Server(why) => write!(f, "server failed: {why}"),
            Self::Call(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// The server functions return it as their error, encoded as JSON, so the
/// client gets the case back rather than a message to search.
#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for ProtocolError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(error: server_fn::error::ServerFnErrorErr) -> Self {
        Self::Call(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ServerMessage, Update};

    /// The bytes are Leptos's websocket framing: a tag byte, then JSON.
    #[test]
    fn socket_frames_round_trip_and_carry_errors() {
        let hello = Upward::Hello {
            resume: None,
            since: Some(3),
        };
        let bytes = socket_frame::encode(&hello);
        assert_eq!(bytes[0], 0);
        assert_eq!(
            serde_json::from_slice::<Upward>(&bytes[1..]).unwrap(),
            hello
        );

        let frame = vec![
            Downward::Stream(ServerMessage::Update(Update {
                version: 4,
                acked: 2,
                ..Update::default()
            })),
            Downward::Ping,
        ];
        let mut bytes = vec![0];
        serde_json::to_writer(&mut bytes, &frame).unwrap();
        assert_eq!(socket_frame::decode(&bytes).unwrap(), frame);

        let mut bytes = vec![1];
        serde_json::to_writer(&mut bytes, &ProtocolError::ShuttingDown).unwrap();
        assert_eq!(
            socket_frame::decode(&bytes),
            Err(ProtocolError::ShuttingDown)
        );
        assert!(socket_frame::decode(&[]).is_err());
    }

    /// Issue 15: an item appended to a list reaches the tab in a frame of
    /// at most 64 bytes (it was 123 with named fields).
    #[test]
    fn an_appended_item_is_a_small_frame() {
        let ops = serde_json::from_value(serde_json::json!([
            { "op": "add", "path": "/bench/items/-", "value": "item-00499" }
        ]))
        .unwrap();
        let update = ServerMessage::Update(Update {
            version: 501,
            acked: 500,
            ops,
            ..Update::default()
        });
        let mut writer = socket_frame::Writer::default();
        writer.push_stream(&update);
        let frame = writer.finish();
        assert_eq!(frame.len(), 54, "{}", String::from_utf8_lossy(&frame));
        assert_eq!(
            socket_frame::decode(&frame).unwrap(),
            [Downward::Stream(update)]
        );
    }

    /// The server's writer makes the frames `decode` reads, and reads what
    /// `encode` makes.
    #[test]
    fn the_server_writes_and_reads_the_same_frames() {
        let update = ServerMessage::Update(Update {
            version: 4,
            ..Update::default()
        });
        let mut writer = socket_frame::Writer::default();
        assert!(writer.is_empty());
        writer.push(&Downward::Ping);
        assert!(writer.push_stream(&update) > 0);
        writer.push(&Downward::Failed(ProtocolError::ShuttingDown));
        assert_eq!(
            socket_frame::decode(&writer.finish()).unwrap(),
            [
                Downward::Ping,
                Downward::Stream(update),
                Downward::Failed(ProtocolError::ShuttingDown)
            ]
        );
        assert_eq!(
            socket_frame::decode(&socket_frame::Writer::default().finish()).unwrap(),
            []
        );

        let pong = socket_frame::encode(&Upward::Pong);
        assert_eq!(socket_frame::decode_upward(&pong).unwrap(), Upward::Pong);
        for garbage in [&b""[..], b"\x01{}", b"\x00{not json"] {
            assert!(matches!(
                socket_frame::decode_upward(garbage),
                Err(ProtocolError::Malformed(_))
            ));
        }
    }

    #[test]
    fn only_a_faulty_event_is_refused_for_good() {
        assert!(RefusalReason::BadArgs.is_final());
        assert!(RefusalReason::UnknownHandler.is_final());
        assert!(!RefusalReason::ShuttingDown.is_final());
        assert!(!RefusalReason::UnknownSession.is_final());
        assert!(!RefusalReason::SeqOutOfWindow.is_final());
    }
}
