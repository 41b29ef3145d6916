//! `/inbox`: a tab that the outside world can write to. Four engine
//! features meet on one page, each doing a job a real app has:
//!
//! - **Page events**: loading the page (not reconnecting to it) runs an
//!   `on_load` hook that gives the session an inbox code and counts loads,
//!   so the page can show that a reload or a trip through the nav bar is a
//!   load and a dropped connection is not.
//! - **Server-raised events**: `POST /api/inbox/{code}` is a webhook. It
//!   finds the session by its code and `Engine::emit`s [`DELIVER`] into
//!   it, so the message appears in the open tab like any other change.
//! - **Paced calls**: the filter box is debounced (one event once typing
//!   pauses, not one per key) and the text-size slider is throttled (a few
//!   events while it moves, always ending on where it stopped). The server
//!   counts what it receives, so the page shows how much the pacing saved.
//! - **A derived state**: the list on screen is `#[computed]` from the
//!   messages and the filter on the server, so the browser never filters.
//!
//! The code is a capability: whoever knows it can post to the tab, as with
//! any webhook URL. The session's token, which the directory maps codes
//! to, never leaves the server.

use std::time::Duration;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_debounced, use_field, use_throttled};
use stateside_wire::{HandlerId, List, State};

/// Messages the inbox keeps: the oldest go first.
pub const MESSAGES_KEPT: usize = 200;
/// The largest message, in bytes, before it is trimmed.
pub const MAX_MESSAGE: usize = 2 * 1024;
/// The longest filter, in bytes.
pub const MAX_FILTER: usize = 200;
/// The slider's range, in CSS pixels.
pub const TEXT_SIZES: std::ops::RangeInclusive<u32> = 12..=32;
pub const DEFAULT_TEXT_SIZE: u32 = 16;

/// How long the filter box waits for typing to pause before it sends.
const FILTER_QUIET: Duration = Duration::from_millis(300);
/// How often, at most, the slider sends while it moves.
const SLIDER_EVERY: Duration = Duration::from_millis(200);

#[derive(Clone, Debug, PartialEq, State)]
#[state(name = "inbox")]
pub struct Inbox {
    /// What a webhook posts to; empty until the page first loads.
    pub code: String,
    /// How many times the page loaded in this session.
    pub loads: u32,
    /// The last [`MESSAGES_KEPT`], oldest first.
    pub messages: List<Message>,
    pub filter: String,
    /// The messages that match the filter, oldest first (the page lists
    /// them newest first).
    #[computed(matching(messages, filter))]
    pub visible: Vec<Message>,
    /// How many filter events the server received.
    pub filter_updates: u32,
    /// The message list's font size, in CSS pixels.
    pub text_size: u32,
    /// How many text-size events the server received.
    pub text_size_updates: u32,
}

impl Default for Inbox {
    fn default() -> Self {
        Self {
            code: String::new(),
            loads: 0,
            messages: List::new(),
            filter: String::new(),
            visible: Vec::new(),
            filter_updates: 0,
            text_size: DEFAULT_TEXT_SIZE,
            text_size_updates: 0,
        }
    }
}

/// One delivered message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// 1 for the inbox's first message; it goes on counting after the
    /// oldest are dropped, so it keys the list.
    pub seq: u64,
    pub text: String,
    /// When the server received it, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
}

/// The messages whose text contains the filter, ignoring case.
fn matching(messages: &List<Message>, filter: &str) -> Vec<Message> {
    let needle = filter.trim().to_lowercase();
    messages
        .iter()
        .filter(|message| needle.is_empty() || message.text.to_lowercase().contains(&needle))
        .cloned()
        .collect()
}

