//! The app: handlers registered by name, and the step that turns a wire
//! event into a call ready to run.
//!
//! Arguments are decoded when the event arrives, not when it runs, so a
//! malformed event is refused to its sender at once instead of failing
//! later inside the queue.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::Arc,
};

use serde::de::DeserializeOwned;
use serde_json::Value;
use stateside_wire::{Files, HandlerId, StorageBinding};
use tokio::sync::oneshot;

use crate::{
    call::{Background, Call, CxCore, Foreground, HandlerFuture, Prepared, TaskCore, TaskStart},
    client_storage::{self, ClientFields},
    cx::Cx,
    error::Error,
    login::{self, Authenticator, UserId},
    navigation,
    page::PageHooks,
    request::RequestContext,
    state_map::SessionState,
    task::Task,
    upload::{UploadHandler, Uploads, upload_handler},
};

type ForegroundPreparer = Box<dyn Fn(Value) -> Result<Foreground, serde_json::Error> + Send + Sync>;
type BackgroundPreparer = Box<dyn Fn(Value) -> Result<Background, serde_json::Error> + Send + Sync>;

enum Registered {
    Foreground(ForegroundPreparer),
    Background(TaskKind),
    Upload(UploadHandler),
}

struct TaskKind {
    prepare: BackgroundPreparer,
    supersedes: bool,
    after_restore: AfterRestore,
}

/// What becomes of a task that was running when its session was last saved,
/// once the session is restored (after a restart or a Redis takeover).
enum AfterRestore {
    /// It starts again from its original arguments.
    Restart,
    /// It is gone; this hook, if any, puts the state right.
    Lost(Option<ForegroundPreparer>),
}

/// A task the session's record says was running, as the app decides to
/// bring it back.
pub(crate) enum Restored {
    /// Start it again, as it was started.
    Restart(&'static str, TaskStart),
    /// It stays stopped; run this `on_lost` hook, if the app has one.
    Lost(Option<Prepared>),
}

/// The handlers of an application. Build it once at startup.
pub struct App {
    handlers: HashMap<&'static str, Registered>,
    /// Run once whenever a session is restored (see [`App::on_restore`]).
    restore_hooks: Vec<ForegroundPreparer>,
    /// Handlers only server code may chain to (see [`App::internal`]).
    internal: HashSet<&'static str>,
    /// Whether handlers may send `RunScript` (see [`App::run_scripts`]).
    run_scripts: bool,
    /// The `on_load` and `on_unload` hooks (see [`App::on_load`]).
    pages: PageHooks,
    /// What transports keep of a tab's request (see [`App::keep_headers`]).
    kept_headers: Vec<&'static str>,
    kept_cookies: Vec<&'static str>,
    /// The fields states keep in the browser, found as handlers register.
    client_fields: ClientFields,
    /// Who a request is logged in as (see [`App::authenticate`]).
    authenticator: Option<Box<dyn Authenticator>>,
    /// Handlers refused to anonymous sessions (see [`App::protect`]).
    protected: HashSet<&'static str>,
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

/// The name [`App::on_restore`] hooks run under, in logs and notices.
const ON_RESTORE: &str = "on_restore";

impl App {
    /// An app with no handlers of its own yet (the engine's page events
    /// are built in).
    pub fn new() -> Self {
        let app = Self {
            handlers: HashMap::new(),
            restore_hooks: Vec::new(),
            internal: HashSet::new(),
            run_scripts: false,
            pages: PageHooks::default(),
            kept_headers: vec!["user-agent", "accept-language"],
            kept_cookies: Vec::new(),
            client_fields: ClientFields::default(),
            authenticator: None,
            protected: HashSet::new(),
        };
        let (hooks, fields) = (app.pages.clone(), app.client_fields.clone());
        client_storage::register(navigation::register(app, &hooks), &fields)
    }

    /// Runs `handler` when a tab shows a page whose path matches
    /// `pattern` (`/notes/:id`, as Leptos routes are written): when the
    /// page loads or reloads, when the tab navigates to it, and when the
    /// tab finds its session was lost. Not after a plain reconnect: the
    /// session still holds what the hook loaded. The handler reads the path,
    /// params and query with [`Cx::page`].
    pub fn on_load(self, pattern: &str, handler: HandlerId<()>) -> Self {
        self.pages.on_load(pattern, handler);
        self
    }

