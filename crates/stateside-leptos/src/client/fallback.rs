//! The fallback transport, for networks that refuse WebSocket upgrades:
//! events go up as POST requests ([`api::send_events`]) and the stream
//! comes down an `EventSource`.
//!
//! One batch is in flight at a time: two requests may overtake each other,
//! and the server's receipts for one batch decide what the next carries.
//! None is sent before the stream has opened: until the server follows the
//! session for this tab, what an event sends besides its changes (a toast,
//! a redirect) would reach no one, and the stream's snapshot has only the
//! changes.
//! Reconnecting is the connection task's, not the browser's: on any stream
//! error the `EventSource` is closed and the connection ends.

use futures::channel::oneshot;
use leptos::task::spawn_local;
use stateside_wire::{ClientEvent, STREAM_PATH, ServerMessage, SessionInfo};
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{EventSource, MessageEvent};

use super::{
    Connection, Ending, Link as AnyLink, Outbox, apply::apply, disconnect, flush, hold_sends,
    resume_point, stored_token, with_client,
};
use crate::api;

/// How events go up while the stream comes down an `EventSource`.
pub(super) struct Link {
    token: String,
    /// A batch is in flight.
    sending: bool,
    /// The stream has opened: the server follows the session for this tab.
    following: bool,
    _source: Source,
}

impl Link {
    /// Sends the next batch of unsent events, unless one is in flight.
    pub(super) fn send_next(&mut self, outbox: &mut Outbox, connection: u64) {
        if self.sending || !self.following {
            return;
        }
        let batch = outbox.next_batch();
        if batch.is_empty() {
            return;
        }
        self.sending = true;
        spawn_local(post(self.token.clone(), batch, connection));
    }
}

/// Opens the session (or takes the one the socket check opened) and
/// follows its stream until the stream fails or the page ends it.
pub(super) async fn run(
    connection: u64,
    ended: oneshot::Receiver<()>,
    opened: Option<SessionInfo>,
) -> Ending {
    let asked = stored_token();
    let info = match opened {
        Some(info) => info,
        None => match api::open_session(asked.clone()).await {
            Ok(info) => info,
            Err(_) => return Ending::Ended,
        },
    };
    let since = resume_point(Some(&info.token));
    let Some(source) = Source::open(&info.token, since, connection) else {
        return Ending::Ended;
    };
    let link = AnyLink::Fallback(Link {
        token: info.token.clone(),
        sending: false,
        following: false,
        _source: source,
    });
    super::session_opened(connection, &info, asked.as_deref(), link);
    let _ = ended.await;
    Ending::Ended
}

/// Posts one batch and acts on the receipts.
async fn post(token: String, batch: Vec<ClientEvent>, connection: u64) {
    let result = api::send_events(token, batch.clone()).await;
    let current = with_client(|client| match &mut client.connection {
        Some(Connection {
            id,
            link: Some(AnyLink::Fallback(link)),
            ..
        }) if *id == connection => {
            link.sending = false;
            true
        }
        _ => false,
    });
    // An answer for a connection that has ended is stale: its seqs may be
    // another session's now. The next connection resends what is missing.
    if current != Some(true) {
        return;
    }
    match result {
        Ok(receipts) => {
            let answered = receipts.len();
            for (event, receipt) in batch.iter().zip(receipts) {
                super::receipt(event.seq, receipt);
            }
            // The server stops at the first busy event; the rest wait too.
            if let Some(unanswered) = batch.get(answered) {
                with_client(|client| client.outbox.resend_from(unanswered.seq));
            }
        }
        Err(error) if error.session_is_gone() => disconnect(),
        Err(_) => {
            with_client(|client| client.outbox.resend_from(batch[0].seq));
            hold_sends();
        }
    }
    flush();
}

/// The stream of `connection` has opened: its events can go up.
fn stream_opened(connection: u64) {
    with_client(|client| {
        if let Some(Connection {
            id,
            link: Some(AnyLink::Fallback(link)),
            ..
        }) = &mut client.connection
            && *id == connection
        {
            link.following = true;
        }
    });
    flush();
}

/// An open `EventSource` and the callbacks it needs alive.
struct Source {
    events: EventSource,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Source {
    fn open(token: &str, since: Option<u64>, connection: u64) -> Option<Self> {
        let url = match since {
            Some(version) => format!("{STREAM_PATH}?token={token}&since={version}"),
            None => format!("{STREAM_PATH}?token={token}"),
        };
        let events = EventSource::new(&url).ok()?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|message: MessageEvent| {
            if let Some(text) = message.data().as_string() {
                receive(&text);
            }
        });
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| stream_opened(connection));
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|_| disconnect());
        events.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        events.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        events.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(Self {
            events,
            _on_open: on_open,
            _on_message: on_message,
            _on_error: on_error,
        })
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        self.events.close();
    }
}

fn receive(text: &str) {
    match serde_json::from_str::<ServerMessage>(text) {
        Ok(message) => {
            if apply(message).is_err() {
                disconnect();
            }
        }
        Err(error) => {
            if let Some(stateside) = with_client(|client| client.stateside) {
                stateside.error(format!("unreadable update: {error}"));
            }
        }
    }
}
