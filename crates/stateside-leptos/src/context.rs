//! The reactive side: the session document as a signal, and typed reads
//! and calls for components.

use leptos::prelude::*;
use serde::Serialize;
use stateside_wire::{Document, HandlerId, State, ToastLevel};

/// Arguments larger than this are refused here, with a toast, rather than
/// sent to be refused by the server's body limit on every retry.
const MAX_ARGS_BYTES: usize = stateside_wire::DEFAULT_MAX_PAYLOAD / 2;

/// Where the patch stream stands, shown by [`crate::ConnectionBanner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Rendered on the server, or hydrated but not yet synced.
    Connecting,
    /// Synced and following the server.
    Live,
    /// Lost the stream; events are queued and will be sent on reconnect.
    Reconnecting,
}

impl Status {
    /// The status as the banner's `data-status` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Reconnecting => "reconnecting",
        }
    }
}

/// How the page reaches the server, shown by the banner's `data-transport`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// One WebSocket per tab: the primary transport, and the one the page
    /// tries first.
    WebSocket,
    /// POST requests up and an SSE stream down, for the rest of the page's
    /// life, because the WebSocket was refused while plain HTTP got through.
    Sse,
}

impl Transport {
    /// The transport as the banner's `data-transport` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebSocket => "websocket",
            Self::Sse => "sse",
        }
    }
}

/// A toast on screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    /// Unique on this page, so a toast can be taken down by itself.
    pub id: u64,
    /// The message shown.
    pub text: String,
    /// How it looks, and how a screen reader announces it.
    pub level: ToastLevel,
}

/// How long a toast stays unless a handler says otherwise.
#[cfg(feature = "hydrate")]
const TOAST_MILLIS: u32 = 6_000;

/// The Stateside client of this page. `Copy`: it is a bundle of signals.
#[derive(Clone, Copy)]
pub struct Stateside {
    pub(crate) document: RwSignal<Document>,
    pub(crate) status: RwSignal<Status>,
    pub(crate) toasts: RwSignal<Vec<Toast>>,
    /// The document has been synced with the server at least once.
    pub(crate) synced: RwSignal<bool>,
    /// Events sent or queued but not yet acknowledged by the server.
    pub(crate) unacked: RwSignal<usize>,
    /// How the page reaches the server.
    pub(crate) transport: RwSignal<Transport>,
    /// The server lost the session this page followed, and the page started
    /// a new one; the banner says so until the user dismisses it.
    pub(crate) session_renewed: RwSignal<bool>,
    /// The app router's navigation, once [`use_page_events`](crate::use_page_events)
    /// ran: a redirect to a path of the app goes through it.
    pub(crate) router: StoredValue<Option<InAppNavigate>, LocalStorage>,
}

/// Goes to a path of the app without reloading the page.
pub(crate) type InAppNavigate = std::rc::Rc<dyn Fn(&str)>;

