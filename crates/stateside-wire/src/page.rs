//! Page events: the tab tells its session which page it shows, so the
//! app's `on_load` and `on_unload` hooks run on the server, in order with
//! the tab's other events.

use serde::{Deserialize, Serialize};

use crate::HandlerId;

/// Sent by the tab when a page loads (or reloads), when it navigates on the
/// client, and when it finds its session was lost: the event the engine
/// turns into the app's page hooks. Sent like any event, so it is numbered,
/// retried and applied once.
pub const NAVIGATE: HandlerId<Navigation> = HandlerId::new("stateside/navigate");

/// Where a tab is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Navigation {
    /// The path, from `location.pathname`: `/notes/42`.
    pub path: String,
    /// The query string without its `?`: `q=milk&page=2`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// A page load (first load, reload, or a new session), as opposed to a
    /// navigation within the app: `on_load` runs even if the path is the
    /// one the session last saw.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub load: bool,
}
