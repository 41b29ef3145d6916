//! Stateside's engine: server-held session state with Reflex's event model.
//!
//! Each session has states, a foreground queue whose handlers run one at a
//! time, and background tasks that run beside it and change state only under
//! the session's fair lock. Every change becomes a minimal RFC 6902 patch on
//! a versioned stream. Nothing here knows about HTTP or Leptos, so all of it
//! is tested and benchmarked with plain `cargo test` and `cargo bench`.

mod actor;
mod app;
mod config;
mod cx;
mod engine;
mod error;
mod lock;
mod outbox;
mod sequencer;
mod session;
mod settle;
mod state_map;
mod store;
mod task;
mod tasks;
mod token;

pub use app::App;
pub use config::Config;
pub use cx::Cx;
pub use engine::{Engine, EngineStats};
pub use error::Error;
pub use outbox::Subscription;
pub use session::{SessionHandle, Submitted};
pub use state_map::{SessionState, StateMap};
pub use store::{FileStore, RedisStore, Store, StoreError};
pub use task::{Guard, Task};
pub use tasks::{TaskId, TaskInfo};
pub use token::{BadToken, SessionToken};

pub use stateside_wire::{
    Action, ClientEvent, DEFAULT_MAX_PAYLOAD, HandlerId, Notice, ServerMessage, State, Update,
};
