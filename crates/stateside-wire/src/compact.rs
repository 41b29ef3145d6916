//! The stream's wire form. The stream is most of the bytes a session
//! costs, and most of an update was names and punctuation: an appended
//! item travelled as 123 bytes for 34 of content. So a stream message is a
//! one-letter tag on an array, and each op an array with a numeric code:
//!
//! ```text
//! {"u":[501,500,[[0,"/bench/items/-","item-00499"]]]}       an update
//! {"u":[501,500,[],{"error":{..}}]}                          with extras
//! {"s":[501,500,{"bench":{..}}]}                             a snapshot
//! ```
//!
//! Op codes: 0 add `[0,path,value]`, 1 remove `[1,path]`, 2 replace
//! `[2,path,value]`, 3 move `[3,path,from]`, 4 copy `[4,path,from]`,
//! 5 test `[5,path,value]`. In memory the ops stay `json-patch`'s RFC 6902
//! operations, applied by the same code on both sides; only their encoding
//! is compact.

use std::fmt;

use json_patch::{
    AddOperation, CopyOperation, MoveOperation, PatchOperation, RemoveOperation, ReplaceOperation,
    TestOperation, jsonptr::PointerBuf,
};
use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{self, IgnoredAny, SeqAccess, Visitor},
    ser::{SerializeSeq, SerializeTuple},
};
use serde_json::Value;

use crate::{Action, Notice, ServerMessage, Update};

/// A stream message as written.
#[derive(Serialize)]
enum Tagged<'a> {
    #[serde(rename = "u")]
    Update(&'a Update),
    #[serde(rename = "s")]
    Snapshot((u64, u64, &'a Value)),
}

/// A stream message as read.
#[derive(Deserialize)]
enum Read {
    #[serde(rename = "u")]
    Update(Update),
    #[serde(rename = "s")]
    Snapshot((u64, u64, Value)),
}

impl Serialize for ServerMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Update(update) => Tagged::Update(update),
            Self::Snapshot {
                version,
                acked,
                state,
            } => Tagged::Snapshot((*version, *acked, state)),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ServerMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Read::deserialize(deserializer)? {
            Read::Update(update) => Self::Update(update),
            Read::Snapshot((version, acked, state)) => Self::Snapshot {
                version,
                acked,
                state,
            },
        })
    }
}

/// What an update rarely carries, written only when it does.
#[derive(Serialize)]
struct ExtrasRef<'a> {
    #[serde(skip_serializing_if = "<[Action]>::is_empty")]
    actions: &'a [Action],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: &'a Option<Notice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<u64>,
}

#[derive(Default, Deserialize)]
struct Extras {
    #[serde(default)]
    actions: Vec<Action>,
    #[serde(default)]
    error: Option<Notice>,
    #[serde(default)]
    missing: Option<u64>,
}

impl Serialize for Update {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let extras = ExtrasRef {
            actions: &self.actions,
            error: &self.error,
            missing: self.missing,
        };
        let bare = extras.actions.is_empty() && extras.error.is_none() && extras.missing.is_none();
        let mut tuple = serializer.serialize_tuple(if bare { 3 } else { 4 })?;
        tuple.serialize_element(&self.version)?;
        tuple.serialize_element(&self.acked)?;
        tuple.serialize_element(&Ops(&self.ops))?;
        if !bare {
            tuple.serialize_element(&extras)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Update {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Update;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an update: [version, acked, ops, extras?]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Update, A::Error> {
                let missing = |at| de::Error::invalid_length(at, &self);
                let version = seq.next_element()?.ok_or_else(|| missing(0))?;
                let acked = seq.next_element()?.ok_or_else(|| missing(1))?;
                let ops: Vec<Op> = seq.next_element()?.ok_or_else(|| missing(2))?;
                let extras: Extras = seq.next_element()?.unwrap_or_default();
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(5, &self));
                }
                Ok(Update {
                    version,
                    ops: ops.into_iter().map(|Op(op)| op).collect(),
                    acked,
                    actions: extras.actions,
                    error: extras.error,
                    missing: extras.missing,
                })
            }
        }
        deserializer.deserialize_seq(Fields)
    }
}

/// The ops of an update, each as an array.
struct Ops<'a>(&'a [PatchOperation]);

impl Serialize for Ops<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for op in self.0 {
            match op {
                PatchOperation::Add(op) => seq.serialize_element(&(0, &op.path, &op.value))?,
                PatchOperation::Remove(op) => seq.serialize_element(&(1, &op.path))?,
                PatchOperation::Replace(op) => seq.serialize_element(&(2, &op.path, &op.value))?,
                PatchOperation::Move(op) => seq.serialize_element(&(3, &op.path, &op.from))?,
                PatchOperation::Copy(op) => seq.serialize_element(&(4, &op.path, &op.from))?,
                PatchOperation::Test(op) => seq.serialize_element(&(5, &op.path, &op.value))?,
            }
        }
        seq.end()
    }
}