    /// Runs `handler` when the tab leaves a page whose path matches
    /// `pattern` for another page of the app; [`Cx::page`] still reads the
    /// page being left.
    pub fn on_unload(self, pattern: &str, handler: HandlerId<()>) -> Self {
        self.pages.on_unload(pattern, handler);
        self
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
        self.client_fields.note::<S>();
        self.insert(id.name(), Registered::Foreground(foreground(handler)));
        self
    }

    /// Registers a foreground handler that only server code can call: a
    /// handler or task chains to it with `emit`. A client that names it
    /// gets the same refusal as for a handler that does not exist, and its
    /// session is untouched. For the steps of a chain, and whatever else
    /// the page never calls.
    pub fn internal<S, A, F, Fut>(mut self, id: HandlerId<A>, handler: F) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Cx<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.internal.insert(id.name());
        self.on(id, handler)
    }

    /// Headers a transport keeps from a tab's request, for
    /// [`Cx::request`]: `user-agent` and `accept-language` unless changed.
    /// Only what the app names is kept, so a session holds no more than it
    /// needs.
    pub fn keep_headers(mut self, names: &[&'static str]) -> Self {
        self.kept_headers = names.to_vec();
        self
    }

    /// Cookies a transport keeps from a tab's request, for [`Cx::request`]
    /// (none unless named): a login's session cookie, say. Each call adds
    /// to the list, so each part of an app names its own.
    pub fn keep_cookies(mut self, names: &[&'static str]) -> Self {
        self.kept_cookies.extend_from_slice(names);
        self
    }

    /// The headers [`keep_headers`](Self::keep_headers) names.
    pub fn kept_headers(&self) -> &[&'static str] {
        &self.kept_headers
    }

    /// The cookies [`keep_cookies`](Self::keep_cookies) names.
    pub fn kept_cookies(&self) -> &[&'static str] {
        &self.kept_cookies
    }

    /// The fields the app's states keep in the browser (`#[client(..)]`),
    /// which a transport names to each tab as its connection opens. A
    /// state's fields count once a handler of that state is registered.
    pub fn storage_bindings(&self) -> Vec<StorageBinding> {
        self.client_fields.bindings()
    }

    /// How the app tells who a tab is logged in as, from the request behind
    /// its connection (usually a cookie, kept with
    /// [`keep_cookies`](Self::keep_cookies)); [`Cx::user`] and
    /// [`protect`](Self::protect) ask it. Without one, nobody is logged in.
    pub fn authenticate(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Box::new(authenticator));
        self
    }

    /// Refuses `id` to a session nobody is logged in to: the handler does
    /// not run, and the tab gets a notice ("you need to log in to do
    /// that"). Checked each time it comes to run, so a logout in between
    /// counts. Works for any handler, foreground or background, an
    /// [`on_load`](Self::on_load) hook's included; a handler that only
    /// needs the login for part of its work asks [`Cx::user`] instead.
    pub fn protect<A>(mut self, id: HandlerId<A>) -> Self {
        self.protected.insert(id.name());
        self
    }

    /// Who `request` is logged in as (see [`authenticate`](Self::authenticate)).
    pub(crate) fn user(&self, request: &RequestContext) -> Option<UserId> {
        self.authenticator.as_ref()?.user(request)
    }

    /// Lets handlers send `Action::RunScript`, which runs JavaScript in the
    /// page. Off by default: the page's Content-Security-Policy then
    /// forbids `eval` (the server's headers read [`runs_scripts`](Self::runs_scripts)),
    /// so an injected script has one way fewer to run.
    pub fn run_scripts(mut self) -> Self {
        self.run_scripts = true;
        self
    }

    /// Whether [`run_scripts`](Self::run_scripts) was called.
    pub fn runs_scripts(&self) -> bool {
        self.run_scripts
    }

    /// Registers a background handler: it starts at once, runs beside the
    /// queue, and changes state only through [`Task::lock`].
    ///
    /// If the server stops while it runs (a restart, a crash, a Redis
    /// takeover), it does not run again when the session is restored: the
    /// tab gets a notice saying it stopped, and an [`on_lost`](Self::on_lost)
    /// hook can put the state right. For a task that can simply run again,
    /// use [`background_restartable`](Self::background_restartable).
    pub fn background<S, A, F, Fut>(self, id: HandlerId<A>, handler: F) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Task<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.register_background(id, handler, false, AfterRestore::Lost(None))
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
        self.register_background(id, handler, true, AfterRestore::Lost(None))
    }

