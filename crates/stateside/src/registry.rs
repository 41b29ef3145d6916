//! The live sessions of one process, by token, and what a new one is made
//! from. The engine and the cluster code both find, start and drop
//! sessions through it, which is what lets the cluster code sit below the
//! engine instead of reaching into it.

use std::{collections::HashMap, sync::Mutex};

use tokio::time::Instant;

use crate::{
    mutex::lock,
    session::{Origin, Role, SessionHandle, Shared},
    store::{persister::Persister, record::StoredSession},
    token::SessionToken,
};

/// How far a restored session's version jumps (see [`Registry::restore`]).
const RESTORED_VERSION_GAP: u64 = 1 << 32;

pub(crate) struct Registry {
    shared: Shared,
    /// Saves to the durable store, if the engine has one.
    persister: Option<Persister>,
    sessions: Mutex<HashMap<SessionToken, SessionHandle>>,
}

impl Registry {
    pub(crate) fn new(shared: Shared, persister: Option<Persister>) -> Self {
        Self {
            shared,
            persister,
            sessions: Mutex::default(),
        }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    pub(crate) fn persister(&self) -> Option<&Persister> {
        self.persister.as_ref()
    }

    pub(crate) fn get(&self, token: &SessionToken) -> Option<SessionHandle> {
        lock(&self.sessions).get(token).cloned()
    }

    /// Starts a session and lists it. If another request listed one with
    /// this token meanwhile, that one is kept and returned instead.
    pub(crate) fn start(
        &self,
        token: SessionToken,
        stored: StoredSession,
        role: Role,
    ) -> SessionHandle {
        self.list(token, stored, role)
            .unwrap_or_else(|listed_meanwhile| listed_meanwhile)
    }

    /// Starts and lists a session, or returns `Err` with the one another
    /// request listed meanwhile.
    fn list(
        &self,
        token: SessionToken,
        stored: StoredSession,
        role: Role,
    ) -> Result<SessionHandle, SessionHandle> {
        let mut sessions = lock(&self.sessions);
        if let Some(session) = sessions.get(&token) {
            return Err(session.clone());
        }
        let persister = self.persister.clone().filter(|_| role.saves());
        let origin = Origin {
            stored,
            persister,
            role,
        };
        let session = SessionHandle::start(token, self.shared.clone(), origin);
        sessions.insert(token, session.clone());
        self.shared.census.session_added();
        Ok(session)
    }

    /// Starts a session that another run of it left in a store: after a
    /// restart, or a Redis takeover from an owner that died.
    ///
    /// Updates are streamed before they are saved, so a tab may hold
    /// versions past the stored one that the old runner never saved.
    /// Restarting the numbering far above them makes every such tab resync
    /// from a snapshot instead of taking new updates onto a copy the server
    /// never had. Every path that runs a session from a record comes here;
    /// a follower does not, as it numbers as its owner does.
    ///
    /// The app's restore hooks run, and the tasks the record lists as
    /// running are brought back as the app says (see `session::restore`).
    pub(crate) fn restore(
        &self,
        token: SessionToken,
        mut stored: StoredSession,
        role: Role,
    ) -> SessionHandle {
        stored.version += RESTORED_VERSION_GAP;
        let tasks = std::mem::take(&mut stored.tasks);
        match self.list(token, stored, role) {
            Ok(session) => {
                session.resume(tasks);
                session
            }
            Err(listed_meanwhile) => listed_meanwhile,
        }
    }

    /// Unlists a session and ends its streams.
    #[cfg(feature = "redis")]
    pub(crate) fn remove(&self, token: &SessionToken) -> Option<SessionHandle> {
        let session = lock(&self.sessions).remove(token)?;
        self.shared.census.session_removed();
        session.close_streams();
        Some(session)
    }

    /// Unlists the sessions `expire` picks; returns their tokens.
    pub(crate) fn remove_where(
        &self,
        mut expire: impl FnMut(&SessionHandle) -> bool,
    ) -> Vec<SessionToken> {
        let mut expired = Vec::new();
        lock(&self.sessions).retain(|token, session| {
            let remove = expire(session);
            if remove {
                expired.push(*token);
                self.shared.census.session_removed();
            }
            !remove
        });
        expired
    }

    /// Unlists the session that has been idle longest, if any is idle, to
    /// make room for a new one; returns its token. One pass over the table
    /// under its mutex: this runs only when the process is full.
    pub(crate) fn evict_longest_idle(&self) -> Option<SessionToken> {
        let now = Instant::now();
        let mut sessions = lock(&self.sessions);
        let (token, _) = sessions
            .iter()
            .filter_map(|(token, session)| Some((*token, session.idle_for(now)?)))
            .max_by_key(|(_, idle)| *idle)?;
        // It may have woken since it was looked at: then nothing is evicted
        // this time.
        if !sessions[&token].try_expire(now, true) {
            return None;
        }
        sessions.remove(&token);
        self.shared.census.session_removed();
        Some(token)
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.sessions).len()
    }

    pub(crate) fn all(&self) -> Vec<SessionHandle> {
        lock(&self.sessions).values().cloned().collect()
    }
}
