//! One session: its states behind the fair lock, its queue and actor, its
//! tasks and its outbox. [`SessionHandle`] is the cheap, cloneable way in,
//! and the only way in for the engine, the store and the cluster code.
//!
//! [`inner`] holds the session's parts and their lock order; the other
//! files each add one flow on top of them.

mod actor;
mod expiry;
mod handle;
mod host;
mod inner;
mod intake;
mod linked;
mod publishing;
#[cfg(feature = "redis")]
mod replica;
mod restore;
mod settle;
mod spawn;
mod start;
mod submit;
mod task_table;
mod upload;
mod work;

pub use handle::SessionHandle;
pub(crate) use inner::{Origin, Role, Shared};
#[cfg(feature = "redis")]
pub(crate) use intake::Forward;
#[cfg(feature = "redis")]
pub(crate) use replica::WeakSession;
pub use upload::{UploadEnd, UploadRefused, UploadTask};