    /// A superseding background handler (see
    /// [`background_superseding`](Self::background_superseding)) that a
    /// restored session starts again, from its original arguments, if it
    /// was running when the server stopped. Write it to be resumable: to
    /// pick up from what the state says, as a loop that reads its progress
    /// from the state does.
    ///
    /// It keeps its [`TaskId`](crate::TaskId), so an id kept in the state
    /// still cancels it.
    pub fn background_restartable<S, A, F, Fut>(self, id: HandlerId<A>, handler: F) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Task<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.register_background(id, handler, true, AfterRestore::Restart)
    }

    /// Registers what to do when a task of `id`, not restartable, was
    /// running when the server stopped: `hook` runs as a foreground handler
    /// with the task's arguments, once the session is restored, to put the
    /// state right (clear a "running" flag, say why). The tab also gets a
    /// notice that the task stopped.
    ///
    /// # Panics
    ///
    /// If `id` is not registered yet as a background handler, or is
    /// restartable (it never gets lost), or already has a hook.
    pub fn on_lost<S, A, F, Fut>(mut self, id: HandlerId<A>, hook: F) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Cx<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let name = id.name();
        match self.handlers.get_mut(name) {
            Some(Registered::Background(TaskKind {
                after_restore: after_restore @ AfterRestore::Lost(None),
                ..
            })) => *after_restore = AfterRestore::Lost(Some(foreground(hook))),
            _ => panic!(
                "`on_lost({name})` needs `{name}` registered first as a background \
                 handler that is not restartable and has no hook yet"
            ),
        }
        self
    }

    /// Registers a hook that runs once, as a foreground handler first in
    /// the queue, whenever a session is restored from a store: after a
    /// restart, or on the instance that takes a Redis session over.
    ///
    /// Tasks have their own rules (see
    /// [`background_restartable`](Self::background_restartable) and
    /// [`on_lost`](Self::on_lost)); this is for the rest of what a
    /// session's last run was doing. Events a
    /// handler chained (with [`Cx::emit`]) that had not run yet are not in
    /// the record, so a page that drives itself with a chain restarts it
    /// here if its state says it was running.
    pub fn on_restore<S, F, Fut>(mut self, hook: F) -> Self
    where
        S: SessionState,
        F: Fn(Cx<S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.client_fields.note::<S>();
        let hook = foreground(move |cx: Cx<S>, (): ()| hook(cx));
        self.restore_hooks.push(hook);
        self
    }

    /// Registers an upload handler: the page sends it files
    /// (`stateside_leptos::use_upload`), and it runs as a background task
    /// of the session with the request's files, streamed as they arrive.
    /// It reads them one after another from [`Uploads`], saves or streams
    /// each, and records what it received in the state through
    /// [`Task::lock`]. The page's request ends when the handler returns;
    /// if the page cancels the upload, the task is cancelled and a file
    /// half written by [`Upload::save_to`](crate::Upload::save_to) is
    /// removed.
    ///
    /// Like [`background`](Self::background), it does not run again after
    /// a restart (its files went with the request): the tab gets a notice
    /// that it stopped.
    pub fn upload<S, F, Fut>(mut self, id: HandlerId<Files>, handler: F) -> Self
    where
        S: SessionState,
        F: Fn(Task<S>, Uploads) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.insert(id.name(), Registered::Upload(upload_handler(handler)));
        self
    }

    fn register_background<S, A, F, Fut>(
        mut self,
        id: HandlerId<A>,
        handler: F,
        supersedes: bool,
        after_restore: AfterRestore,
    ) -> Self
    where
        S: SessionState,
        A: DeserializeOwned + Send + 'static,
        F: Fn(Task<S>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.client_fields.note::<S>();
        let handler = Arc::new(handler);
        let prepare: BackgroundPreparer = Box::new(move |args| {
            let args: A = serde_json::from_value(args)?;
            let handler = Arc::clone(&handler);
            Ok(Box::new(move |core: TaskCore| {
                Box::pin(handler(Task::new(core), args)) as HandlerFuture
            }))
        });
        let kind = TaskKind {
            prepare,
            supersedes,
            after_restore,
        };
        self.insert(id.name(), Registered::Background(kind));
        self
    }

    fn insert(&mut self, name: &'static str, registered: Registered) {
        let previous = self.handlers.insert(name, registered);
        assert!(previous.is_none(), "handler `{name}` registered twice");
    }

    /// Decodes a client's event. An [`internal`](Self::internal) handler
    /// is unknown to clients.
    pub(crate) fn prepare(&self, handler: &str, args: Value) -> Result<Prepared, Error> {
        if self.internal.contains(handler) {
            return Err(Error::UnknownHandler(handler.to_owned()));
        }
        self.prepare_chained(handler, args)
    }

    /// Decodes an event that server code chained, or a restored task.
    pub(crate) fn prepare_chained(&self, handler: &str, args: Value) -> Result<Prepared, Error> {
        let (&name, registered) = self
            .handlers
            .get_key_value(handler)
            .ok_or_else(|| Error::UnknownHandler(handler.to_owned()))?;
        let bad_args = |error: serde_json::Error| Error::BadArgs {
            handler: name.to_owned(),
            reason: error.to_string(),
        };
        let call = match registered {
            Registered::Foreground(prepare) => Call::Foreground(prepare(args).map_err(bad_args)?),
            Registered::Background(kind) => {
                let supersede_key = kind.supersedes.then(|| format!("{name}:{args}"));
                let run = (kind.prepare)(args.clone()).map_err(bad_args)?;
                Call::Background(TaskStart {
                    run,
                    args,
                    supersede_key,
                })
            }
            Registered::Upload(_) => {
                return Err(Error::BadArgs {
                    handler: name.to_owned(),
                    reason: "an upload handler takes files, sent to its upload path, not an event"
                        .to_owned(),
                });
            }
        };
        let call = if self.protected.contains(name) {
            login::guard(call)
        } else {
            call
        };
        Ok(Prepared {
            handler: name,
            call,
        })
    }

    /// The task that runs the upload handler `handler` on `files`, and
    /// what tells when it returned `Ok` (`true`) or an error; `None` if
    /// no upload handler has that name.
    pub(crate) fn prepare_upload(
        &self,
        handler: &str,
        files: Uploads,
    ) -> Option<(
        &'static str,
        crate::call::Background,
        oneshot::Receiver<bool>,
    )> {
        let Some((&name, Registered::Upload(prepare))) = self.handlers.get_key_value(handler)
        else {
            return None;
        };
        let (ended, receiver) = oneshot::channel();
        Some((name, prepare(files, ended), receiver))
    }

    /// How a task that the record of a restored session lists comes back.
    /// A handler this app no longer has, or arguments it no longer reads,
    /// count as lost with no hook.
    pub(crate) fn restore_task(&self, handler: &str, args: Value) -> Restored {
        let Some((&name, Registered::Background(kind))) = self.handlers.get_key_value(handler)
        else {
            return Restored::Lost(None);
        };
        match &kind.after_restore {
            AfterRestore::Restart => match self.prepare_chained(name, args) {
                Ok(Prepared {
                    handler,
                    call: Call::Background(start),
                }) => Restored::Restart(handler, start),
                _ => Restored::Lost(None),
            },
            AfterRestore::Lost(None) => Restored::Lost(None),
            AfterRestore::Lost(Some(hook)) => Restored::Lost(match hook(args) {
                Ok(call) => Some(Prepared {
                    handler: name,
                    call: Call::Foreground(call),
                }),
                Err(error) => {
                    tracing::warn!(handler, %error, "a lost task's arguments no longer decode");
                    None
                }
            }),
        }
    }

    /// The [`on_restore`](Self::on_restore) hooks, ready for the queue.
    pub(crate) fn restore_hooks(&self) -> impl Iterator<Item = Prepared> + '_ {
        self.restore_hooks.iter().filter_map(|prepare| {
            let call = prepare(Value::Null).ok()?;
            Some(Prepared {
                handler: ON_RESTORE,
                call: Call::Foreground(call),
            })
        })
    }
}

/// A foreground handler as the app keeps it: decoding its arguments gives
/// the call, ready for the queue.
fn foreground<S, A, F, Fut>(handler: F) -> ForegroundPreparer
where
    S: SessionState,
    A: DeserializeOwned + Send + 'static,
    F: Fn(Cx<S>, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let handler = Arc::new(handler);
    Box::new(move |args| {
        let args: A = serde_json::from_value(args)?;
        let handler = Arc::clone(&handler);
        Ok(Box::new(move |core: CxCore| {
            Box::pin(handler(Cx::new(core), args)) as HandlerFuture
        }))
    })
}
