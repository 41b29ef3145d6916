//! `#[derive(State)]` and the tracked collections, checked the way a client
//! sees them: the ops a flush writes, applied to the JSON the client had,
//! give exactly the JSON of the new state.

use std::sync::atomic::{AtomicUsize, Ordering};

use json_patch::jsonptr::Pointer;
use proptest::prelude::*;
use serde_json::{Value, json};
use stateside_wire::{List, Map, PatchOperation, State};

static TOTALS: AtomicUsize = AtomicUsize::new(0);

fn total(items: &List<u32>, bonus: &u32) -> u64 {
    TOTALS.fetch_add(1, Ordering::SeqCst);
    items.iter().map(|&item| u64::from(item)).sum::<u64>() + u64::from(*bonus)
}

#[derive(Clone, Debug, Default, PartialEq, State)]
struct Cart {
    items: List<u32>,
    labels: Map<String, String>,
    bonus: u32,
    note: String,
    plain: Vec<u32>,
    #[computed(total(items, bonus))]
    total: u64,
    #[backend]
    secret: String,
}

/// One flush: the ops from `before` to `now`, as the session computes them.
fn flush<S: State>(now: &mut S, before: &S) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    now.changes(before, Pointer::root(), &mut ops)
        .expect("serialises");
    ops
}

/// The client's copy after `ops`.
fn applied(mut document: Value, ops: &[PatchOperation]) -> Value {
    json_patch::patch(&mut document, ops).expect("ops apply");
    document
}

fn op_size(ops: &[PatchOperation]) -> usize {
    serde_json::to_vec(ops).unwrap().len()
}

#[test]
fn an_append_to_a_long_list_is_one_small_op() {
    let mut before = Cart::initial();
    before.items.extend(0..100_000);
    flush(&mut before, &Cart::initial());
    let mut now = before.clone();
    now.items.push(7);
    let ops = flush(&mut now, &before);
    assert_eq!(
        serde_json::to_value(&ops).unwrap(),
        json!([
            { "op": "add", "path": "/items/-", "value": 7 },
            { "op": "replace", "path": "/total", "value": now.total },
        ])
    );
    let mut unchanged = now.clone();
    assert!(
        flush(&mut unchanged, &now).is_empty(),
        "a flush empties the journal"
    );
    let mut next = now.clone();
    next.items.pop_front();
    let ops = flush(&mut next, &now);
    assert!(
        ops.len() <= 2,
        "the remove, and the total if it moved: {ops:?}"
    );
    assert!(op_size(&ops) < 100);
}

static AREAS: AtomicUsize = AtomicUsize::new(0);

fn area(width: &u32, height: &u32) -> u32 {
    AREAS.fetch_add(1, Ordering::SeqCst);
    width * height
}

/// A state of its own, so no other test calls its computed function.
#[derive(Clone, Default, State)]
struct Room {
    width: u32,
    height: u32,
    name: String,
    #[computed(area(width, height))]
    area: u32,
}

#[test]
fn a_computed_field_runs_only_when_an_input_changed() {
    let mut before = Room::initial();
    assert_eq!(
        AREAS.load(Ordering::SeqCst),
        1,
        "computed once when created"
    );
    let mut now = before.clone();
    now.name = "no input changed".into();
    flush(&mut now, &before);
    assert_eq!(AREAS.load(Ordering::SeqCst), 1);
    before = now.clone();
    now.width = 5;
    now.height = 4;
    let ops = flush(&mut now, &before);
    assert_eq!(
        AREAS.load(Ordering::SeqCst),
        2,
        "once per flush, not per write"
    );
    assert_eq!(now.area, 20);
    assert!(ops.iter().any(|op| op.path() == "/area"), "{ops:?}");
    before = now.clone();
    now.width = 5;
    flush(&mut now, &before);
    assert_eq!(
        AREAS.load(Ordering::SeqCst),
        2,
        "written, but to the same value"
    );
}

