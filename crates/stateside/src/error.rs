//! Why the engine refused an event. Each case names what the client did.

/// Errors a client can cause; none of them harms the session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("unknown handler `{0}`")]
    UnknownHandler(String),
    #[error("bad arguments for `{handler}`: {reason}")]
    BadArgs { handler: String, reason: String },
    #[error("session busy: {waiting} events already waiting; retry later")]
    Busy { waiting: usize },
    #[error("seq {seq} is too far ahead (next expected is {expected})")]
    SeqOutOfWindow { seq: u64, expected: u64 },
    #[error("`{0}` is a foreground handler; it cannot be started as a task")]
    NotBackground(String),
    #[error("too many background tasks in this session (the limit is {limit})")]
    TooManyTasks { limit: usize },
    #[error("the server is at its session limit ({limit}); try again later")]
    TooManySessions { limit: usize },
    #[error("unknown or expired session")]
    UnknownSession,
    #[error("the server is shutting down")]
    ShuttingDown,
}

impl Error {
    /// The handler the refused event named, if it got that far.
    pub fn handler(&self) -> Option<&str> {
        match self {
            Self::UnknownHandler(handler) | Self::NotBackground(handler) => Some(handler),
            Self::BadArgs { handler, .. } => Some(handler),
            _ => None,
        }
    }
}
