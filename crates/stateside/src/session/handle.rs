//! [`SessionHandle`]: what the engine, a transport, the store and the
//! cluster code may do with a session, and nothing more.

use std::{sync::Arc, time::Duration};

use serde::Serialize;
use stateside_wire::{ClientEvent, HandlerId, ServerMessage};
use tokio::{sync::broadcast, time::Instant};

use super::inner::SessionInner;
use crate::{
    error::Error,
    mutex::lock,
    request::RequestContext,
    state_map::SessionState,
    task_id::{TaskId, TaskInfo},
    token::SessionToken,
    transport::{Submitted, Subscription},
};

/// A handle to a live session. Cloning is an `Arc` increment; the session
/// lives while the engine or any handle, task or running handler holds it.
#[derive(Clone)]
pub struct SessionHandle {
    pub(super) inner: Arc<SessionInner>,
}

impl From<Arc<SessionInner>> for SessionHandle {
    fn from(inner: Arc<SessionInner>) -> Self {
        Self { inner }
    }
}

impl SessionHandle {
    /// The session's token.
    pub fn token(&self) -> SessionToken {
        self.inner.token
    }

    /// Takes one client event. It is decoded now, so a bad event is refused
    /// to its sender; its seq still counts as used, so later events flow.
    pub fn submit(&self, event: ClientEvent) -> Result<Submitted, Error> {
        self.inner.submit(event)
    }

    /// Runs `handler` in this session as if its tab had called it, from
    /// outside any handler: a webhook, a timer, another session's code
    /// (Reflex's `app.modify_state`). It queues behind the events already
    /// waiting, runs under the session's lock like any handler, and its
    /// changes reach every tab on their streams. It may name a handler
    /// registered with [`App::internal`](crate::App::internal), which no tab
    /// can call. On a Redis instance that follows the session, it is handed
    /// to the owner.
    ///
    /// # Errors
    ///
    /// An unknown handler, arguments that do not decode, a full queue
    /// (`Busy`), an expired session, or a server shutting down.
    pub fn emit<A: Serialize>(&self, handler: HandlerId<A>, args: &A) -> Result<(), Error> {
        let args = serde_json::to_value(args).map_err(|error| Error::BadArgs {
            handler: handler.name().to_owned(),
            reason: error.to_string(),
        })?;
        self.inner.emit(handler.name(), args)
    }

    /// [`emit`](Self::emit) with the handler by name, as a follower hands
    /// it on.
    pub(crate) fn emit_named(&self, handler: &str, args: serde_json::Value) -> Result<(), Error> {
        self.inner.emit(handler, args)
    }

    /// Records the request behind the tab's new connection, for handlers'
    /// [`Cx::request`](crate::Cx::request). Transports call it as a tab
    /// connects, before its events.
    pub fn connected(&self, request: RequestContext) {
        *lock(&self.inner.request) = Some(Arc::new(request));
    }

    /// A stream of this session ended (its receiver is dropped): the
    /// presence of the shared states it is linked to may have changed.
    pub fn stream_closed(&self) {
        self.inner.refresh_presence();
    }

    /// Whether an event submitted now would be taken rather than answered
    /// [`Busy`](crate::Error::Busy): a transport that can hold events (a
    /// socket, which then stops reading) waits for this instead.
    pub fn has_room(&self) -> bool {
        self.inner.has_room()
    }

    /// Opens a stream for a client that last applied version `since`,
    /// unless the session has `Config::max_streams_per_session` open.
    pub fn subscribe(&self, since: Option<u64>) -> Result<Subscription, Error> {
        let subscription = self.inner.publishing.outbox().subscribe(since)?;
        self.inner.work.touch();
        self.inner.refresh_presence();
        self.inner.work.watched();
        Ok(subscription)
    }

    /// Restarts a stream whose reader fell too far behind its live feed,
    /// from version `since`, in place of that feed.
    pub fn resubscribe(
        &self,
        since: Option<u64>,
        lagging: broadcast::Receiver<Arc<ServerMessage>>,
    ) -> Subscription {
        self.inner
            .publishing
            .outbox()
            .restart_stream(since, lagging)
    }

    /// The seq this session expects next from its client (on a follower,
    /// as far as the owner's saved acks tell).
    pub fn next_seq(&self) -> u64 {
        self.inner.next_seq()
    }

    /// The document version clients have been sent.
    pub fn version(&self) -> u64 {
        self.inner.publishing.outbox().version()
    }

    /// The background tasks running in this session.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.inner.tasks.list()
    }

    /// Stops a background task at its next await. Returns whether it was
    /// running.
    ///
    /// On a Redis instance that follows the session, the task runs on the
    /// owner: the cancel is forwarded there, behind the events this
    /// instance forwarded before it, and this returns true.
    pub fn cancel(&self, id: TaskId) -> bool {
        if let Some(forward) = &self.inner.intake.forward {
            forward.cancel(id);
            return true;
        }
        self.inner.cancel(id)
    }

    /// Reads the current value of a state, waiting for the lock like
    /// anyone else. For tests, tools and server-side rendering.
    ///
    /// On a Redis instance that follows the session, the session runs
    /// elsewhere: this reads the state as the owner last saved it (fields
    /// marked `#[serde(skip)]` at their defaults, computed fields
    /// recomputed), with no lock.
    ///
    /// # Panics
    ///
    /// When called from inside a handler or lock section of this session:
    /// it would wait for itself.
    pub async fn read<S: SessionState, R>(&self, read: impl FnOnce(&S) -> R) -> R {
        if self.inner.intake.forward.is_some() {
            let state = self.inner.publishing.outbox().state::<S>();
            return read(&state);
        }
        let mut states = self.inner.lock.acquire("read").await;
        read(states.get::<S>())
    }

    /// Nothing queued, nothing running: no foreground event and no task.
    pub fn is_quiet(&self) -> bool {
        self.inner.work.is_quiet()
    }

    pub(crate) fn close_streams(&self) {
        self.inner.publishing.outbox().close_streams();
    }

    /// The end of a shutdown's grace: stops every task (the record still
    /// lists them, for the session's next run), and drops the running
    /// foreground handler (its unpublished changes roll back) with
    /// everything still queued behind it.
    pub(crate) fn stop(&self) {
        self.inner.halt_tasks();
        self.inner.work.abort();
    }

    /// How long the session has been idle, if it is (see `session::expiry`).
    pub(crate) fn idle_for(&self, now: Instant) -> Option<Duration> {
        self.inner.idle_for(now)
    }

    /// Marks the session expired if it is idle past its TTL, or idle at all
    /// for an `eviction` (see `session::expiry`).
    pub(crate) fn try_expire(&self, now: Instant, eviction: bool) -> bool {
        self.inner.try_expire(now, eviction)
    }

    /// Cancels the tasks of a session no tab has watched for long enough;
    /// returns how many (see `session::expiry`).
    pub(crate) fn stop_unwatched_tasks(&self, now: Instant) -> usize {
        self.inner.stop_unwatched_tasks(now)
    }
}
