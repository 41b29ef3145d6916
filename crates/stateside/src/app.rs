//! The app: handlers registered by name, and the step that turns a wire
//! event into a call ready to run.
//!
//! Arguments are decoded when the event arrives, not when it runs, so a
//! malformed event is refused to its sender at once instead of failing
//! later inside the queue.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc};

use serde::de::DeserializeOwned;
use serde_json::Value;
use stateside_wire::HandlerId;

use crate::{Cx, Error, Task, cx::CxCore, state_map::SessionState, task::TaskCore};

pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

pub(crate) type Foreground = Box<dyn FnOnce(CxCore) -> HandlerFuture + Send>;
pub(crate) type Background = Box<dyn FnOnce(TaskCore) -> HandlerFuture + Send>;

/// A decoded event, ready for the queue (foreground) or to spawn (background).
pub(crate) enum Call {
    Foreground(Foreground),
    Background(Background),
}

pub(crate) struct Prepared {
    pub(crate) handler: &'static str,
    pub(crate) call: Call,
}

type Preparer = Box<dyn Fn(Value) -> Result<Call, serde_json::Error> + Send + Sync>;

/// The handlers of an application. Build it once at startup.
#[derive(Default)]
pub struct App {
    handlers: HashMap<&'static str, Preparer>,
}

impl App {
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
        self.insert(id.name(), move |args| {
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
    pub fn background<S, A, F, Fut>(mut self, id: HandlerId<A>, handler: F) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Task<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.insert(id.name(), move |args| {
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
        preparer: impl Fn(Value) -> Result<Call, serde_json::Error> + Send + Sync + 'static,
    ) {
        let previous = self.handlers.insert(name, Box::new(preparer));
        assert!(previous.is_none(), "handler `{name}` registered twice");
    }

    pub(crate) fn prepare(&self, handler: &str, args: Value) -> Result<Prepared, Error> {
        let (&name, preparer) = self
            .handlers
            .get_key_value(handler)
            .ok_or_else(|| Error::UnknownHandler(handler.to_owned()))?;
        let call = preparer(args).map_err(|error| Error::BadArgs {
            handler: name.to_owned(),
            reason: error.to_string(),
        })?;
        Ok(Prepared {
            handler: name,
            call,
        })
    }
}
