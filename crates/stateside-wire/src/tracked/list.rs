//! [`List`]: a sequence whose every change is one op.

use std::{fmt, ops::Index};

use json_patch::{PatchOperation, jsonptr::Pointer};
use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeSeq};
use serde_json::Value;

use super::{Tracked, journal::Journal};

/// A list in a state that records its changes: a push, pop, insert, remove
/// or set is one RFC 6902 op on the wire, and costs the same on a list of
/// ten items as on one of a hundred thousand. Removing from either end, and
/// keeping the published copy beside the one a handler changes, are cheap
/// too (it is an `imbl` vector underneath).
///
/// It reads like a `Vec` (`len`, `get`, `iter`, indexing) and serialises as
/// a JSON array. There is no `&mut` access to an item: change one with
/// [`set`](Self::set) or [`update`](Self::update), which say what changed.
///
/// ```
/// use stateside_wire::List;
///
/// let mut feed: List<String> = List::new();
/// feed.push("first".to_owned());
/// feed.push("second".to_owned());
/// feed.pop_front();
/// assert_eq!(feed.iter().collect::<Vec<_>>(), ["second"]);
/// ```
pub struct List<T: Clone> {
    items: imbl::Vector<T>,
    journal: Journal,
}

/// A comma between items.
const SEPARATOR: usize = 1;

impl<T: Clone> List<T> {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many items it holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The item at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&T> {
        self.items.get(index)
    }

    /// The first item.
    pub fn first(&self) -> Option<&T> {
        self.items.front()
    }

    /// The last item.
    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }

    /// The items in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    /// The items, copied into a `Vec`.
    pub fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }
}

impl<T: Clone + Serialize> List<T> {
    /// Appends an item.
    pub fn push(&mut self, item: T) {
        self.journal
            .add("-".to_owned(), &item, SEPARATOR, self.items.len() + 1);
        self.items.push_back(item);
    }

    /// Removes the last item.
    pub fn pop(&mut self) -> Option<T> {
        let item = self.items.pop_back()?;
        let at = self.items.len();
        self.journal.remove(at.to_string(), &item, SEPARATOR, at);
        Some(item)
    }

    /// Puts an item first.
    pub fn push_front(&mut self, item: T) {
        self.insert(0, item);
    }

    /// Removes the first item.
    pub fn pop_front(&mut self) -> Option<T> {
        (!self.items.is_empty()).then(|| self.remove(0))
    }

    /// Inserts an item at `index`, shifting the later ones.
    ///
    /// # Panics
    ///
    /// If `index > len`, as `Vec::insert` does.
    pub fn insert(&mut self, index: usize, item: T) {
        self.journal
            .add(index.to_string(), &item, SEPARATOR, self.items.len() + 1);
        self.items.insert(index, item);
    }

    /// Removes and returns the item at `index`, shifting the later ones.
    ///
    /// # Panics
    ///
    /// If `index` is out of bounds, as `Vec::remove` does.
    pub fn remove(&mut self, index: usize) -> T {
        let item = self.items.remove(index);
        self.journal
            .remove(index.to_string(), &item, SEPARATOR, self.items.len());
        item
    }

    /// Replaces the item at `index`, returning the old one.
    ///
    /// # Panics
    ///
    /// If `index` is out of bounds.
    pub fn set(&mut self, index: usize, item: T) -> T {
        self.journal.replace(
            index.to_string(),
            &self.items[index],
            &item,
            self.items.len(),
        );
        self.items.set(index, item)
    }

    /// Changes the item at `index` in place; `None` if there is none.
    pub fn update<R>(&mut self, index: usize, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut item = self.items.get(index)?.clone();
        let result = change(&mut item);
        self.set(index, item);
        Some(result)
    }

    /// Keeps the first `len` items: one op per item removed.
    pub fn truncate(&mut self, len: usize) {
        while self.items.len() > len {
            self.pop();
        }
    }

    /// Removes every item: one op.
    pub fn clear(&mut self) {
        self.items.clear();
        self.journal.clear(Value::Array(Vec::new()));
    }

    /// Keeps the items `keep` accepts: one op per item removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut index = 0;
        while index < self.items.len() {
            if keep(&self.items[index]) {
                index += 1;
            } else {
                self.remove(index);
            }
        }
    }
}

impl<T: Clone + Serialize> Extend<T> for List<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.push(item);
        }
    }
}

impl<T: Clone> Default for List<T> {
    fn default() -> Self {
        Self {
            items: imbl::Vector::new(),
            journal: Journal::default(),
        }
    }
}

impl<T: Clone> Clone for List<T> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
            journal: self.journal.clone(),
        }
    }
}

impl<T: Clone + fmt::Debug> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.items.iter()).finish()
    }
}

/// Equal when the items are: the journal is bookkeeping.
impl<T: Clone + PartialEq> PartialEq for List<T> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<T: Clone + Eq> Eq for List<T> {}

impl<T: Clone + PartialEq> PartialEq<Vec<T>> for List<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.items.len() == other.len() && self.items.iter().eq(other)
    }
}

impl<T: Clone + PartialEq, const N: usize> PartialEq<[T; N]> for List<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        self.items.len() == N && self.items.iter().eq(other)
    }
}

impl<T: Clone> Index<usize> for List<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        &self.items[index]
    }
}

impl<T: Clone> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Self {
            items: items.into_iter().collect(),
            journal: Journal::default(),
        }
    }
}

impl<T: Clone> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> Self {
        items.into_iter().collect()
    }
}

impl<T: Clone> IntoIterator for List<T> {
    type Item = T;
    type IntoIter = imbl::vector::ConsumingIter<T, imbl::shared_ptr::DefaultSharedPtr>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T: Clone> IntoIterator for &'a List<T> {
    type Item = &'a T;
    type IntoIter = imbl::vector::Iter<'a, T, imbl::shared_ptr::DefaultSharedPtr>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T: Clone + Serialize> Serialize for List<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Items(&self.items).serialize(serializer)
    }
}

/// The items as a JSON array, borrowed apart from the journal.
struct Items<'a, T>(&'a imbl::Vector<T>);

impl<T: Clone + Serialize> Serialize for Items<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<'de, T: Clone + Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(deserializer).map(Self::from)
    }
}

impl<T: Clone + Serialize> Tracked for List<T> {
    fn changed_since(&self, before: &Self) -> bool {
        self.journal.changed_since(&before.journal)
    }

    fn take_changes(
        &mut self,
        before: &Self,
        path: &Pointer,
        ops: &mut Vec<PatchOperation>,
    ) -> serde_json::Result<usize> {
        let items = Items(&self.items);
        self.journal
            .take(&before.journal, path, ops, || serde_json::to_value(items))
    }

    fn forget_changes(&mut self) {
        self.journal.forget();
    }
}
