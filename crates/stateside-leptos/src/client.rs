//! The browser side of a session: numbering and sending events, following
//! the patch stream, and recovering from every kind of drop.
//!
//! Events wait in `pending` until the stream acknowledges them, so nothing
//! clicked while offline or during a server restart is lost: it is sent (or
//! resent, harmlessly, since the server drops repeated seqs) once the
//! connection is back. One batch is in flight at a time, which keeps events
//! in order on the wire and batches them under load.
//!
//! Reconnecting is ours, not the browser's: on any stream error the
//! `EventSource` is closed and reopened after a backoff with jitter, through
//! `open_session`, which also tells us whether the server still knows the
//! session (after a restart with a forgetful store it does not).

use std::{cell::RefCell, collections::VecDeque, time::Duration};

use leptos::{prelude::*, task::spawn_local};
use stateside_wire::{ClientEvent, Receipt, STREAM_PATH, ServerMessage};
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{EventSource, MessageEvent};

use crate::{Stateside, Status, actions::perform, api};

const TOKEN_KEY: &str = "stateside.token";
/// A batch stays well under the server's default body limit.
const MAX_BATCH_BYTES: usize = stateside_wire::DEFAULT_MAX_PAYLOAD * 3 / 4;

struct Client {
    stateside: Stateside,
    token: Option<String>,
    next_seq: u64,
    /// Unacknowledged events in seq order; seq 0 means not numbered yet
    /// (clicked before the session was open).
    pending: VecDeque<ClientEvent>,
    /// The server has confirmed receiving every event up to here.
    delivered: u64,
    sending: bool,
    /// A reconnect is scheduled or under way.
    reconnecting: bool,
    source: Option<Source>,
    failures: u32,
}

/// An open `EventSource` and the callbacks it needs alive.
struct Source {
    events: EventSource,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Source {
    fn drop(&mut self) {
        self.events.close();
    }
}

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
}

fn with_client<R>(f: impl FnOnce(&mut Client) -> R) -> Option<R> {
    CLIENT.with(|client| client.borrow_mut().as_mut().map(f))
}

pub(crate) fn start(stateside: Stateside) {
    let fresh = CLIENT.with(|client| {
        let mut client = client.borrow_mut();
        let fresh = client.is_none();
        client.get_or_insert_with(|| Client {
            stateside,
            token: None,
            next_seq: 1,
            pending: VecDeque::new(),
            delivered: 0,
            sending: false,
            reconnecting: true,
            source: None,
            failures: 0,
        });
        fresh
    });
    if fresh {
        reconnect_when_online();
        spawn_local(open());
    }
}

pub(crate) fn send(mut event: ClientEvent) {
    with_client(|client| {
        event.seq = if client.token.is_some() {
            client.next_seq += 1;
            client.next_seq - 1
        } else {
            0
        };
        client.pending.push_back(event);
        client.stateside.unacked.set(client.pending.len());
    });
    flush();
}

/// Opens (or resumes) the session, then follows its stream from the version
/// we hold.
async fn open() {
    let stored = storage().and_then(|storage| storage.get_item(TOKEN_KEY).ok().flatten());
    let info = loop {
        match api::open_session(stored.clone()).await {
            Ok(info) => break info,
            Err(_) => retry_later().await,
        }
    };
    if let Some(storage) = storage() {
        let _ = storage.set_item(TOKEN_KEY, &info.token);
    }
    with_client(|client| {
        client.reconnecting = false;
        let since = if client.token.as_deref() == Some(info.token.as_str()) {
            // Resend whatever the server does not have: after a crash it
            // may have fewer events than it had received.
            client.delivered = info.next_seq - 1;
            Some(client.stateside.document.with_untracked(|d| d.version()))
        } else {
            // A new session (first visit, or the old one is gone): whatever
            // is pending was never applied there, so number it afresh.
            client.next_seq = info.next_seq;
            for event in &mut client.pending {
                event.seq = client.next_seq;
                client.next_seq += 1;
            }
            client.delivered = info.next_seq - 1;
            None
        };
        client.token = Some(info.token.clone());
        client.source = connect(&info.token, since);
    });
    flush();
}

fn connect(token: &str, since: Option<u64>) -> Option<Source> {
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
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|_| lost_stream());
    events.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    events.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Some(Source {
        events,
        _on_message: on_message,
        _on_error: on_error,
    })
}