/// Runs on every load of `/inbox` (an `on_load` hook, never called by the
/// page itself).
pub const OPEN_INBOX: HandlerId<()> = HandlerId::new("inbox/open");
/// Appends a message: what the webhook emits.
pub const DELIVER: HandlerId<String> = HandlerId::new("inbox/deliver");
pub const SET_FILTER: HandlerId<String> = HandlerId::new("inbox/set_filter");
pub const SET_TEXT_SIZE: HandlerId<u32> = HandlerId::new("inbox/set_text_size");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: the load hook, the delivery, the paced settings.

    use std::time::{SystemTime, UNIX_EPOCH};

    use anyhow::ensure;
    use stateside::{App, Cx};

    use super::*;

    /// Gives the session an inbox code if it has none (or lost it to
    /// another session), makes sure the directory finds it, and counts the
    /// load.
    async fn open_inbox(mut inbox: Cx<Inbox>, (): ()) -> anyhow::Result<()> {
        let token = inbox.token();
        let code = super::directory::register(&inbox.code, token);
        if code != inbox.code {
            inbox.code = code;
        }
        inbox.loads += 1;
        Ok(())
    }

    /// Appends a message with the server's time. The webhook checked it
    /// already; the checks here are for a tab that calls this itself,
    /// which it can (see the note on `register`).
    async fn deliver(mut inbox: Cx<Inbox>, text: String) -> anyhow::Result<()> {
        let text = text.trim();
        ensure!(
            !text.is_empty() && text.len() <= MAX_MESSAGE,
            "a message is 1 to {MAX_MESSAGE} bytes"
        );
        let message = Message {
            seq: inbox.messages.last().map_or(0, |last| last.seq) + 1,
            text: text.to_owned(),
            at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_millis() as u64),
        };
        inbox.messages.push(message);
        while inbox.messages.len() > MESSAGES_KEPT {
            inbox.messages.pop_front();
        }
        Ok(())
    }

    async fn set_filter(mut inbox: Cx<Inbox>, filter: String) -> anyhow::Result<()> {
        ensure!(
            filter.len() <= MAX_FILTER,
            "a filter is at most {MAX_FILTER} bytes"
        );
        inbox.filter_updates += 1;
        if inbox.filter != filter {
            inbox.filter = filter;
        }
        Ok(())
    }

    async fn set_text_size(mut inbox: Cx<Inbox>, size: u32) -> anyhow::Result<()> {
        inbox.text_size_updates += 1;
        let size = size.clamp(*TEXT_SIZES.start(), *TEXT_SIZES.end());
        if inbox.text_size != size {
            inbox.text_size = size;
        }
        Ok(())
    }

    /// `DELIVER` is internal: only the webhook, through `Engine::emit`, can
    /// run it, never a tab.
    pub fn register(app: App) -> App {
        app.internal(OPEN_INBOX, open_inbox)
            .on_load("/inbox", OPEN_INBOX)
            .internal(DELIVER, deliver)
            .on(SET_FILTER, set_filter)
            .on(SET_TEXT_SIZE, set_text_size)
    }
}

#[cfg(feature = "ssr")]
mod directory {
    //! Which session each inbox code belongs to, for the webhook. In
    //! memory, so it is empty after a restart until each inbox loads again
    //! (the session, restored from a durable store, keeps its code and the
    //! load hook registers it anew).

    use std::{
        collections::{BTreeMap, HashMap},
        sync::{LazyLock, Mutex, PoisonError},
    };

    use rand::seq::IndexedRandom;
    use stateside::SessionToken;

    /// Codes the directory holds; registering one more drops the one
    /// registered (or loaded) longest ago.
    const CAPACITY: usize = 10_000;
    const CODE_LEN: usize = 6;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

    static DIRECTORY: LazyLock<Mutex<Directory>> =
        LazyLock::new(|| Mutex::new(Directory::new(CAPACITY)));

    fn directory() -> std::sync::MutexGuard<'static, Directory> {
        DIRECTORY.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The code `token`'s session goes by from now: `current` if it is free
    /// or already the session's, else a new one.
    pub(super) fn register(current: &str, token: SessionToken) -> String {
        directory().register(current, token)
    }

