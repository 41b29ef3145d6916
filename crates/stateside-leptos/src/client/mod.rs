//! The browser side of a session: one connection per tab that carries the
//! tab's events up and the session's stream down, and recovers from every
//! kind of drop.
//!
//! # The connection
//!
//! One task ([`drive`]) runs the tab's connections one after another: it
//! opens one, follows it until it ends, waits out a backoff with jitter (cut
//! short when the browser comes back online) and opens the next.
//!
//! - The WebSocket ([`socket`]) comes first: it costs one connection per tab
//!   where POST + SSE costs a held stream plus a request per batch, which
//!   six tabs on one host already exhaust.
//! - When the socket fails before the server has named the session, the
//!   page asks over plain HTTP. If that works, something between browser
//!   and server refuses the socket (a proxy that blocks upgrades), and the
//!   page falls back to POST + SSE ([`fallback`]) for the rest of its life.
//!   If HTTP fails too, the server is down, which is no reason to give up
//!   the socket. A socket that has already worked on this page gets a
//!   second try first, since its failure is more likely a server restart.
//! - Nothing heard for three keepalive periods ends a socket (the server
//!   pings every quiet period), and so does the browser going offline: a
//!   socket could otherwise sit open through an outage it cannot see. No
//!   connection is tried while the browser is offline.
//!
//! # Sessions
//!
//! Every connection starts by resuming the session the tab holds (its token
//! lives in `sessionStorage`, so a reload keeps it). If the server answers
//! with another token, it has lost that session (a restart on a store that
//! forgets, or an expiry). The tab then says so, in a toast and on the
//! banner, and sends its pending events to the new session renumbered from
//! that session's first seq: they were never applied anywhere, the user has
//! been told where they went, and dropping clicks would be worse. A seq of
//! the old session is never sent to the new one.
//!
//! # Events and the stream
//!
//! Events wait in the [`outbox`] until the stream acknowledges them; its
//! doc says what each receipt does. The stream is applied the same way
//! whichever transport carries it ([`apply`]). The fields the app keeps in
//! the browser are read into each new session and written back as they
//! change ([`storage`]).

mod apply;
pub(crate) mod exchange;
mod fallback;
mod outbox;
mod socket;
mod storage;

use std::{cell::RefCell, pin::pin, time::Duration};

use futures::channel::oneshot;
use leptos::{prelude::*, task::spawn_local};
use stateside_wire::{ClientEvent, Document, Receipt, SessionInfo, StorageBinding, ToastLevel};
use wasm_bindgen::{JsCast, closure::Closure};

use crate::{Stateside, Status, Transport, api};
use outbox::{Outbox, Verdict};

const TOKEN_KEY: &str = "stateside.token";

/// The page's client: one per page, shared by the transports' callbacks.
struct Client {
    stateside: Stateside,
    outbox: Outbox,
    /// The session this page follows, once one is open: the document and
    /// the outbox's seqs belong to it.
    token: Option<String>,
    /// The connection being opened or open; `None` between connections.
    connection: Option<Connection>,
    /// How many connections this page has opened; names the next one.
    connections: u64,
    /// A socket has opened a session on this page.
    socket_has_worked: bool,
    /// Failures in a row, for the backoff; a stream message resets it.
    failures: u32,
    /// Sends wait out a backoff because the server was busy.
    holding_sends: bool,
    /// Wakes the connection task early when the browser is back online.
    wake: Option<oneshot::Sender<()>>,
    /// The fields the app keeps in the browser, as the server last named
    /// them.
    bindings: Vec<StorageBinding>,
}

/// A connection, from its first attempt to its end. Dropping it ends it.
struct Connection {
    id: u64,
    /// Dropped with the connection, which tells its transport to stop.
    _alive: oneshot::Sender<()>,
    /// How events go up, once the connection has opened the session.
    link: Option<Link>,
}

/// The sending half of an open connection.
enum Link {
    Socket(socket::Link),
    Fallback(fallback::Link),
}

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// The socket failed before the server named the session: maybe the
    /// socket itself is refused on this network.
    Refused,
    /// Anything else: it worked and dropped, the server was down or
    /// answered with an error, or the page ended it.
    Ended,
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
            outbox: Outbox::default(),
            token: None,
            connection: None,
            connections: 0,
            socket_has_worked: false,
            failures: 0,
            holding_sends: false,
            wake: None,
            bindings: Vec::new(),
        });
        fresh
    });
    if fresh {
        follow_the_network();
        storage::follow_other_tabs();
        spawn_local(drive());
    }
}

