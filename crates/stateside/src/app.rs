//! The app: handlers registered by name, and the step that turns a wire
//! event into a call ready to run.
//!
//! Arguments are decoded when the event arrives, not when it runs, so a
//! malformed event is refused to its sender at once instead of failing
//! later inside the queue.

use std::{collections::HashMap, future::Future, sync::Arc};

use serde::de::DeserializeOwned;
use serde_json::Value;
use stateside_wire::HandlerId;

use crate::{
    call::{Call, CxCore, HandlerFuture, Prepared, TaskCore},
    cx::Cx,
    error::Error,
    state_map::SessionState,
    task::Task,
};

type Preparer = Box<dyn Fn(Value) -> Result<Call, serde_json::Error> + Send + Sync>;

struct Registered {
    prepare: Preparer,
    supersedes: bool,
}

/// The handlers of an application. Build it once at startup.
#[derive(Default)]
pub struct App {
    handlers: HashMap<&'static str, Registered>,
}

impl App {
    /// An app with no handlers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a foreground handler: it runs in the session's queue, one
    /// event at a time, and owns the session's lock while it runs.
    pub fn on<S, A, F, Fut>(mut self, id: HandlerId<A>, handler: F) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Cx<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.insert(id.name(), false, move |args| {
            let args: A = serde_json::from_value(args)?;
            let handler = Arc::clone(&handler);
            Ok(Call::Foreground(Box::new(move |core: CxCore| {
                Box::pin(handler(Cx::new(core), args)) as HandlerFuture
            })))
        });
        self
    }

    /// Registers a background handler: it starts at once, runs beside the
    /// queue, and changes state only through [`Task::lock`].
    pub fn background<S, A, F, Fut>(self, id: HandlerId<A>, handler: F) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Task<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.register_background(id, handler, false)
    }

    /// Like [`background`](Self::background), but a new start cancels any
    /// running instance started with the same arguments, so a restart can
    /// never leave two loops doing the same job.
    pub fn background_superseding<S, A, F, Fut>(self, id: HandlerId<A>, handler: F) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Task<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.register_background(id, handler, true)
    }

    fn register_background<S, A, F, Fut>(
        mut self,
        id: HandlerId<A>,
        handler: F,
        supersedes: bool,
    ) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Task<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.insert(id.name(), supersedes, move |args| {
            let args: A = serde_json::from_value(args)?;
            let handler = Arc::clone(&handler);
            Ok(Call::Background(Box::new(move |core: TaskCore| {
                Box::pin(handler(Task::new(core), args)) as HandlerFuture
            })))
        });
        self
    }

    fn insert(
        &mut self,
        name: &'static str,
        supersedes: bool,
        prepare: impl Fn(Value) -> Result<Call, serde_json::Error> + Send + Sync + 'static,
    ) {
        let registered = Registered {
            prepare: Box::new(prepare),
            supersedes,
        };
        let previous = self.handlers.insert(name, registered);
        assert!(previous.is_none(), "handler `{name}` registered twice");
    }

    pub(crate) fn prepare(&self, handler: &str, args: Value) -> Result<Prepared, Error> {
        let (&name, registered) = self
            .handlers
            .get_key_value(handler)
            .ok_or_else(|| Error::UnknownHandler(handler.to_owned()))?;
        let supersede_key = registered.supersedes.then(|| format!("{name}:{args}"));
        let call = (registered.prepare)(args).map_err(|error| Error::BadArgs {
            handler: name.to_owned(),
            reason: error.to_string(),
        })?;
        Ok(Prepared {
            handler: name,
            call,
            supersede_key,
        })
    }
}
