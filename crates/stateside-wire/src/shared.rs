//! Shared states: one value per key, linked by many sessions (a room, a
//! document, a user's devices), where each session's own states are private
//! to its tab.
//!
//! The trait lives in the wire crate, beside [`State`], because the browser
//! reads a shared state like any other: a linked session's document holds
//! it under its `NAME`. [`Presence`] is here for the same reason: it is a
//! field the page renders.

use serde::{Deserialize, Serialize};

use crate::State;

/// A state held once per key and linked by sessions (Reflex's
/// `rx.SharedState`). Declare it like any state, then say where its
/// presence goes, if it has one:
///
/// ```
/// use stateside_wire::{List, Presence, SharedState, State};
///
/// #[derive(Clone, Default, State)]
/// struct Board {
///     cards: List<String>,
///     here: Presence,
/// }
///
/// impl SharedState for Board {
///     fn presence(&mut self) -> Option<&mut Presence> {
///         Some(&mut self.here)
///     }
/// }
/// ```
pub trait SharedState: State {
    /// The field the engine keeps up to date with who is linked and has a
    /// tab open; `None` (the default) for a state that shows no presence.
    fn presence(&mut self) -> Option<&mut Presence> {
        None
    }
}

/// Who is here: the sessions linked to a shared state with a tab open, in
/// the order they linked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Presence(Vec<Member>);

impl Presence {
    /// The members, in the order they linked.
    pub fn members(&self) -> &[Member] {
        &self.0
    }

    /// Whether nobody is here.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many are here.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Replaces the members; the engine's to call.
    #[doc(hidden)]
    pub fn set(&mut self, members: Vec<Member>) {
        self.0 = members;
    }
}

/// One linked session, as others see it: never its token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// A public id, stable for the session's life and unique among the
    /// members (not its token, which is a secret).
    pub id: String,
    /// What the app chose to show for it when it linked: a user's name,
    /// "guest 3".
    pub label: String,
}