impl Stateside {
    /// Creates the client, provides it as context, and (in the browser)
    /// connects once the page has hydrated. Call it once, in the root.
    pub fn provide() -> Self {
        let stateside = Self {
            document: RwSignal::new(Document::default()),
            status: RwSignal::new(Status::Connecting),
            toasts: RwSignal::new(Vec::new()),
            synced: RwSignal::new(false),
            unacked: RwSignal::new(0),
            transport: RwSignal::new(Transport::WebSocket),
            session_renewed: RwSignal::new(false),
            router: StoredValue::new_local(None),
        };
        provide_context(stateside);
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| crate::client::start(stateside));
        stateside
    }

    /// Where the patch stream stands.
    pub fn status(&self) -> ReadSignal<Status> {
        self.status.read_only()
    }

    /// How many events the server has yet to acknowledge.
    pub fn unacked(&self) -> ReadSignal<usize> {
        self.unacked.read_only()
    }

    /// How the page reaches the server.
    pub fn transport(&self) -> ReadSignal<Transport> {
        self.transport.read_only()
    }

    /// Whether the server lost this page's session and a new one was
    /// started (until the user dismisses the banner that says so).
    pub fn session_renewed(&self) -> RwSignal<bool> {
        self.session_renewed
    }

    /// Whether the page shows the session's real state yet.
    pub fn synced(&self) -> ReadSignal<bool> {
        self.synced.read_only()
    }

    /// A message arrived: the stream is live. The first one that leaves
    /// the document `complete` (holding what the browser stored, too) also
    /// marks it synced, and the moment of the first correct paint for
    /// performance measurements.
    #[cfg(feature = "hydrate")]
    pub(crate) fn mark_live(&self, complete: bool) {
        self.status.set(Status::Live);
        if complete && !self.synced.get_untracked() {
            self.synced.set(true);
            if let Some(performance) = window().performance() {
                let _ = performance.mark("stateside-synced");
            }
        }
    }

    /// Calls a handler on the server. Never blocks and never fails here:
    /// the event is queued, sent in order, and resent until acknowledged.
    pub fn call<A: Serialize>(&self, handler: HandlerId<A>, args: A) {
        match handler.call(&args) {
            Ok(event) if event.args.to_string().len() > MAX_ARGS_BYTES => self.error(format!(
                "{}: arguments over {} KiB were not sent",
                handler.name(),
                MAX_ARGS_BYTES / 1024
            )),
            #[cfg(feature = "hydrate")]
            Ok(event) => crate::client::send(event),
            #[cfg(not(feature = "hydrate"))]
            Ok(_) => {}
            Err(error) => self.error(format!("{}: {error}", handler.name())),
        }
    }

    /// Calls a handler named at run time (a script's `then`).
    #[cfg(feature = "hydrate")]
    pub(crate) fn call_named(&self, handler: String, args: serde_json::Value) {
        crate::client::send(stateside_wire::ClientEvent {
            seq: 0,
            handler,
            args,
        });
    }

    /// Something failed: an error toast.
    pub(crate) fn error(&self, text: String) {
        self.toast_with(ToastLevel::Error, text, None);
    }

    /// Shows `text` for `millis` (the usual 6 s if `None`; until the user
    /// dismisses it if 0).
    pub(crate) fn toast_with(&self, level: ToastLevel, text: String, millis: Option<u32>) {
        let id = self
            .toasts
            .with_untracked(|toasts| toasts.last().map_or(0, |t| t.id + 1));
        self.toasts
            .update(|toasts| toasts.push(Toast { id, text, level }));
        #[cfg(feature = "hydrate")]
        {
            let millis = millis.unwrap_or(TOAST_MILLIS);
            if millis > 0 {
                let stateside = *self;
                set_timeout(
                    move || stateside.dismiss(id),
                    std::time::Duration::from_millis(millis.into()),
                );
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = millis;
    }

    /// Takes a toast down.
    pub fn dismiss(&self, id: u64) {
        self.toasts.update(|all| all.retain(|toast| toast.id != id));
    }
}

/// The client [`Stateside::provide`] put in context.
pub fn use_stateside() -> Stateside {
    expect_context()
}

/// One state of the session, as a memo: views re-render only when this
/// state's value actually changed.
pub fn use_state<S>() -> Memo<S>
where
    S: State + PartialEq + Send + Sync,
{
    let document = use_stateside().document;
    Memo::new(move |_| document.with(|document| document.state::<S>().unwrap_or_default()))
}

/// One field of one state, as a memo: a view that reads it re-renders only
/// when that field changes, not when another field of the state does.
pub fn use_field<S, T>(field: impl Fn(&S) -> T + Send + Sync + 'static) -> Memo<T>
where
    S: State + PartialEq + Send + Sync,
    T: PartialEq + Send + Sync + 'static,
{
    let state = use_state::<S>();
    Memo::new(move |_| state.with(&field))
}
