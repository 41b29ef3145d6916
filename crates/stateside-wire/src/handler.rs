//! Typed handler names: the one place a handler's name is spelt.

use std::{fmt, marker::PhantomData};

use serde::Serialize;

use crate::ClientEvent;

/// The name of a handler together with its argument type.
///
/// An app declares each handler once as a `const`; the server registers its
/// function under it and the client calls it through it. A misspelt handler
/// is then a compile error, and so are arguments of the wrong type.
pub struct HandlerId<A> {
    name: &'static str,
    args: PhantomData<fn(A)>,
}

impl<A> HandlerId<A> {
    /// Names a handler; the name must be unique in the app.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            args: PhantomData,
        }
    }

    /// The name the handler is registered and called under.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<A: Serialize> HandlerId<A> {
    /// The wire form of a call, still without its sequence number.
    pub fn call(&self, args: &A) -> Result<ClientEvent, serde_json::Error> {
        Ok(ClientEvent {
            seq: 0,
            handler: self.name.to_owned(),
            args: serde_json::to_value(args)?,
        })
    }
}

// Manual impls: a derive would wrongly require `A: Clone` and `A: Debug`.
impl<A> Clone for HandlerId<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for HandlerId<A> {}

impl<A> fmt::Debug for HandlerId<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HandlerId({})", self.name)
    }
}