    pub(super) fn find(code: &str) -> Option<SessionToken> {
        directory().find(code)
    }

    /// Drops `code`, if it still belongs to `token`'s session.
    pub(super) fn forget(code: &str, token: SessionToken) {
        directory().forget(code, token);
    }

    struct Directory {
        capacity: usize,
        /// Each code's session, and when it was last registered.
        codes: HashMap<String, (SessionToken, u64)>,
        /// The codes by when they were last registered, oldest first.
        order: BTreeMap<u64, String>,
        clock: u64,
    }

    impl Directory {
        fn new(capacity: usize) -> Self {
            Self {
                capacity,
                codes: HashMap::new(),
                order: BTreeMap::new(),
                clock: 0,
            }
        }

        fn register(&mut self, current: &str, token: SessionToken) -> String {
            let usable = !current.is_empty()
                && self
                    .codes
                    .get(current)
                    .is_none_or(|&(owner, _)| owner == token);
            let code = if usable {
                current.to_owned()
            } else {
                self.fresh_code()
            };
            if let Some((_, stamp)) = self.codes.remove(&code) {
                self.order.remove(&stamp);
            }
            self.clock += 1;
            self.codes.insert(code.clone(), (token, self.clock));
            self.order.insert(self.clock, code.clone());
            while self.codes.len() > self.capacity {
                let Some((_, oldest)) = self.order.pop_first() else {
                    break;
                };
                self.codes.remove(&oldest);
            }
            code
        }

        fn fresh_code(&self) -> String {
            let mut rng = rand::rng();
            loop {
                let code: String = (0..CODE_LEN)
                    .filter_map(|_| ALPHABET.choose(&mut rng).map(|&byte| char::from(byte)))
                    .collect();
                if !self.codes.contains_key(&code) {
                    return code;
                }
            }
        }

        fn find(&self, code: &str) -> Option<SessionToken> {
            self.codes.get(code).map(|&(token, _)| token)
        }

        fn forget(&mut self, code: &str, token: SessionToken) {
            if let Some(&(owner, stamp)) = self.codes.get(code)
                && owner == token
            {
                self.codes.remove(code);
                self.order.remove(&stamp);
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn codes_are_six_lowercase_letters_or_digits_and_stay_with_their_session() {
            let mut directory = Directory::new(10);
            let (a, b) = (SessionToken::random(), SessionToken::random());
            let code = directory.register("", a);
            assert_eq!(code.len(), CODE_LEN);
            assert!(code.bytes().all(|byte| ALPHABET.contains(&byte)));
            assert_eq!(directory.register(&code, a), code, "a reload keeps it");
            assert_ne!(directory.register(&code, b), code, "never another's");
            assert_eq!(directory.find(&code), Some(a));
            directory.forget(&code, b);
            assert_eq!(directory.find(&code), Some(a), "only by its own session");
            directory.forget(&code, a);
            assert_eq!(directory.find(&code), None);
            assert_eq!(directory.register(&code, a), code, "back after a restart");
        }

        #[test]
        fn a_full_directory_drops_the_code_registered_longest_ago() {
            let mut directory = Directory::new(3);
            let tokens: Vec<_> = (0..4).map(|_| SessionToken::random()).collect();
            let codes: Vec<_> = tokens[..3]
                .iter()
                .map(|&token| directory.register("", token))
                .collect();
            // Loading the first inbox again makes it the newest.
            directory.register(&codes[0], tokens[0]);
            directory.register("", tokens[3]);
            assert_eq!(directory.codes.len(), 3);
            assert_eq!(directory.order.len(), 3);
            assert_eq!(directory.find(&codes[0]), Some(tokens[0]));
            assert_eq!(directory.find(&codes[1]), None, "the oldest went");
            assert_eq!(directory.find(&codes[2]), Some(tokens[2]));
        }
    }
}

#[cfg(feature = "ssr")]
pub mod webhook {
    //! `POST /api/inbox/{code}`, without the HTTP framework: the server's
    //! route hands the code and body here and answers with the [`Reply`].

