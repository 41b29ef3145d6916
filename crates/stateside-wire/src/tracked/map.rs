//! [`Map`]: keyed items whose every change is one op.

use std::{borrow::Borrow, fmt};

use json_patch::{PatchOperation, jsonptr::Pointer};
use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeMap};
use serde_json::Value;

use super::{Tracked, journal::Journal};

/// A map in a state that records its changes: an insert or a remove is one
/// RFC 6902 op, whatever the map's size. It serialises as a JSON object, so
/// its keys must serialise as strings or numbers (as in any JSON map);
/// iteration is in key order (an `imbl` ordered map underneath).
///
/// ```
/// use stateside_wire::Map;
///
/// let mut cards: Map<u64, String> = Map::new();
/// cards.insert(7, "Write the docs".to_owned());
/// cards.update(&7, |card| card.push('!'));
/// assert_eq!(cards.get(&7).map(String::as_str), Some("Write the docs!"));
/// ```
pub struct Map<K: Ord + Clone, V: Clone> {
    entries: imbl::OrdMap<K, V>,
    journal: Journal,
}

/// Quotes, a colon and a comma around each key.
const ENTRY_OVERHEAD: usize = 4;

impl<K: Ord + Clone, V: Clone> Map<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value under `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.entries.get(key)
    }

    /// Whether `key` has a value.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.entries.contains_key(key)
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.entries.iter()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> {
        self.entries.keys()
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.entries.values()
    }
}

impl<K: Ord + Clone + Serialize, V: Clone + Serialize> Map<K, V> {
    /// Sets the value under `key`, returning the old one.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let len = self.entries.len() + 1;
        match (token(&key), self.entries.get(&key)) {
            (None, _) => self.journal.overflow(),
            (Some(at), Some(old)) => self.journal.replace(at, old, &value, len),
            (Some(at), None) => {
                let overhead = at.len() + ENTRY_OVERHEAD;
                self.journal.add(at, &value, overhead, len);
            }
        }
        self.entries.insert(key, value)
    }

    /// Removes the value under `key`.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let (key, value) = self.entries.remove_with_key(key)?;
        match token(&key) {
            Some(at) => {
                let overhead = at.len() + ENTRY_OVERHEAD;
                self.journal
                    .remove(at, &value, overhead, self.entries.len());
            }
            None => self.journal.overflow(),
        }
        Some(value)
    }

    /// Changes the value under `key` in place; `None` if there is none.
    pub fn update<R>(&mut self, key: &K, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut value = self.entries.get(key)?.clone();
        let result = change(&mut value);
        self.insert(key.clone(), value);
        Some(result)
    }

    /// Removes every entry: one op.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.journal.clear(Value::Object(serde_json::Map::new()));
    }

    /// Keeps the entries `keep` accepts: one op per entry removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        let gone: Vec<K> = self
            .entries
            .iter()
            .filter(|(key, value)| !keep(key, value))
            .map(|(key, _)| key.clone())
            .collect();
        for key in gone {
            self.remove(&key);
        }
    }
}

/// The key as a JSON Pointer token: what it serialises to as an object
/// key. `None` for a key JSON cannot have; the journal then overflows, and
/// the flush, serialising the whole map, reports the error.
fn token(key: &impl Serialize) -> Option<String> {
    match serde_json::to_value(key).ok()? {
        Value::String(key) => Some(key),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

impl<K: Ord + Clone, V: Clone> Default for Map<K, V> {
    fn default() -> Self {
        Self {
            entries: imbl::OrdMap::new(),
            journal: Journal::default(),
        }
    }
}

impl<K: Ord + Clone, V: Clone> Clone for Map<K, V> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
            journal: self.journal.clone(),
        }
    }
}

impl<K: Ord + Clone + fmt::Debug, V: Clone + fmt::Debug> fmt::Debug for Map<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries.iter()).finish()
    }
}

/// Equal when the entries are: the journal is bookkeeping.
impl<K: Ord + Clone, V: Clone + PartialEq> PartialEq for Map<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl<K: Ord + Clone, V: Clone + Eq> Eq for Map<K, V> {}

impl<K: Ord + Clone, V: Clone> FromIterator<(K, V)> for Map<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        Self {
            entries: entries.into_iter().collect(),
            journal: Journal::default(),
        }
    }
}

impl<K: Ord + Clone + Serialize, V: Clone + Serialize> Serialize for Map<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Entries(&self.entries).serialize(serializer)
    }
}

/// The entries as a JSON object, borrowed apart from the journal.
struct Entries<'a, K, V>(&'a imbl::OrdMap<K, V>);

impl<K: Ord + Clone + Serialize, V: Clone + Serialize> Serialize for Entries<'_, K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de, K, V> Deserialize<'de> for Map<K, V>
where
    K: Ord + Clone + Deserialize<'de>,
    V: Clone + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        std::collections::BTreeMap::<K, V>::deserialize(deserializer)
            .map(|entries| entries.into_iter().collect())
    }
}

impl<K: Ord + Clone + Serialize, V: Clone + Serialize> Tracked for Map<K, V> {
    fn changed_since(&self, before: &Self) -> bool {
        self.journal.changed_since(&before.journal)
    }

    fn take_changes(
        &mut self,
        before: &Self,
        path: &Pointer,
        ops: &mut Vec<PatchOperation>,
    ) -> serde_json::Result<usize> {
        let entries = Entries(&self.entries);
        self.journal
            .take(&before.journal, path, ops, || serde_json::to_value(entries))
    }

    fn forget_changes(&mut self) {
        self.journal.forget();
    }
}
