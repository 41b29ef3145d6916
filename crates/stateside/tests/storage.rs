//! Client storage (issue 16, item 4): the fields a state keeps in the
//! browser are named by the app once a handler of the state is registered;
//! the tab's `stateside/stored` event reads what the browser holds into
//! them, as the tab would, and a handler's change to one reaches the tab's
//! document (which the tab writes back to the browser). What the browser
//! holds is client input: a value that does not read, is too long, or
//! names no field changes nothing, and the tab is told why.

mod support;

use serde::{Deserialize, Serialize};
use stateside::{App, Cx, Engine, HandlerId, State};
use stateside_wire::{
    Action, MAX_STORED_TEXT, Place, STORED, ServerMessage, StorageBinding, StoredValue, to_text,
};
use support::*;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Theme {
    #[default]
    Light,
    Dark,
}

#[derive(Clone, Debug, Default, PartialEq, State)]
struct Prefs {
    #[client(local = "theme")]
    theme: Theme,
    #[client(cookie = "visits")]
    visits: u32,
    /// Not kept in the browser: a stored value cannot reach it.
    admin: bool,
}

const SET_THEME: HandlerId<Theme> = HandlerId::new("set_theme");
const VISIT: HandlerId<()> = HandlerId::new("visit");

async fn set_theme(mut prefs: Cx<Prefs>, theme: Theme) -> anyhow::Result<()> {
    prefs.theme = theme;
    Ok(())
}

async fn visit(mut prefs: Cx<Prefs>, (): ()) -> anyhow::Result<()> {
    prefs.visits += 1;
    Ok(())
}

fn prefs_app() -> App {
    app().on(SET_THEME, set_theme).on(VISIT, visit)
}

fn stored(place: Place, key: &str, text: Option<&str>) -> StoredValue {
    StoredValue {
        place,
        key: key.to_owned(),
        text: text.map(str::to_owned),
    }
}

/// The toasts the tab has been sent.
fn toasts(tab: &Client) -> Vec<String> {
    tab.received
        .iter()
        .filter_map(|message| match &**message {
            ServerMessage::Update(update) => Some(&update.actions),
            ServerMessage::Snapshot { .. } => None,
        })
        .flatten()
        .filter_map(|action| match action {
            Action::Toast { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_app_names_each_client_field_once_its_state_has_a_handler() {
    assert!(app().storage_bindings().is_empty());
    let binding = |field: &str, place, key: &str| StorageBinding {
        state: "prefs".to_owned(),
        field: field.to_owned(),
        place,
        key: key.to_owned(),
    };
    // Two handlers of the state: its fields still count once.
    assert_eq!(
        prefs_app().storage_bindings(),
        [
            binding("theme", Place::Local, "theme"),
            binding("visits", Place::Cookie, "visits")
        ]
    );
}

#[derive(Clone, Debug, Default, PartialEq, State)]
struct OtherPrefs {
    #[client(local = "theme")]
    colour: String,
}

#[test]
#[should_panic(
    expected = "localStorage \"theme\" is kept by both prefs.theme and other_prefs.colour"
)]
fn two_states_cannot_keep_a_field_under_one_key() {
    let set = HandlerId::<()>::new("other");
    let _ = prefs_app().on(set, |_: Cx<OtherPrefs>, (): ()| async { Ok(()) });
}

#[tokio::test]
async fn stored_values_are_read_in_and_a_change_reaches_the_tab() {
    let engine = Engine::new(prefs_app(), config());
    let mut tab = Client::connect(engine.open().unwrap());
    tab.send(
        STORED,
        vec![
            stored(Place::Local, "theme", Some("dark")),
            stored(Place::Cookie, "visits", Some("41")),
        ],
    );
    let prefs: Prefs = tab.quiesce().await;
    assert_eq!((prefs.theme, prefs.visits), (Theme::Dark, 41));
    assert!(toasts(&tab).is_empty(), "{:?}", toasts(&tab));

    // The server changes them: the tab's document has the text to write.
    tab.send(VISIT, ());
    tab.send(SET_THEME, Theme::Light);
    tab.quiesce::<Prefs>().await;
    let document = tab.document().value();
    assert_eq!(to_text(&document["prefs"]["visits"]).as_deref(), Some("42"));
    assert_eq!(
        to_text(&document["prefs"]["theme"]).as_deref(),
        Some("light")
    );

    // Another tab removed the entry: the field's default.
    tab.send(STORED, vec![stored(Place::Cookie, "visits", None)]);
    let prefs: Prefs = tab.quiesce().await;
    assert_eq!(prefs.visits, 0);
}

#[tokio::test]
async fn a_stored_value_that_does_not_read_changes_nothing_and_the_tab_is_told() {
    let engine = Engine::new(prefs_app(), config());
    let mut tab = Client::connect(engine.open().unwrap());
    tab.send(SET_THEME, Theme::Dark);
    let long = "7".repeat(MAX_STORED_TEXT + 1);
    tab.send(
        STORED,
        vec![
            stored(Place::Local, "theme", Some("purple")),
            stored(Place::Cookie, "visits", Some(&long)),
            // Keys no field keeps in that place, or at all.
            stored(Place::Session, "theme", Some("light")),
            stored(Place::Local, "admin", Some("true")),
        ],
    );
    // A good value beside bad ones is still read.
    tab.send(STORED, vec![stored(Place::Cookie, "visits", Some("5"))]);
    let prefs: Prefs = tab.quiesce().await;
    assert_eq!(
        prefs,
        Prefs {
            theme: Theme::Dark,
            visits: 5,
            admin: false
        }
    );
    assert!(tab.notices().is_empty(), "no failure: {:?}", tab.notices());
    let toasts = toasts(&tab);
    assert_eq!(toasts.len(), 1, "{toasts:?}");
    assert!(
        toasts[0].starts_with(
            "Ignored what this browser stored: localStorage \"theme\" is not a valid value \
             (unknown variant `purple`, expected `light` or `dark`); cookie \"visits\" is 4097 bytes"
        ),
        "{}",
        toasts[0]
    );

    // The session goes on.
    tab.send(SET_THEME, Theme::Light);
    let prefs: Prefs = tab.quiesce().await;
    assert_eq!(prefs.theme, Theme::Light);
}