/// One op, as read.
struct Op(PatchOperation);

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Parts;
        impl<'de> Visitor<'de> for Parts {
            type Value = Op;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an op: [code, path] or [code, path, value or from]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Op, A::Error> {
                let missing = |at| de::Error::invalid_length(at, &self);
                let code: u8 = seq.next_element()?.ok_or_else(|| missing(0))?;
                let path: String = seq.next_element()?.ok_or_else(|| missing(1))?;
                let path = PointerBuf::parse(path).map_err(de::Error::custom)?;
                let pointer = |from: String| PointerBuf::parse(from).map_err(de::Error::custom);
                let op = match code {
                    0 => PatchOperation::Add(AddOperation {
                        path,
                        value: seq.next_element()?.ok_or_else(|| missing(2))?,
                    }),
                    1 => PatchOperation::Remove(RemoveOperation { path }),
                    2 => PatchOperation::Replace(ReplaceOperation {
                        path,
                        value: seq.next_element()?.ok_or_else(|| missing(2))?,
                    }),
                    3 => PatchOperation::Move(MoveOperation {
                        path,
                        from: pointer(seq.next_element()?.ok_or_else(|| missing(2))?)?,
                    }),
                    4 => PatchOperation::Copy(CopyOperation {
                        path,
                        from: pointer(seq.next_element()?.ok_or_else(|| missing(2))?)?,
                    }),
                    5 => PatchOperation::Test(TestOperation {
                        path,
                        value: seq.next_element()?.ok_or_else(|| missing(2))?,
                    }),
                    other => {
                        return Err(de::Error::invalid_value(
                            de::Unexpected::Unsigned(other.into()),
                            &"an op code from 0 to 5",
                        ));
                    }
                };
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("an op with too many parts"));
                }
                Ok(Op(op))
            }
        }
        deserializer.deserialize_seq(Parts)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn round_trip(message: &ServerMessage) -> Value {
        let json = serde_json::to_value(message).unwrap();
        let back: ServerMessage = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(&back, message);
        json
    }

    #[test]
    fn messages_are_compact_and_read_back_exactly() {
        let ops: Vec<PatchOperation> = serde_json::from_value(json!([
            { "op": "add", "path": "/bench/items/-", "value": "item-00499" },
            { "op": "remove", "path": "/a/0" },
            { "op": "replace", "path": "/a/~1b", "value": { "x": [1] } },
            { "op": "move", "from": "/a/1", "path": "/a/2" },
            { "op": "copy", "from": "/a/1", "path": "/c" },
            { "op": "test", "path": "/c", "value": null },
        ]))
        .unwrap();
        let update = ServerMessage::Update(Update {
            version: 501,
            acked: 500,
            ops: ops[..1].to_vec(),
            ..Update::default()
        });
        let bytes = serde_json::to_vec(&update).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"u":[501,500,[[0,"/bench/items/-","item-00499"]]]}"#
        );
        round_trip(&update);
        let every_op = ServerMessage::Update(Update {
            version: 2,
            acked: 1,
            ops,
            actions: vec![Action::toast("hi")],
            error: Some(Notice::failed("h", "why")),
            missing: Some(7),
        });
        let json = round_trip(&every_op);
        assert_eq!(json["u"][2][3], json!([3, "/a/2", "/a/1"]));
        assert_eq!(json["u"][3]["missing"], 7);
        let snapshot = ServerMessage::Snapshot {
            version: 3,
            acked: 2,
            state: json!({ "bench": { "count": 1 } }),
        };
        assert_eq!(
            round_trip(&snapshot),
            json!({ "s": [3, 2, { "bench": { "count": 1 } }] })
        );
    }

    #[test]
    fn malformed_messages_are_refused() {
        for bad in [
            json!({ "u": [1] }),
            json!({ "u": [1, 1, [[9, "/a"]]] }),
            json!({ "u": [1, 1, [[0, "no-slash", 1]]] }),
            json!({ "u": [1, 1, [[0, "/a"]]] }),
            json!({ "u": [1, 1, [[1, "/a", 2]]] }),
            json!({ "x": [1, 1, []] }),
            json!({ "kind": "update", "version": 1, "acked": 1 }),
        ] {
            assert!(
                serde_json::from_value::<ServerMessage>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
