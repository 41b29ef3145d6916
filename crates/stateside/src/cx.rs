//! The context of a foreground handler: the session's state under its lock,
//! plus the ways a handler talks back (flush, chain, client actions).

use std::{
    marker::PhantomData,
    ops::{Deref, DerefMut},
    sync::Arc,
};

use serde::Serialize;
use stateside_wire::{Action, HandlerId, SharedState};

use crate::{
    action::ActionRefused,
    call::{Call, CxCore, chained},
    census::EngineStats,
    error::Error,
    linking,
    login::{LoginRequired, UserId},
    page::Page,
    request::RequestContext,
    state_map::{SessionState, StateMap},
    task_id::{TaskId, TaskInfo},
    token::SessionToken,
};

/// A foreground handler's view of its session. It dereferences to the
/// handler's own state `S`; other states of the session are one call away.
///
/// It owns the session's lock for as long as the handler runs, so the state
/// cannot change under it. Changes are published when the handler returns
/// `Ok`, or earlier with [`flush`](Self::flush). On `Err` or a panic
/// everything since the last flush is undone: state changes, chained events
/// and client actions. Tasks it [`start`](Self::start)ed keep running.
pub struct Cx<S> {
    core: CxCore,
    state: PhantomData<fn() -> S>,
}

impl<S: SessionState> Cx<S> {
    pub(crate) fn new(mut core: CxCore) -> Self {
        core.section().ensure::<S>();
        Self {
            core,
            state: PhantomData,
        }
    }

    /// Another state of the same session, under the same lock (Reflex's
    /// `get_state`).
    pub fn state<T: SessionState>(&mut self) -> &T {
        self.core.section().state::<T>()
    }

    /// Another state of the same session, to change.
    pub fn state_mut<T: SessionState>(&mut self) -> &mut T {
        self.core.section().state_mut::<T>()
    }

    /// Links this session to the shared state `T` for `key` (Reflex's
    /// `_link_to`), showing it as `label` in the state's
    /// [`Presence`](stateside_wire::Presence). From now on the session's
    /// tabs see `T` in their document, and every change any linked session
    /// makes to it. Linking to another key of `T` leaves the one before.
    ///
    /// Compute `key` on the server (from a login, a room the user may join),
    /// never take it as given from the tab's arguments. Linking happens at
    /// once: a failing handler does not undo it.
    ///
    /// # Errors
    ///
    /// [`Error::SharedLockOrder`] if the section already holds a shared
    /// state that sorts after this one.
    pub async fn link<T: SharedState + Send + Sync>(
        &mut self,
        key: &str,
        label: impl Into<String>,
    ) -> Result<(), Error> {
        let (host, section, handler) = self.core.linking_parts();
        linking::link::<T>(host, section, handler, key, label.into()).await
    }

    /// Leaves the shared state `T`; false if the session was not linked.
    pub async fn unlink<T: SharedState + Send + Sync>(&mut self) -> Result<bool, Error> {
        let (host, section, handler) = self.core.linking_parts();
        linking::unlink::<T>(host, section, handler).await
    }

    /// The shared state `T` this session is linked to, locked into this
    /// handler's section: its changes are published with the session's own
    /// when the handler returns `Ok`, and rolled back with them otherwise.
    /// Other sessions' writers wait meanwhile, in the fair order of the
    /// shared state's own lock.
    ///
    /// # Errors
    ///
    /// [`Error::NotLinked`] if the session is not linked to a `T`;
    /// [`Error::SharedLockOrder`] if the section already holds a shared
    /// state that sorts after this one.
    pub async fn shared<T: SharedState + Send + Sync>(&mut self) -> Result<&mut T, Error> {
        let (host, section, handler) = self.core.linking_parts();
        linking::shared_mut::<T>(host, section, handler).await
    }

    /// The page the session's tab shows: its path, route params and query
    /// (see [`App::on_load`](crate::App::on_load)).
    pub fn page(&mut self) -> &Page {
        self.core.section().state::<Page>()
    }

    /// Every state of the session, for helpers that work across states.
    pub fn states(&mut self) -> &mut StateMap {
        self.core.section().states()
    }

