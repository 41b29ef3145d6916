//! Client storage on the server: which states keep fields in the browser
//! (`#[client(..)]`, see `stateside_wire`'s `storage`), and the built-in
//! handler of [`STORED`] that reads what a tab's browser holds into its
//! session.
//!
//! The app learns a state's client fields when a handler of that state is
//! registered, so there is no second list to keep. What a browser holds is
//! client input: each value is read on its own, one that does not read
//! leaves its field as it was, and the tab is told which were ignored and
//! why. A whole event of them is just as untrusted as any other: it sets
//! only the fields the app declared, to values of their type.

use std::sync::{Arc, Mutex};

use stateside_wire::{
    Action, ClientField, Ignored, Place, STORED, StorageBinding, StoredTextError, StoredValue,
    ToastLevel,
};

use crate::{
    app::App,
    cx::Cx,
    mutex::lock,
    page::Page,
    state_map::{SessionState, StateMap},
};

/// Sets one client field of a state from its text.
type SetField = fn(&mut StateMap, &'static str, Option<&str>) -> Result<(), StoredTextError>;

struct Entry {
    state: &'static str,
    field: ClientField,
    set: SetField,
}

/// The app's client fields, shared by the app and the built-in handler.
#[derive(Clone, Default)]
pub(crate) struct ClientFields(Arc<Mutex<Vec<Entry>>>);

impl ClientFields {
    /// Adds `S`'s client fields, once however many handlers `S` has.
    ///
    /// # Panics
    ///
    /// If another state already keeps a field under one of the same keys:
    /// the two would overwrite each other in every browser.
    pub(crate) fn note<S: SessionState>(&self) {
        let mut entries = lock(&self.0);
        if S::CLIENT_FIELDS.is_empty() || entries.iter().any(|entry| entry.state == S::NAME) {
            return;
        }
        for field in S::CLIENT_FIELDS {
            if let Some(other) = entries
                .iter()
                .find(|entry| (entry.field.place, entry.field.key) == (field.place, field.key))
            {
                panic!(
                    "{} \"{}\" is kept by both {}.{} and {}.{}: give one another key",
                    field.place,
                    field.key,
                    other.state,
                    other.field.field,
                    S::NAME,
                    field.field
                );
            }
            entries.push(Entry {
                state: S::NAME,
                field: *field,
                set: set_field::<S>,
            });
        }
    }

    /// Every client field, as a tab is told of them.
    pub(crate) fn bindings(&self) -> Vec<StorageBinding> {
        lock(&self.0)
            .iter()
            .map(|entry| StorageBinding {
                state: entry.state.to_owned(),
                field: entry.field.field.to_owned(),
                place: entry.field.place,
                key: entry.field.key.to_owned(),
            })
            .collect()
    }

    /// Reads `values` into their fields; returns those ignored.
    fn read_in(&self, states: &mut StateMap, values: Vec<StoredValue>) -> Ignored {
        let entries = lock(&self.0);
        let mut ignored = Ignored::default();
        for StoredValue { place, key, text } in values {
            let Some(entry) = find(&entries, place, &key) else {
                // A key the app no longer keeps (a tab from before a deploy).
                tracing::debug!(%place, key = %key, "a stored value no field keeps");
                continue;
            };
            if let Err(error) = (entry.set)(states, entry.field.field, text.as_deref()) {
                tracing::info!(%place, key = %key, %error, "a stored value was ignored");
                ignored.add(place, &key, &error);
            }
        }
        ignored
    }
}

fn find<'a>(entries: &'a [Entry], place: Place, key: &str) -> Option<&'a Entry> {
    entries
        .iter()
        .find(|entry| entry.field.place == place && entry.field.key == key)
}

fn set_field<S: SessionState>(
    states: &mut StateMap,
    field: &'static str,
    text: Option<&str>,
) -> Result<(), StoredTextError> {
    states.get_mut::<S>().set_client_field(field, text)
}

/// Registers the built-in handler of [`STORED`] on `app`.
pub(crate) fn register(app: App, fields: &ClientFields) -> App {
    let fields = fields.clone();
    app.on(STORED, move |mut cx: Cx<Page>, values: Vec<StoredValue>| {
        let notice = fields.read_in(cx.states(), values).notice();
        async move {
            if let Some(notice) = notice {
                cx.action(Action::toast_for(ToastLevel::Warning, notice, None))?;
            }
            Ok(())
        }
    })
}
