//! One shared state for one key: its lock, its published value, and the
//! sessions linked to it.

use std::sync::{Arc, Mutex, Weak};

use json_patch::{AddOperation, PatchOperation, RemoveOperation, jsonptr::PointerBuf};
use stateside_wire::{Member, SharedState};

use crate::{
    lock::{Held, SessionLock},
    mutex::lock,
    state_map::{CommitError, ErasedState, Publish, StateMap},
};

/// A session, as a shared state sees it: where its changes go.
pub(crate) trait Linked: Send + Sync {
    /// Shows `value` as the state `name` in the session's document, with
    /// `ops` as the update that takes its tabs there.
    fn show_shared(
        self: Arc<Self>,
        name: &'static str,
        value: Arc<dyn ErasedState>,
        ops: Vec<PatchOperation>,
    );
    /// Takes the state `name` out of the session's document.
    fn hide_shared(self: Arc<Self>, name: &'static str);
    /// Whether a tab of the session is connected, for presence.
    fn is_online(&self) -> bool;
}

/// A session linked to a cell.
struct Link {
    session: Weak<dyn Linked>,
    member: Member,
}

/// One shared state for one key.
pub(crate) struct SharedCell {
    name: &'static str,
    key: String,
    /// The fair lock over a state map that holds this one state.
    pub(crate) lock: SessionLock,
    /// The value as of the last commit: what a session that links is shown.
    published: Mutex<Arc<dyn ErasedState>>,
    links: Mutex<Vec<Link>>,
    /// Writes the members into the state's presence field, if it has one.
    set_presence: fn(&mut StateMap, Vec<Member>),
    max_bytes: usize,
}

/// Catches what a commit publishes: the one state's new value.
#[derive(Default)]
struct Published(Option<Arc<dyn ErasedState>>);

impl Publish for Published {
    fn publish(&mut self, _name: &'static str, state: Arc<dyn ErasedState>) {
        self.0 = Some(state);
    }
}

impl SharedCell {
    pub(crate) fn new<T: SharedState + Send + Sync>(key: &str, max_bytes: usize) -> Self {
        let mut states = StateMap::default();
        states.ensure::<T>();
        let mut published = Published::default();
        states
            .commit(&mut published, usize::MAX)
            .expect("a state's initial value serialises");
        Self {
            name: T::NAME,
            key: key.to_owned(),
            lock: SessionLock::new(std::time::Duration::from_secs(1), states),
            published: Mutex::new(published.0.expect("a new state is published")),
            links: Mutex::default(),
            set_presence: |states, members| {
                if let Some(presence) = states.get_mut::<T>().presence() {
                    presence.set(members);
                }
            },
            max_bytes,
        }
    }

    /// The state's name and key, which identify the cell.
    pub(crate) fn id(&self) -> (&'static str, String) {
        (self.name, self.key.clone())
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    pub(crate) fn is_linked(&self) -> bool {
        !lock(&self.links).is_empty()
    }

    /// Publishes the section's changes to every linked session. On an
    /// error (over the byte budget) the changes are rolled back.
    pub(crate) fn commit(&self, states: &mut Held) -> Result<(), CommitError> {
        let mut published = Published::default();
        let ops = states
            .commit(&mut published, self.max_bytes)
            .inspect_err(|_| {
                states.rollback();
            })?;
        let Some(value) = published.0 else {
            return Ok(());
        };
        *lock(&self.published) = Arc::clone(&value);
        for session in self.sessions() {
            session.show_shared(self.name, Arc::clone(&value), ops.clone());
        }
        Ok(())
    }

    /// Links `session` as `member`, under the cell's lock (`states`): it is
    /// shown the whole state, then every later commit.
    pub(crate) fn link(&self, states: &mut Held, session: Weak<dyn Linked>, member: Member) {
        let value = Arc::clone(&lock(&self.published));
        if let Some(linked) = session.upgrade() {
            let op = PatchOperation::Add(AddOperation {
                path: PointerBuf::from_tokens([self.name]),
                value: value.shown().unwrap_or_default(),
            });
            linked.show_shared(self.name, value, vec![op]);
        }
        let mut links = lock(&self.links);
        links.retain(|link| link.member.id != member.id);
        links.push(Link { session, member });
        drop(links);
        self.refresh_presence(states);
    }

    /// Unlinks the member `id`, under the cell's lock; true if it was
    /// linked.
    pub(crate) fn unlink(&self, states: &mut Held, id: &str) -> bool {
        let mut links = lock(&self.links);
        let Some(index) = links.iter().position(|link| link.member.id == id) else {
            return false;
        };
        let link = links.remove(index);
        drop(links);
        if let Some(session) = link.session.upgrade() {
            session.hide_shared(self.name);
        }
        self.refresh_presence(states);
        true
    }

    /// Writes who is here (linked, with a tab open) into the state's
    /// presence field and publishes it, under the cell's lock.
    pub(crate) fn refresh_presence(&self, states: &mut Held) {
        let members = {
            let mut links = lock(&self.links);
            links.retain(|link| link.session.strong_count() > 0);
            links
                .iter()
                .filter(|link| link.session.upgrade().is_some_and(|s| s.is_online()))
                .map(|link| link.member.clone())
                .collect()
        };
        (self.set_presence)(states, members);
        if let Err(error) = self.commit(states) {
            tracing::warn!(state = self.name, %error, "presence not published");
        }
    }

    /// The linked sessions still alive, in the order they linked.
    fn sessions(&self) -> Vec<Arc<dyn Linked>> {
        lock(&self.links)
            .iter()
            .filter_map(|link| link.session.upgrade())
            .collect()
    }
}

/// The op that takes a shared state out of a document.
pub(crate) fn removal(name: &'static str) -> PatchOperation {
    PatchOperation::Remove(RemoveOperation {
        path: PointerBuf::from_tokens([name]),
    })
}
