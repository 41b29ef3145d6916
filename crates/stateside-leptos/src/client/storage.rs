//! Client storage in the browser: the fields the server names as a
//! connection opens (`SessionInfo::storage`), kept in `localStorage`,
//! `sessionStorage` or a cookie.
//!
//! - **Read in.** When a session opens for this page (its load, or a new
//!   session after the server lost one), what the browser holds goes to it
//!   as [`STORED`], ahead of the events that waited, so the page event's
//!   `on_load` hooks already see it. A plain reconnect sends nothing: the
//!   session has the values, and the browser's copy may be the older one.
//! - **Other tabs.** Another tab's change to a `localStorage` key fires a
//!   `storage` event here; the key's value as it is now goes up as
//!   [`STORED`], so this tab's session follows. Cookies fire no event, and
//!   `sessionStorage` is this tab's own.
//! - **Write back.** After each stream message, a field whose text differs
//!   from what the browser holds is written there. Not while a read-in is
//!   unacknowledged: the document does not have the browser's value yet,
//!   and writing the document's would undo it.

use leptos::prelude::*;
use stateside_wire::{
    ClientEvent, Document, Ignored, Place, STORED, StorageBinding, StoredValue, ToastLevel,
    check_length, to_text,
};
use wasm_bindgen::{JsCast, closure::Closure};

use super::{send, with_client};
use crate::Stateside;

/// A year: how long a cookie field is kept after its last change.
const COOKIE_MAX_AGE: u32 = 365 * 24 * 60 * 60;

/// The event that reads into a new session what the browser holds for
/// `bindings`, or `None` if it holds nothing for them.
pub(super) fn read_in(bindings: &[StorageBinding], stateside: Stateside) -> Option<ClientEvent> {
    let held = bindings
        .iter()
        .filter_map(|binding| read(binding.place, &binding.key).map(|text| (binding, Some(text))));
    let values = checked(held, stateside);
    (!values.is_empty())
        .then(|| STORED.call(&values).ok())
        .flatten()
}

/// Whether a read-in still waits for the server: until it is applied,
/// the document does not show the browser's values.
pub(super) fn reading_in() -> bool {
    with_client(|client| client.outbox.holds(STORED.name())).unwrap_or(false)
}

/// Writes to the browser every bound field whose value differs from what
/// it holds.
pub(super) fn write_back() {
    if reading_in() {
        return;
    }
    with_client(|client| {
        client.stateside.document.with_untracked(|document| {
            for binding in &client.bindings {
                let Some(value) = field(document, binding) else {
                    // The state does not exist yet: nothing to say.
                    continue;
                };
                let text = to_text(value);
                if read(binding.place, &binding.key) != text {
                    write(binding.place, &binding.key, text.as_deref());
                }
            }
        });
    });
}

fn field<'a>(document: &'a Document, binding: &StorageBinding) -> Option<&'a serde_json::Value> {
    document.value().get(&binding.state)?.get(&binding.field)
}

/// Sends another tab's changes to `localStorage` keys this app keeps.
pub(super) fn follow_other_tabs() {
    let on_storage = Closure::<dyn FnMut(web_sys::StorageEvent)>::new(other_tab_changed);
    let _ =
        window().add_event_listener_with_callback("storage", on_storage.as_ref().unchecked_ref());
    // Lives as long as the page.
    on_storage.forget();
}

fn other_tab_changed(event: web_sys::StorageEvent) {
    if event.storage_area() != storage(Place::Local) {
        return;
    }
    // No key: the other tab cleared the whole storage.
    let changed = event.key();
    let Some((bindings, stateside)) = with_client(|client| {
        let bindings: Vec<_> = client
            .bindings
            .iter()
            .filter(|binding| binding.place == Place::Local)
            .filter(|binding| changed.as_deref().is_none_or(|key| key == binding.key))
            .cloned()
            .collect();
        (bindings, client.stateside)
    }) else {
        return;
    };
    // What the storage holds now, not what the event says it was set to:
    // of two quick changes, the last one wins in every tab.
    let now = bindings
        .iter()
        .map(|binding| (binding, read(Place::Local, &binding.key)));
    let values = checked(now, stateside);
    if !values.is_empty()
        && let Ok(event) = STORED.call(&values)
    {
        send(event);
    }
}

/// The values to send; one too long to be read is left out, and the user
/// told, so that it does not take the others down with it.
fn checked<'a>(
    held: impl Iterator<Item = (&'a StorageBinding, Option<String>)>,
    stateside: Stateside,
) -> Vec<StoredValue> {
    let mut ignored = Ignored::default();
    let values = held
        .filter_map(|(binding, text)| {
            if let Some(Err(error)) = text.as_deref().map(check_length) {
                ignored.add(binding.place, &binding.key, &error);
                return None;
            }
            Some(StoredValue {
                place: binding.place,
                key: binding.key.clone(),
                text,
            })
        })
        .collect();
    if let Some(notice) = ignored.notice() {
        stateside.toast_with(ToastLevel::Warning, notice, Some(0));
    }
    values
}

/// The text the browser holds for `key`, if any.
fn read(place: Place, key: &str) -> Option<String> {
    match place {
        Place::Local | Place::Session => storage(place)?.get_item(key).ok().flatten(),
        Place::Cookie => cookies()?.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == key).then(|| {
                js_sys::decode_uri_component(value)
                    .map(String::from)
                    .unwrap_or_else(|_| value.to_owned())
            })
        }),
    }
}

/// Keeps `text` under `key`, or removes the entry for `None`.
fn write(place: Place, key: &str, text: Option<&str>) {
    match (place, storage(place)) {
        (Place::Local | Place::Session, Some(storage)) => {
            let _ = match text {
                Some(text) => storage.set_item(key, text),
                None => storage.remove_item(key),
            };
        }
        (Place::Cookie, _) => {
            let secure = window().location().protocol().is_ok_and(|p| p == "https:");
            let (value, max_age) = match text {
                Some(text) => (
                    String::from(js_sys::encode_uri_component(text)),
                    COOKIE_MAX_AGE,
                ),
                None => (String::new(), 0),
            };
            let cookie = format!(
                "{key}={value}; Path=/; Max-Age={max_age}; SameSite=Lax{}",
                if secure { "; Secure" } else { "" }
            );
            if let Some(document) = html_document() {
                let _ = document.set_cookie(&cookie);
            }
        }
        _ => {}
    }
}

fn storage(place: Place) -> Option<web_sys::Storage> {
    match place {
        Place::Local => window().local_storage().ok().flatten(),
        Place::Session => window().session_storage().ok().flatten(),
        Place::Cookie => None,
    }
}

fn cookies() -> Option<String> {
    html_document()?.cookie().ok()
}

fn html_document() -> Option<web_sys::HtmlDocument> {
    document().dyn_into().ok()
}
