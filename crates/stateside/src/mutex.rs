//! The one way the engine takes a std mutex.
//!
//! These mutexes guard plain data, no await happens while one is held, and
//! none of the critical sections can panic halfway through a change, so a
//! poisoned mutex still holds consistent data: recovering it is safe, and
//! spares every caller an `unwrap`.

use std::sync::{Mutex, MutexGuard};

/// Locks a std mutex, recovering it if a panic poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
