//! Who a tab is logged in as, and the guard on handlers that need a login.
//!
//! The engine keeps no passwords and sets no cookies. The app proves who a
//! browser is however it likes (a password form, single sign-on) and leaves
//! the proof where every request of that browser carries it: a cookie its
//! server set. The app's [`Authenticator`] reads that proof from the
//! [`RequestContext`] of the tab's current connection and names the user,
//! or nobody.
//!
//! It is asked on every call, never remembered in the session: the request
//! context comes from the HTTP request itself (a tab cannot write it), so a
//! tab can neither claim a user in its arguments nor keep a login the app
//! has revoked. A logout that forgets the proof on the server ends access
//! at once in every tab that carried it, and nothing about a login is ever
//! written to a store.
//!
//! [`App::protect`](crate::App::protect) refuses a handler (an `on_load`
//! hook too) to a session nobody is logged in to: it never runs, and the tab
//! gets a notice saying why. Inside a handler, [`Cx::user`](crate::Cx::user)
//! returns the user or [`LoginRequired`], which `?` turns into the same
//! notice.

use std::fmt;

use crate::{
    call::{Call, CxCore, HandlerFuture, TaskCore},
    request::RequestContext,
};

/// A logged-in user, by the id the app's [`Authenticator`] gives: the key
/// of the app's own user store.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    /// The user the app knows as `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id, as the app gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Names the user a request is logged in as. The app implements it over
/// its own login records; see the module docs.
pub trait Authenticator: Send + Sync + 'static {
    /// The user behind `request`, or `None`: no proof, a forged one, an
    /// expired or a revoked one. Called under the session's lock on every
    /// [`Cx::user`](crate::Cx::user) and every protected call, so keep it
    /// to a lookup in memory.
    fn user(&self, request: &RequestContext) -> Option<UserId>;
}

/// An authenticator the app also keeps elsewhere (its login routes).
impl<A: Authenticator + ?Sized> Authenticator for std::sync::Arc<A> {
    fn user(&self, request: &RequestContext) -> Option<UserId> {
        (**self).user(request)
    }
}

/// Why a handler did not run, or stopped: its session is not logged in.
/// Returned from a handler (with `?`), the tab gets a notice that says so
/// instead of an error id, and the handler's changes roll back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("you need to log in to do that")]
pub struct LoginRequired;

/// `call`, refused with [`LoginRequired`] when it comes to run in a session
/// nobody is logged in to. Checked when it runs, not when it arrives, so a
/// logout between the two counts.
pub(crate) fn guard(call: Call) -> Call {
    match call {
        Call::Foreground(run) => Call::Foreground(Box::new(move |core: CxCore| {
            if core.host.user().is_some() {
                run(core)
            } else {
                refuse(core)
            }
        })),
        Call::Background(mut start) => {
            let run = start.run;
            start.run = Box::new(move |core: TaskCore| {
                if core.host.user().is_some() {
                    run(core)
                } else {
                    refuse(core)
                }
            });
            Call::Background(start)
        }
    }
}

/// A handler that holds its context (and so the lock) until it fails, as
/// any handler does, and fails with [`LoginRequired`].
fn refuse<C: Send + 'static>(core: C) -> HandlerFuture {
    Box::pin(async move {
        let _core = core;
        Err(LoginRequired.into())
    })
}
