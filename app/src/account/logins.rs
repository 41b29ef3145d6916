//! Logins: the one-time codes a login handler mints, the logins they are
//! redeemed for (a login's id is the cookie's value), and the sessions
//! each login has reached, to tell them of a logout.
//!
//! Everything is in memory, in one process, which is enough for one
//! server. Several processes on Redis would keep the same three tables in
//! Redis: a code as a key that expires in [`CODE_TTL`] and is taken with
//! `GETDEL` (redeemed once, by one process); a login as a key with
//! [`LOGIN_TTL`] that a logout deletes; its sessions as a set beside it.
//! The notice to each session goes through `Engine::emit`, which already
//! forwards to whichever process owns the session.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use stateside::{Authenticator, RequestContext, SessionToken, UserId};

/// The cookie that holds a login's id.
pub const LOGIN_COOKIE: &str = "stateside_login";
/// How long a minted code may wait to be redeemed: the tab posts it at
/// once, so a minute is plenty.
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// How long a login lasts without a logout (and the cookie's `Max-Age`).
pub const LOGIN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why a code was not redeemed. One answer for all cases, so a guesser
/// learns nothing.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("that code is unknown, used, expired, or not this tab's")]
pub struct BadCode;

#[derive(Default)]
pub struct Logins {
    tables: Mutex<Tables>,
}

#[derive(Default)]
struct Tables {
    codes: HashMap<String, Pending>,
    logins: HashMap<String, Login>,
}

/// A code waiting for its tab to redeem it.
struct Pending {
    user: UserId,
    /// The session that minted it: only its tab may redeem it.
    session: SessionToken,
    expires: Instant,
}

struct Login {
    user: UserId,
    expires: Instant,
    /// Sessions that have used this login, to tell of a logout.
    sessions: HashSet<SessionToken>,
}

impl Logins {
    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A one-time code that logs `user` in, redeemable by `session`'s tab
    /// within [`CODE_TTL`].
    pub fn mint_code(&self, user: UserId, session: SessionToken) -> String {
        let code = secret();
        let now = Instant::now();
        let mut tables = self.tables();
        tables.codes.retain(|_, pending| pending.expires > now);
        let pending = Pending {
            user,
            session,
            expires: now + CODE_TTL,
        };
        tables.codes.insert(code.clone(), pending);
        code
    }

    /// Redeems `code` for a new login, if `session` minted it and it has
    /// not expired; returns the login's id. A code is gone after its first
    /// try, right or wrong.
    pub fn redeem(&self, code: &str, session: SessionToken) -> Result<String, BadCode> {
        let now = Instant::now();
        let mut tables = self.tables();
        let pending = tables.codes.remove(code).ok_or(BadCode)?;
        if pending.session != session || pending.expires <= now {
            return Err(BadCode);
        }
        tables.logins.retain(|_, login| login.expires > now);
        let id = secret();
        let login = Login {
            user: pending.user,
            expires: now + LOGIN_TTL,
            sessions: HashSet::from([session]),
        };
        tables.logins.insert(id.clone(), login);
        Ok(id)
    }

    /// Notes that `session` uses `login`, if it is live, to tell it of a
    /// logout; returns the user the login is for.
    pub fn attach(&self, login: &str, session: SessionToken) -> Option<UserId> {
        let mut tables = self.tables();
        let login = tables
            .logins
            .get_mut(login)
            .filter(|login| login.expires > Instant::now())?;
        login.sessions.insert(session);
        Some(login.user.clone())
    }

    /// Ends `login`; returns the sessions it had reached.
    pub fn revoke(&self, login: &str) -> Vec<SessionToken> {
        self.tables()
            .logins
            .remove(login)
            .map(|login| login.sessions.into_iter().collect())
            .unwrap_or_default()
    }

    fn live_user(&self, login: &str) -> Option<UserId> {
        let tables = self.tables();
        let login = tables.logins.get(login)?;
        (login.expires > Instant::now()).then(|| login.user.clone())
    }
}

/// Reads the login cookie of the request behind a tab's connection: the
/// engine's [`Authenticator`] for this app.
impl Authenticator for Logins {
    fn user(&self, request: &RequestContext) -> Option<UserId> {
        self.live_user(request.cookie(LOGIN_COOKIE)?)
    }
}

/// 128 bits from `rand`'s thread generator (a CSPRNG seeded from the OS),
/// as hex: a code or a login id, which only the server ever makes.
fn secret() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_redeemed_once_and_only_by_the_tab_that_asked() {
        let logins = Logins::default();
        let (tab, other) = (SessionToken::random(), SessionToken::random());
        let ada = UserId::new("u1");
        let code = logins.mint_code(ada.clone(), tab);
        assert_eq!(logins.redeem(&code, other), Err(BadCode), "another tab's");
        let code = logins.mint_code(ada.clone(), tab);
        let login = logins.redeem(&code, tab).unwrap();
        assert_eq!(logins.redeem(&code, tab), Err(BadCode), "used");
        assert_eq!(logins.redeem("0123", tab), Err(BadCode), "never minted");
        assert_eq!(logins.attach(&login, other), Some(ada));
        let reached: HashSet<_> = logins.revoke(&login).into_iter().collect();
        assert_eq!(reached, HashSet::from([tab, other]));
        assert_eq!(logins.attach(&login, tab), None, "revoked");
    }

    #[test]
    fn the_authenticator_reads_only_a_live_login_cookie() {
        let logins = Logins::default();
        let tab = SessionToken::random();
        let login = logins
            .redeem(&logins.mint_code(UserId::new("u1"), tab), tab)
            .unwrap();
        let with = |value: &str| RequestContext::new(None).with_cookie(LOGIN_COOKIE, value);
        assert_eq!(logins.user(&with(&login)), Some(UserId::new("u1")));
        assert_eq!(logins.user(&with(&secret())), None, "forged");
        assert_eq!(logins.user(&RequestContext::new(None)), None, "none");
        logins.revoke(&login);
        assert_eq!(logins.user(&with(&login)), None, "revoked");
    }
}