/// Queues an event and sends it if the connection is open.
pub(crate) fn send(event: ClientEvent) {
    with_client(|client| {
        client.outbox.push(event);
        client.stateside.unacked.set(client.outbox.len());
    });
    flush();
}

/// The session this page follows, once a connection has opened it: what
/// an upload names.
pub(crate) fn token() -> Option<String> {
    with_client(|client| client.token.clone()).flatten()
}

/// Runs the page's connections, one after another, for the page's life.
async fn drive() {
    // Socket failures in a row that plain HTTP got through.
    let mut refusals = 0;
    // The session the HTTP check opened, for the fallback to use.
    let mut opened = None;
    loop {
        until_online().await;
        let (connection, ended) = open_connection();
        let transport = with_client(|client| client.stateside.transport.get_untracked());
        let ending = match transport {
            Some(Transport::WebSocket) => socket::run(connection, ended).await,
            Some(Transport::Sse) => fallback::run(connection, ended, opened.take()).await,
            None => return,
        };
        disconnect();
        if ending == Ending::Refused {
            if let Ok(info) = api::open_session(stored_token()).await {
                refusals += 1;
                let worked = with_client(|client| client.socket_has_worked).unwrap_or(false);
                if refusals >= if worked { 2 } else { 1 } {
                    with_client(|client| client.stateside.transport.set(Transport::Sse));
                    opened = Some(info);
                    continue;
                }
            }
        } else {
            refusals = 0;
        }
        sleep_unless_online(next_delay()).await;
    }
}

/// Starts a connection: its id, and what resolves when the page ends it.
fn open_connection() -> (u64, oneshot::Receiver<()>) {
    let (alive, ended) = oneshot::channel();
    let id = with_client(|client| {
        client.connections += 1;
        client.connection = Some(Connection {
            id: client.connections,
            _alive: alive,
            link: None,
        });
        client.connections
    })
    .unwrap_or_default();
    (id, ended)
}

/// Ends the current connection and opens the next one as soon as it may,
/// so that its request carries what the browser gained meanwhile (a cookie
/// just set).
fn reconnect() {
    with_client(|client| client.failures = 0);
    disconnect();
}

/// Ends the current connection; the connection task opens the next one.
fn disconnect() {
    with_client(|client| {
        client.connection = None;
        if client.stateside.status.get_untracked() != Status::Connecting {
            client.stateside.status.set(Status::Reconnecting);
        }
    });
}

/// The document version to resume the stream from, if this page already
/// follows the session `token` names; otherwise the stream starts from a
/// snapshot.
fn resume_point(token: Option<&str>) -> Option<u64> {
    with_client(|client| {
        let version = client.stateside.document.with_untracked(Document::version);
        (token.is_some() && client.token.as_deref() == token && version > 0).then_some(version)
    })
    .flatten()
}

/// The connection `connection` has opened the session `info`, having asked
/// to resume `asked`; from now on events go up through `link`.
fn session_opened(connection: u64, info: &SessionInfo, asked: Option<&str>, link: Link) {
    store_token(&info.token);
    let opened = with_client(|client| {
        let current = client.connection.as_mut().filter(|c| c.id == connection)?;
        if matches!(link, Link::Socket(_)) {
            client.socket_has_worked = true;
        }
        current.link = Some(link);
        let stateside = client.stateside;
        client.bindings.clone_from(&info.storage);
        let follows = client.token.as_deref() == Some(info.token.as_str());
        let carried = if follows {
            client.outbox.resume(info.next_seq);
            stateside.status.set(Status::Live);
            0
        } else {
            // The document belongs to another session: the new one's
            // stream starts from its own snapshot.
            stateside.document.set(Document::default());
            let read_in = storage::read_in(&client.bindings, stateside);
            let sent_first = usize::from(read_in.is_some());
            if let Some(event) = read_in {
                client.outbox.push_first(event);
            }
            client.outbox.renumber(info.next_seq) - sent_first
        };
        client.token = Some(info.token.clone());
        stateside.unacked.set(client.outbox.len());
        let lost = asked.is_some_and(|asked| asked != info.token);
        Some((stateside, lost.then_some(carried)))
    })
    .flatten();
    if let Some((stateside, Some(carried))) = opened {
        announce_new_session(stateside, carried);
    }
    flush();
}