#[test]
fn a_backend_field_is_stored_but_never_shown() {
    let mut cart = Cart::initial();
    cart.secret = "hunter2".into();
    cart.items.push(3);
    flush(&mut cart, &Cart::initial());
    let shown = serde_json::to_value(&cart).unwrap();
    assert!(!shown.to_string().contains("hunter2"), "{shown}");
    let mut now = cart.clone();
    now.secret = "changed".into();
    assert!(
        flush(&mut now, &cart).is_empty(),
        "a backend change sends nothing"
    );
    let backend = now.backend().unwrap();
    assert_eq!(backend, Some(json!({ "secret": "changed" })));
    let restored = Cart::restore(shown, backend).unwrap();
    assert_eq!(restored.secret, "changed");
    assert_eq!(
        restored.total, 3,
        "computed fields are recomputed on restore"
    );
}

#[test]
fn a_whole_new_list_is_sent_whole() {
    let mut before = Cart::initial();
    before.items.extend([1, 2, 3]);
    flush(&mut before, &Cart::initial());
    let mut now = before.clone();
    now.items = List::from(vec![9]);
    now.items.push(10);
    let ops = flush(&mut now, &before);
    let document = applied(serde_json::to_value(&before).unwrap(), &ops);
    assert_eq!(document, serde_json::to_value(&now).unwrap());
}

/// What a handler may do to a cart in one section.
#[derive(Clone, Debug)]
enum Step {
    Push(u32),
    Pop,
    PushFront(u32),
    PopFront,
    Insert(usize, u32),
    Remove(usize),
    Set(usize, u32),
    Truncate(usize),
    Clear,
    Retain(u32),
    Label(u8, String),
    Unlabel(u8),
    ClearLabels,
    Bonus(u32),
    Plain(Vec<u32>),
    /// Keep a copy and put it back later in the same section.
    Stash,
    Unstash,
    Replace(Vec<u32>),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        any::<u32>().prop_map(Step::Push),
        Just(Step::Pop),
        any::<u32>().prop_map(Step::PushFront),
        Just(Step::PopFront),
        (0..8usize, any::<u32>()).prop_map(|(at, item)| Step::Insert(at, item)),
        (0..8usize).prop_map(Step::Remove),
        (0..8usize, any::<u32>()).prop_map(|(at, item)| Step::Set(at, item)),
        (0..8usize).prop_map(Step::Truncate),
        Just(Step::Clear),
        (1..4u32).prop_map(Step::Retain),
        (0..6u8, "[a-z~/]{0,3}").prop_map(|(key, value)| Step::Label(key, value)),
        (0..6u8).prop_map(Step::Unlabel),
        Just(Step::ClearLabels),
        any::<u32>().prop_map(Step::Bonus),
        prop::collection::vec(0..5u32, 0..4).prop_map(Step::Plain),
        Just(Step::Stash),
        Just(Step::Unstash),
        prop::collection::vec(any::<u32>(), 0..4).prop_map(Step::Replace),
    ]
}

