//! The trait every piece of session state implements.

use serde::{Serialize, de::DeserializeOwned};

/// A struct of session state, addressed on the wire by its `NAME`.
///
/// A session holds one value of each state type it has touched, and the
/// client sees them as one JSON document `{ NAME: value, .. }`. The trait
/// lives in the wire crate because the browser needs `NAME` to find its copy.
pub trait State: Clone + Default + Serialize + DeserializeOwned + 'static {
    /// The key of this state in the session document. Must be unique per app.
    const NAME: &'static str;
}