/// Tells the user that the server lost the tab's session, and where the
/// clicks it had not applied went.
fn announce_new_session(stateside: Stateside, carried: usize) {
    let lost = "The server lost this tab's session (it restarted, or the session expired); \
                a new one was started.";
    let text = match carried {
        0 => lost.to_owned(),
        1 => format!("{lost} 1 pending action was sent to it."),
        n => format!("{lost} {n} pending actions were sent to it."),
    };
    stateside.session_renewed.set(true);
    stateside.toast_with(ToastLevel::Warning, text, None);
}

/// Sends what the outbox has not sent, if a connection is open and the
/// server is not being given a rest.
fn flush() {
    with_client(|client| {
        if client.holding_sends {
            return;
        }
        let Some(Connection {
            id,
            link: Some(link),
            ..
        }) = &mut client.connection
        else {
            return;
        };
        match link {
            Link::Socket(link) => link.send_all(&mut client.outbox),
            Link::Fallback(link) => link.send_next(&mut client.outbox, *id),
        }
    });
}

/// Acts on the server's answer about one event.
fn receipt(seq: u64, receipt: Receipt) {
    let Some((verdict, stateside)) = with_client(|client| {
        let verdict = client.outbox.receipt(seq, receipt);
        client.stateside.unacked.set(client.outbox.len());
        (verdict, client.stateside)
    }) else {
        return;
    };
    match verdict {
        Verdict::Taken => {}
        Verdict::Dropped(reason) => stateside.error(reason),
        Verdict::RetryLater => hold_sends(),
        Verdict::SessionGone => disconnect(),
    }
}

/// Holds every send for a backoff, then sends what is pending again.
fn hold_sends() {
    let first = with_client(|client| !std::mem::replace(&mut client.holding_sends, true));
    if first == Some(true) {
        spawn_local(async {
            gloo_timers::future::sleep(next_delay()).await;
            with_client(|client| client.holding_sends = false);
            flush();
        });
    }
}

/// The next backoff: exponential with jitter (200 ms doubling to 10 s,
/// times 0.5–1), so a restarted server is not hit by every tab at once.
fn next_delay() -> Duration {
    let failures = with_client(|client| {
        client.failures = (client.failures + 1).min(8);
        client.failures
    })
    .unwrap_or(1);
    let ceiling = (100.0 * f64::from(1u32 << failures.min(7))).min(10_000.0);
    Duration::from_millis((ceiling * (0.5 + js_sys::Math::random() / 2.0)) as u64)
}

/// Sleeps for `delay`, or less if the browser comes back online meanwhile.
async fn sleep_unless_online(delay: Duration) {
    let online = pin!(wake_on_online());
    let slept = pin!(gloo_timers::future::sleep(delay));
    futures::future::select(online, slept).await;
}

/// Waits while the browser says it is offline.
async fn until_online() {
    while !window().navigator().on_line() {
        wake_on_online().await;
    }
}

/// Resolves when the browser next comes back online.
async fn wake_on_online() {
    let (wake, woken) = oneshot::channel();
    with_client(|client| client.wake = Some(wake));
    let _ = woken.await;
}

/// Going offline ends the connection at once; coming back online starts
/// the next one at once instead of waiting out the backoff.
fn follow_the_network() {
    let on_online = Closure::<dyn FnMut()>::new(|| {
        if let Some(Some(wake)) = with_client(|client| {
            client.failures = 0;
            client.wake.take()
        }) {
            let _ = wake.send(());
        }
    });
    let on_offline = Closure::<dyn FnMut()>::new(disconnect);
    for (event, callback) in [("online", on_online), ("offline", on_offline)] {
        let _ = window().add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
        // Lives as long as the page.
        callback.forget();
    }
}

/// The session token this tab holds, kept across reloads.
fn stored_token() -> Option<String> {
    storage().and_then(|storage| storage.get_item(TOKEN_KEY).ok().flatten())
}

fn store_token(token: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(TOKEN_KEY, token);
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}