fn run(cart: &mut Cart, stash: &mut Option<List<u32>>, step: Step) {
    let len = cart.items.len();
    match step {
        Step::Push(item) => cart.items.push(item),
        Step::Pop => drop(cart.items.pop()),
        Step::PushFront(item) => cart.items.push_front(item),
        Step::PopFront => drop(cart.items.pop_front()),
        Step::Insert(at, item) if at <= len => cart.items.insert(at, item),
        Step::Remove(at) if at < len => drop(cart.items.remove(at)),
        Step::Set(at, item) if at < len => drop(cart.items.set(at, item)),
        Step::Truncate(to) => cart.items.truncate(to),
        Step::Clear => cart.items.clear(),
        Step::Retain(by) => cart.items.retain(|item| item % (by + 1) != 0),
        Step::Label(key, value) => drop(cart.labels.insert(format!("k{key}/~"), value)),
        Step::Unlabel(key) => drop(cart.labels.remove(&format!("k{key}/~"))),
        Step::ClearLabels => cart.labels.clear(),
        Step::Bonus(bonus) => cart.bonus = bonus % 1000,
        Step::Plain(plain) => cart.plain = plain,
        Step::Stash => *stash = Some(cart.items.clone()),
        Step::Unstash => {
            if let Some(items) = stash.take() {
                cart.items = items;
            }
        }
        Step::Replace(items) => cart.items = List::from(items),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Sections of random steps, each followed by a flush (or, sometimes,
    /// a rollback to the copy taken when the section started): the client's
    /// copy, patched by every flush, always equals the state.
    #[test]
    fn the_client_copy_equals_the_state_after_every_flush(
        sections in prop::collection::vec(
            (prop::collection::vec(step(), 0..12), any::<bool>()), 1..12),
    ) {
        let mut published = Cart::initial();
        let mut client = serde_json::to_value(&published).unwrap();
        // A copy stashed by one section may come back in a later one.
        let mut stash = None;
        for (steps, rolled_back) in sections {
            let mut now = published.clone();
            for step in steps {
                run(&mut now, &mut stash, step);
            }
            if rolled_back {
                continue;
            }
            let ops = flush(&mut now, &published);
            client = applied(client, &ops);
            let mut expected = now.clone();
            expected.total = total(&expected.items, &expected.bonus);
            prop_assert_eq!(&client, &serde_json::to_value(&expected).unwrap());
            published = now;
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
    #[client(session)]
    draft: Option<String>,
    plain: u32,
}

/// `#[client]` fields are listed with their place and key (the field's name
/// by default), and a stored text reads into its field; one that does not
/// read is refused with the reason and leaves the field as it was.
#[test]
fn client_fields_are_declared_and_read_back_from_their_text() {
    use stateside_wire::{ClientField, Place, StoredTextError};
    assert_eq!(
        Prefs::CLIENT_FIELDS,
        [
            ClientField {
                field: "theme",
                place: Place::Local,
                key: "theme"
            },
            ClientField {
                field: "visits",
                place: Place::Cookie,
                key: "visits"
            },
            ClientField {
                field: "draft",
                place: Place::Session,
                key: "draft"
            },
        ]
    );
    assert!(Cart::CLIENT_FIELDS.is_empty());

    let mut prefs = Prefs::initial();
    prefs.set_client_field("theme", Some("dark")).unwrap();
    prefs.set_client_field("visits", Some("3")).unwrap();
    prefs.set_client_field("draft", Some("a note")).unwrap();
    assert_eq!(
        (prefs.theme, prefs.visits, prefs.draft.as_deref()),
        (Theme::Dark, 3, Some("a note"))
    );

    let before = prefs.clone();
    let error = prefs.set_client_field("theme", Some("purple")).unwrap_err();
    assert!(
        error.to_string().contains("unknown variant `purple`"),
        "{error}"
    );
    assert!(prefs.set_client_field("visits", Some("-1")).is_err());
    assert!(matches!(
        prefs.set_client_field("visits", Some(&"9".repeat(5000))),
        Err(StoredTextError::TooLong { bytes: 5000 })
    ));
    assert_eq!(
        prefs.set_client_field("plain", Some("1")),
        Err(StoredTextError::UnknownField("plain".to_owned()))
    );
    assert_eq!(prefs, before, "a refused text changes nothing");

    // No entry: the field's default.
    prefs.set_client_field("theme", None).unwrap();
    prefs.set_client_field("draft", None).unwrap();
    assert_eq!((prefs.theme, prefs.draft.as_deref()), (Theme::Light, None));
    // Still sent to clients like any field.
    assert_eq!(
        serde_json::to_value(&prefs).unwrap(),
        json!({ "theme": "light", "visits": 3, "draft": null, "plain": 0 })
    );
}