fn receive(text: &str) {
    let Some(stateside) = with_client(|client| client.stateside) else {
        return;
    };
    let message: ServerMessage = match serde_json::from_str(text) {
        Ok(message) => message,
        Err(error) => return stateside.toast(format!("unreadable update: {error}")),
    };
    let mut applied = Ok(());
    stateside
        .document
        .update(|document| applied = document.apply(&message));
    if applied.is_err() {
        // A missed version or a patch that does not fit: start over from a
        // snapshot rather than guess.
        stateside.document.set(Default::default());
        lost_stream();
        return;
    }
    let acked = stateside
        .document
        .with_untracked(|document| document.acked());
    with_client(|client| {
        client.failures = 0;
        client
            .pending
            .retain(|event| event.seq == 0 || event.seq > acked);
        client.stateside.unacked.set(client.pending.len());
    });
    stateside.mark_live();
    if let ServerMessage::Update(update) = message {
        if let Some(missing) = update.missing {
            with_client(|client| client.delivered = client.delivered.min(missing - 1));
            flush();
        }
        if let Some(notice) = update.error {
            stateside.toast(format!("{} failed: {}", notice.handler, notice.message));
        }
        for action in update.actions {
            perform(stateside, action);
        }
    }
}

/// Drops the stream and reconnects after a backoff (once, however many
/// errors arrive meanwhile).
fn lost_stream() {
    let first = with_client(|client| {
        client.stateside.status.set(Status::Reconnecting);
        client.source = None;
        !std::mem::replace(&mut client.reconnecting, true)
    });
    if first == Some(true) {
        spawn_local(async {
            retry_later().await;
            open().await;
        });
    }
}

/// When the browser says it is back online, reconnect at once instead of
/// waiting out the backoff.
fn reconnect_when_online() {
    let on_online = Closure::<dyn FnMut()>::new(|| {
        with_client(|client| client.failures = 0);
        flush();
    });
    let _ = window().add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    // Lives as long as the page.
    on_online.forget();
}

/// Sends the next batch of undelivered events, unless one is in flight.
fn flush() {
    let batch = with_client(|client| {
        let token = client.token.clone()?;
        if client.sending {
            return None;
        }
        let delivered = client.delivered;
        let mut bytes = 0;
        let batch: Vec<_> = client
            .pending
            .iter()
            .filter(|event| event.seq > delivered)
            .take_while(|event| {
                bytes += event.args.to_string().len() + event.handler.len() + 32;
                bytes <= MAX_BATCH_BYTES
            })
            .cloned()
            .collect();
        if batch.is_empty() {
            return None;
        }
        client.sending = true;
        Some((token, batch))
    })
    .flatten();
    let Some((token, batch)) = batch else {
        return;
    };
    spawn_local(async move {
        let result = api::send_events(token, batch.clone()).await;
        with_client(|client| client.sending = false);
        match result {
            Ok(receipts) => {
                if !delivered(&batch, receipts) {
                    retry_later().await;
                }
                flush();
            }
            Err(error) if error.session_is_gone() => lost_stream(),
            Err(_) => {
                with_client(|client| client.stateside.status.set(Status::Reconnecting));
                retry_later().await;
                flush();
            }
        }
    });
}

/// Records receipts; false if the server was busy and the rest must wait.
fn delivered(batch: &[ClientEvent], receipts: Vec<Receipt>) -> bool {
    let mut refused = Vec::new();
    let all_taken = with_client(|client| {
        for (event, receipt) in batch.iter().zip(&receipts) {
            match receipt {
                Receipt::Busy => return false,
                Receipt::Refused(refusal) => {
                    client.pending.retain(|pending| pending.seq != event.seq);
                    client.stateside.unacked.set(client.pending.len());
                    refused.push(refusal.message.clone());
                }
                Receipt::Accepted | Receipt::Held | Receipt::Duplicate => {}
            }
            client.delivered = client.delivered.max(event.seq);
        }
        receipts.len() == batch.len()
    })
    .unwrap_or(false);
    if let Some(stateside) = with_client(|client| client.stateside) {
        for reason in refused {
            stateside.toast(reason);
        }
    }
    all_taken
}

/// Exponential backoff with jitter (200 ms doubling to 10 s, times 0.5–1),
/// so a restarted server is not hit by every tab at the same instant.
async fn retry_later() {
    let failures = with_client(|client| {
        client.failures = (client.failures + 1).min(8);
        client.failures
    })
    .unwrap_or(1);
    let ceiling = (100.0 * f64::from(1u32 << failures.min(7))).min(10_000.0);
    let millis = ceiling * (0.5 + js_sys::Math::random() / 2.0);
    gloo_timers::future::sleep(Duration::from_millis(millis as u64)).await;
}

fn storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}