    /// Publishes the changes so far at once, so the page can show a spinner
    /// before the slow part. They become the point a failure rolls back to.
    pub fn flush(&mut self) {
        let core = &mut self.core;
        core.flushed = core.chained.len();
        let section = core.section.as_mut().expect("present until drop");
        section.settle(&*core.host, core.handler, false, None);
    }

    /// Queues another event to run after this handler, behind any events
    /// already waiting. A background handler starts when its turn comes.
    pub fn emit<A: Serialize>(&mut self, handler: HandlerId<A>, args: &A) -> Result<(), Error> {
        let job = chained(&*self.core.host, handler, args)?;
        self.core.chained.push(job);
        Ok(())
    }

    /// [`emit`](Self::emit), but ahead of the events already waiting.
    pub(crate) fn emit_next<A: Serialize>(
        &mut self,
        handler: HandlerId<A>,
        args: &A,
    ) -> Result<(), Error> {
        let mut job = chained(&*self.core.host, handler, args)?;
        job.next = true;
        self.core.chained.push(job);
        Ok(())
    }

    /// Starts a background task now, without waiting for this handler to
    /// finish, and returns its id (for a later [`cancel`](Self::cancel)).
    pub fn start<A: Serialize>(
        &mut self,
        handler: HandlerId<A>,
        args: &A,
    ) -> Result<TaskId, Error> {
        let job = chained(&*self.core.host, handler, args)?;
        match job.prepared.call {
            Call::Background(start) => self.core.host.start(job.prepared.handler, start),
            Call::Foreground(_) => Err(Error::NotBackground(handler.name().to_owned())),
        }
    }

    /// A client-side effect, sent with this handler's next update.
    ///
    /// # Errors
    ///
    /// A `Redirect` or `Download` to a URL that is not `http(s)` or
    /// relative, or a `RunScript` in an app that did not turn scripts on
    /// ([`App::run_scripts`](crate::App::run_scripts)).
    pub fn action(&mut self, action: Action) -> Result<(), ActionRefused> {
        let scripts = self.core.host.runs_scripts();
        self.core.section().action(action, scripts)
    }

    /// The background tasks running in this session.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.core.host.tasks()
    }

    /// Cancels a background task of this session; see [`crate::Task`].
    pub fn cancel(&self, id: TaskId) -> bool {
        self.core.host.cancel(id)
    }

    /// Live sessions and running tasks in this process, for dashboards.
    pub fn engine_stats(&self) -> EngineStats {
        self.core.host.engine_stats()
    }

    /// The HTTP request behind the tab's current connection: the client's
    /// address and the headers and cookies the app keeps
    /// ([`App::keep_headers`](crate::App::keep_headers)). `None` until the
    /// tab first connects (an event [`emit`](crate::Engine::emit)ted to a
    /// session no tab has reached since a restart). Never from the tab's
    /// arguments: see [`RequestContext`].
    pub fn request(&self) -> Option<Arc<RequestContext>> {
        self.core.host.request()
    }

    /// Who the tab is logged in as, by the app's
    /// [`Authenticator`](crate::Authenticator), asked now from the request
    /// behind the tab's connection (see [`App::authenticate`](crate::App::authenticate)).
    ///
    /// # Errors
    ///
    /// [`LoginRequired`] when nobody is: return it with `?` and the tab
    /// gets a notice saying so.
    pub fn user(&self) -> Result<UserId, LoginRequired> {
        self.core.host.user().ok_or(LoginRequired)
    }

    /// This session's token: what [`Engine::emit`](crate::Engine::emit)
    /// finds it by, for a webhook or a job to reach it later. A secret, like
    /// a session cookie: keep it on the server.
    pub fn token(&self) -> SessionToken {
        self.core.host.token()
    }
}

impl<S: SessionState> Deref for Cx<S> {
    type Target = S;

    fn deref(&self) -> &S {
        self.core
            .section
            .as_ref()
            .expect("present until drop")
            .own::<S>()
    }
}

impl<S: SessionState> DerefMut for Cx<S> {
    fn deref_mut(&mut self) -> &mut S {
        self.core.section().state_mut::<S>()
    }
}
