//! Patch apply: the client's `Document::apply`, on any document and any
//! sequence of stream messages, well-formed or not.
//!
//! The input is structured (`arbitrary`), so that most patches aim at paths
//! that exist and most versions are near the one held: random bytes would
//! almost never get past JSON parsing. Raw strings are mixed in to cover the
//! decoding of messages as well.
//!
//! Checked on every message: nothing panics; a refused message leaves the
//! document exactly as it was (version, acked and value: the apply is
//! atomic); an accepted one does exactly what the protocol says (a snapshot
//! replaces, a stale or unversioned update only raises `acked`, the next
//! version applies all its ops, equal to applying them one at a time); and a
//! version gap is always refused.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use stateside_wire::{ApplyError, Document, PatchOperation, ServerMessage, Update};

/// Values and keys from a small alphabet, so that ops find their targets.
/// The keys include the two characters JSON Pointer escapes.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Key {
    A,
    B,
    Zero,
    One,
    Slash,
    Tilde,
    Empty,
}

impl Key {
    fn text(self) -> &'static str {
        match self {
            Key::A => "a",
            Key::B => "b",
            Key::Zero => "0",
            Key::One => "1",
            Key::Slash => "a/b",
            Key::Tilde => "~1",
            Key::Empty => "",
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Number(i8),
    Text(Key),
    Array(Vec<Json>),
    Object(Vec<(Key, Json)>),
}

impl Json {
    /// Deeper levels become `null`: depth adds nothing a few levels cannot.
    fn value(&self, depth: u8) -> Value {
        match self {
            _ if depth > 6 => Value::Null,
            Json::Null => Value::Null,
            Json::Bool(bool) => json!(bool),
            Json::Number(number) => json!(number),
            Json::Text(key) => json!(key.text()),
            Json::Array(items) => items.iter().map(|item| item.value(depth + 1)).collect(),
            Json::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.text().to_owned(), value.value(depth + 1)))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Segment {
    Key(Key),
    Index(u8),
    /// `-`: one past the end of an array.
    End,
    /// Unescaped, so possibly several segments or a bad `~` escape.
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Path(Vec<Segment>);

impl Path {
    fn pointer(&self) -> String {
        self.0
            .iter()
            .map(|segment| match segment {
                Segment::Key(key) => {
                    format!("/{}", key.text().replace('~', "~0").replace('/', "~1"))
                }
                Segment::Index(index) => format!("/{index}"),
                Segment::End => "/-".to_owned(),
                Segment::Raw(raw) => format!("/{raw}"),
            })
            .collect()
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Add(Path, Json),
    Remove(Path),
    Replace(Path, Json),
    Move(Path, Path),
    Copy(Path, Path),
    Test(Path, Json),
}

impl Op {
    /// The typed op, if its paths are valid pointers (only those can be
    /// typed; the `Raw` messages cover the rest).
    fn typed(&self) -> Option<PatchOperation> {
        let op = match self {
            Op::Add(path, value) => {
                json!({"op": "add", "path": path.pointer(), "value": value.value(0)})
            }
            Op::Remove(path) => json!({"op": "remove", "path": path.pointer()}),
            Op::Replace(path, value) => {
                json!({"op": "replace", "path": path.pointer(), "value": value.value(0)})
            }
            Op::Move(from, path) => {
                json!({"op": "move", "from": from.pointer(), "path": path.pointer()})
            }
            Op::Copy(from, path) => {
                json!({"op": "copy", "from": from.pointer(), "path": path.pointer()})
            }
            Op::Test(path, value) => {
                json!({"op": "test", "path": path.pointer(), "value": value.value(0)})
            }
        };
        serde_json::from_value(op).ok()
    }
}

/// An update's version, relative to the one the document holds.
#[derive(Arbitrary, Debug)]
enum Version {
    Next,
    Same,
    Behind(u8),
    Ahead(u8),
}

#[derive(Arbitrary, Debug)]
enum Message {
    Snapshot {
        version: u8,
        acked: u8,
        state: Json,
    },
    Update {
        version: Version,
        acked: u8,
        ops: Vec<Op>,
    },
    /// Decoded as a `ServerMessage`, and applied if it decodes.
    Raw(String),
}

impl Message {
    fn typed(&self, held: u64) -> Option<ServerMessage> {
        match self {
            Message::Snapshot {
                version,
                acked,
                state,
            } => Some(ServerMessage::Snapshot {
                version: u64::from(*version),
                acked: u64::from(*acked),
                state: state.value(0),
            }),
            Message::Update {
                version,
                acked,
                ops,
            } => Some(ServerMessage::Update(Update {
                version: match version {
                    Version::Next => held + 1,
                    Version::Same => held,
                    Version::Behind(by) => held.saturating_sub(u64::from(*by)),
                    Version::Ahead(by) => held + 1 + u64::from(*by),
                },
                ops: ops.iter().filter_map(Op::typed).collect(),
                acked: u64::from(*acked),
                ..Update::default()
            })),
            Message::Raw(text) => serde_json::from_str(text).ok(),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    start: Json,
    version: u8,
    messages: Vec<Message>,
}

fuzz_target!(|input: Input| {
    let mut document = Document::default();
    let start = ServerMessage::Snapshot {
        version: u64::from(input.version),
        acked: 0,
        state: input.start.value(0),
    };
    document.apply(&start).expect("a snapshot always applies");
    for message in &input.messages {
        let Some(message) = message.typed(document.version()) else {
            continue;
        };
        let before = document.clone();
        let result = document.apply(&message);
        check(&before, &message, &result, &document);
        // Whatever the value holds, reading a state from it must not panic.
        let _ = document.state::<Probe>();
    }
});

fn check(
    before: &Document,
    message: &ServerMessage,
    result: &Result<(), ApplyError>,
    after: &Document,
) {
    let Err(error) = result else {
        return check_applied(before, message, after);
    };
    assert_eq!(
        after, before,
        "a refused message changed the document ({error})"
    );
    let ServerMessage::Update(update) = message else {
        panic!("a snapshot was refused: {error}");
    };
    match error {
        ApplyError::Gap { have, got } => {
            assert_eq!((*have, *got), (before.version(), update.version));
            assert!(update.version > before.version() + 1);
        }
        ApplyError::Patch(_) => {
            assert_eq!(update.version, before.version() + 1);
            assert!(one_at_a_time(before.value(), &update.ops).is_none());
        }
    }
}

fn check_applied(before: &Document, message: &ServerMessage, after: &Document) {
    match message {
        ServerMessage::Snapshot {
            version,
            acked,
            state,
        } => {
            assert_eq!(after.version(), *version);
            assert_eq!(after.acked(), before.acked().max(*acked));
            assert_eq!(after.value(), state);
        }
        ServerMessage::Update(update) => {
            assert_eq!(after.acked(), before.acked().max(update.acked));
            if update.ops.is_empty() || update.version <= before.version() {
                assert_eq!(
                    (after.version(), after.value()),
                    (before.version(), before.value())
                );
            } else {
                assert_eq!(update.version, before.version() + 1, "a gap was applied");
                assert_eq!(after.version(), update.version);
                let expected = one_at_a_time(before.value(), &update.ops);
                assert_eq!(Some(after.value()), expected.as_ref());
            }
        }
    }
}

/// The ops applied one by one, or `None` if one of them does not apply.
fn one_at_a_time(value: &Value, ops: &[PatchOperation]) -> Option<Value> {
    let mut value = value.clone();
    for op in ops {
        json_patch::patch(&mut value, std::slice::from_ref(op)).ok()?;
    }
    Some(value)
}

/// Any state type: a copy from a hostile stream may not decode into it.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
struct Probe {
    a: Vec<i64>,
}

impl stateside_wire::State for Probe {
    const NAME: &'static str = "a";
}
