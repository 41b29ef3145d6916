//! Why the engine refused an event. Each case names what the client did.

/// Errors a client can cause; none of them harms the session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No handler has this name.
    #[error("unknown handler `{0}`")]
    UnknownHandler(String),
    /// The arguments do not decode as the handler's type.
    #[error("bad arguments for `{handler}`: {reason}")]
    BadArgs {
        /// The handler named.
        handler: String,
        /// What did not decode.
        reason: String,
    },
    /// Too many events are waiting in the session.
    #[error("session busy: {waiting} events already waiting; retry later")]
    Busy {
        /// Events already waiting.
        waiting: usize,
    },
    /// The event's seq is beyond the window the session holds.
    #[error("seq {seq} is too far ahead (next expected is {expected})")]
    SeqOutOfWindow {
        /// The event's seq.
        seq: u64,
        /// The seq the session expects next.
        expected: u64,
    },
    /// A task start named a foreground handler.
    #[error("`{0}` is a foreground handler; it cannot be started as a task")]
    NotBackground(String),
    /// The session runs as many tasks as it may.
    #[error("too many background tasks in this session (the limit is {limit})")]
    TooManyTasks {
        /// `Config::max_tasks_per_session`.
        limit: usize,
    },
    /// The session has as many streams open as it may.
    #[error("this session already has {limit} open streams; close a tab and retry")]
    TooManyStreams {
        /// `Config::max_streams_per_session`.
        limit: usize,
    },
    /// The process holds as many sessions as it may.
    #[error("the server is at its session limit ({limit}); try again later")]
    TooManySessions {
        /// `Config::max_sessions`.
        limit: usize,
    },
    /// No such session, or it expired.
    #[error("unknown or expired session")]
    UnknownSession,
    /// A handler used a shared state its session has not linked to.
    #[error("this session is not linked to a `{state}`; link it first (`Cx::link`)")]
    NotLinked {
        /// The shared state's name.
        state: &'static str,
    },
    /// A section asked for a shared state's lock out of order.
    #[error(
        "`{asked}` was asked for while holding `{held}`: a section takes shared states in \
         ascending order of name and key (so that two sections can never wait for each other); \
         take `{asked}` first"
    )]
    SharedLockOrder {
        /// The shared state (`name/key`) the section holds.
        held: String,
        /// The one it asked for.
        asked: String,
    },
    /// The store could not read or write a shared state.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The engine is closing and takes no more events.
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