    use stateside::{EmitError, Engine, Error};

    use super::{DELIVER, MAX_MESSAGE, directory};

    /// What to answer: a status code and a line of text.
    #[derive(Debug, PartialEq)]
    pub struct Reply {
        pub status: u16,
        pub body: String,
    }

    impl Reply {
        fn new(status: u16, body: impl Into<String>) -> Self {
            let mut body = body.into();
            body.push('\n');
            Self { status, body }
        }
    }

    /// Delivers `body`, the message, to the inbox with `code`: 202 once the
    /// session has taken it; 413 over [`MAX_MESSAGE`] bytes; 400 if it is
    /// empty once trimmed or not UTF-8; 404 for a code no live session
    /// has; 503 if the session cannot take it now.
    pub async fn post(engine: &Engine, code: &str, body: &[u8]) -> Reply {
        if body.len() > MAX_MESSAGE {
            return Reply::new(413, format!("a message is at most {MAX_MESSAGE} bytes"));
        }
        let Ok(text) = std::str::from_utf8(body) else {
            return Reply::new(400, "a message is UTF-8 text");
        };
        let text = text.trim();
        if text.is_empty() {
            return Reply::new(400, "a message needs some text");
        }
        let not_found = || Reply::new(404, "no inbox with that code");
        let Some(token) = directory::find(code) else {
            return not_found();
        };
        match engine.emit(&token, DELIVER, &text.to_owned()).await {
            Ok(()) => Reply::new(202, "accepted: the message is on its way to the tab"),
            Err(EmitError::NoSession | EmitError::Refused(Error::UnknownSession)) => {
                directory::forget(code, token);
                not_found()
            }
            Err(EmitError::Refused(error @ (Error::Busy { .. } | Error::ShuttingDown))) => {
                Reply::new(503, error.to_string())
            }
            Err(EmitError::Store(error)) => {
                // The details stay in the server's log.
                leptos::logging::error!("inbox webhook: {error}");
                Reply::new(503, "the session store could not be read; try again")
            }
            Err(EmitError::Refused(error)) => Reply::new(500, error.to_string()),
        }
    }
}

/// `12:34:56 UTC` for a time in milliseconds since the Unix epoch.
fn clock(at_unix_ms: u64) -> String {
    let seconds = at_unix_ms / 1000;
    let (hours, minutes, seconds) = (seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    format!("{hours:02}:{minutes:02}:{seconds:02} UTC")
}

/// An input's value: the user's own until the server has caught up with
/// it, then the server's. A paced input sends later than it changes, so
/// the server's echo of an older value must not overwrite newer typing.
fn draft<T>(server: Memo<T>) -> (RwSignal<Option<T>>, Signal<T>)
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let draft = RwSignal::new(None::<T>);
    Effect::new(move |_| {
        let server = server.get();
        if draft.with_untracked(|draft| draft.as_ref() == Some(&server)) {
            draft.set(None);
        }
    });
    let shown = Signal::derive(move || draft.get().unwrap_or_else(|| server.get()));
    (draft, shown)
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let code = use_field(|inbox: &Inbox| inbox.code.clone());
    let loads = use_field(|inbox: &Inbox| inbox.loads);
    let loaded = move || match loads.get() {
        0 => "Opening your inbox…".to_owned(),
        1 => "Loaded 1 time.".to_owned(),
        n => format!("Loaded {n} times."),
    };
    // Where this page was served from, for the curl line; the browser
    // knows it, the server-side render shows the default address.
    let origin = RwSignal::new("http://127.0.0.1:3000".to_owned());
    Effect::new(move |_| {
        if let Ok(here) = window().location().origin() {
            origin.set(here);
        }
    });
    let shown_code = move || {
        let code = code.get();
        if code.is_empty() {
            "…".to_owned()
        } else {
            code
        }
    };
    let curl = move || {
        format!(
            "curl -X POST {}/api/inbox/{} -d 'hello'",
            origin.get(),
            shown_code()
        )
    };

    view! {
        <section class="card">
            <h1>"Inbox"</h1>
            <p class="lead">
                "Anything can post to this tab: a webhook finds your session by its inbox code and \
                 the server raises the event itself. Reload, or leave through the nav bar and come \
                 back, and the page loads again; lose the connection, and it only reconnects."
            </p>
            <p class="live">{loaded}</p>
            <p>"Your inbox code: " <code class="inbox-code live">{shown_code}</code></p>
            <p>"Post to it from a terminal:"</p>
            <pre class="inbox-curl live"><code>{curl}</code></pre>
        </section>
        <Messages />
    }
}

/// The filter, the text size and the list.
#[component]
fn Messages() -> impl IntoView {
    let set_filter = use_debounced(SET_FILTER, FILTER_QUIET);
    let set_text_size = use_throttled(SET_TEXT_SIZE, SLIDER_EVERY);
    let (filter_draft, filter) = draft(use_field(|inbox: &Inbox| inbox.filter.clone()));
    let text_size = use_field(|inbox: &Inbox| inbox.text_size);
    let (size_draft, slider) = draft(text_size);
    let filter_updates = use_field(|inbox: &Inbox| inbox.filter_updates);
    let size_updates = use_field(|inbox: &Inbox| inbox.text_size_updates);
    let visible = use_field(|inbox: &Inbox| inbox.visible.clone());
    let total = use_field(|inbox: &Inbox| inbox.messages.len());

    let empty = move || {
        let shown = visible.with(Vec::is_empty);
        match (total.get(), shown) {
            (0, _) => Some("No messages yet: post one with the command above.".to_owned()),
            (_, true) => Some("No message matches the filter.".to_owned()),
            _ => None,
        }
    };

    view! {
        <section class="card">
            <h2>"Messages"</h2>
            <div class="inbox-controls">
                <div class="inbox-control">
                    <label for="inbox-filter">"Filter messages"</label>
                    <input
                        id="inbox-filter"
                        class="input"
                        type="search"
                        maxlength=MAX_FILTER
                        autocomplete="off"
                        prop:value=filter
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            filter_draft.set(Some(value.clone()));
                            set_filter(value);
                        }
                    />
                    <span class="muted live">
                        {move || format!("Filter updates received: {}", filter_updates.get())}
                    </span>
                </div>
                <div class="inbox-control">
                    <label for="inbox-size">"Text size"</label>
                    <input
                        id="inbox-size"
                        type="range"
                        min=*TEXT_SIZES.start()
                        max=*TEXT_SIZES.end()
                        prop:value=move || slider.get().to_string()
                        on:input=move |ev| {
                            if let Ok(size) = event_target_value(&ev).parse::<u32>() {
                                size_draft.set(Some(size));
                                set_text_size(size);
                            }
                        }
                    />
                    <span class="muted live">
                        {move || format!("Text size updates received: {}", size_updates.get())}
                    </span>
                </div>
            </div>
            <p class="muted live">{move || format!("Messages shown at {} px.", text_size.get())}</p>
            {move || empty().map(|text| view! { <p class="muted live">{text}</p> })}
            <ul
                class="inbox-messages live"
                aria-label="Messages"
                style:font-size=move || format!("{}px", text_size.get())
            >
                {move || {
                    visible
                        .with(|visible| {
                            visible
                                .iter()
                                .rev()
                                .map(|message| {
                                    view! {
                                        <li>
                                            <time class="muted">{clock(message.at_unix_ms)}</time>
                                            " "
                                            <span>{message.text.clone()}</span>
                                        </li>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </ul>
        </section>
    }
}
