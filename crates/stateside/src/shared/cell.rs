//! One shared state for one key: its lock, its published value, and the
//! sessions linked to it.

use std::sync::{
    Arc, Mutex, Weak,
    atomic::{AtomicBool, Ordering},
};

use json_patch::{AddOperation, PatchOperation, RemoveOperation, jsonptr::PointerBuf};
use stateside_wire::{Member, SharedState};

use super::durable::{Durable, record_key};
use crate::{
    lock::{Held, SessionLock},
    mutex::lock,
    state_map::{CommitError, ErasedState, Publish, StateMap},
    store::{
        persister::{Dirty, Persistable},
        record::StoredSession,
    },
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
    /// Where it is saved, with a durable store.
    durable: Option<Arc<Durable>>,
    /// A save is scheduled.
    dirty: AtomicBool,
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
    /// The cell of `T` for `key`, from its `stored` record if a store had
    /// one (with nobody present: presence is rebuilt as sessions link).
    pub(crate) fn new<T: SharedState + Send + Sync>(
        key: &str,
        max_bytes: usize,
        stored: Option<StoredSession>,
        durable: Option<Arc<Durable>>,
    ) -> Self {
        let mut states = match stored {
            Some(stored) => StateMap::restored(stored.document, stored.backend),
            None => StateMap::default(),
        };
        let set_presence: fn(&mut StateMap, Vec<Member>) = |states, members| {
            if let Some(presence) = states.get_mut::<T>().presence() {
                presence.set(members);
            }
        };
        set_presence(&mut states, Vec::new());
        states
            .commit(&mut Published::default(), usize::MAX)
            .expect("a state's initial value serialises");
        Self {
            name: T::NAME,
            key: key.to_owned(),
            published: Mutex::new(states.committed::<T>()),
            lock: SessionLock::new(std::time::Duration::from_secs(1), states),
            links: Mutex::default(),
            set_presence,
            max_bytes,
            durable,
            dirty: AtomicBool::new(false),
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
    pub(crate) fn commit(self: &Arc<Self>, states: &mut Held) -> Result<(), CommitError> {
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
        if let Some(durable) = &self.durable {
            durable.save(self);
        }
        for session in self.sessions() {
            session.show_shared(self.name, Arc::clone(&value), ops.clone());
        }
        Ok(())
    }

    /// Links `session` as `member`, under the cell's lock (`states`): it is
    /// shown the whole state, then every later commit.
    pub(crate) fn link(
        self: &Arc<Self>,
        states: &mut Held,
        session: Weak<dyn Linked>,
        member: Member,
    ) {
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
    pub(crate) fn unlink(self: &Arc<Self>, states: &mut Held, id: &str) -> bool {
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
    pub(crate) fn refresh_presence(self: &Arc<Self>, states: &mut Held) {
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

impl SharedCell {
    /// Deletes the record of a cell that was freed.
    pub(crate) fn forget(&self) {
        if let Some(durable) = &self.durable {
            durable.forget(self.name, &self.key);
        }
    }
}

/// Saved as a session's record is, with one state in its document.
impl Persistable for SharedCell {
    fn mark_dirty(&self) -> bool {
        !self.dirty.swap(true, Ordering::AcqRel)
    }

    fn take_dirty(&self) -> Dirty {
        self.dirty.store(false, Ordering::Release);
        let value = Arc::clone(&lock(&self.published));
        let name = self.name.to_owned();
        let mut record: StoredSession = StoredSession::default();
        match value.shown() {
            Ok(shown) => {
                record.document.insert(name.clone(), shown);
            }
            Err(error) => {
                tracing::error!(state = self.name, %error, "a shared state no longer serialises")
            }
        }
        if let Ok(Some(backend)) = value.backend() {
            record.backend.insert(name, backend);
        }
        Dirty {
            token: record_key(self.name, &self.key),
            record: serde_json::to_vec(&record).expect("a JSON map serialises"),
            through: 0,
            relayed: Vec::new(),
        }
    }

    fn confirm_saved(&self, _saved: &Dirty) {}
}

/// The op that takes a shared state out of a document.
pub(crate) fn removal(name: &'static str) -> PatchOperation {
    PatchOperation::Remove(RemoveOperation {
        path: PointerBuf::from_tokens([name]),
    })
}
