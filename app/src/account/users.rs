//! Who has signed up: a [`UserStore`] keeps each user's email and password
//! hash under an id of the app's own, which is what a login names and what
//! per-user data (a user's notes, say) is keyed by.
//!
//! The demo keeps users in memory ([`MemoryUsers`]), so they are gone after
//! a restart; an app puts the same trait over its database.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use stateside::UserId;

/// A user as the store keeps them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// As signed up with, trimmed and lowercase.
    pub email: String,
    /// An argon2 PHC string (see `password`).
    pub password_hash: String,
}

/// The email already has an account.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("that email already has an account")]
pub struct EmailTaken;

pub trait UserStore: Send + Sync + 'static {
    /// Adds a user with `email` (already normalised) and `password_hash`.
    fn create(&self, email: &str, password_hash: String) -> Result<User, EmailTaken>;
    /// The user with `email`.
    fn by_email(&self, email: &str) -> Option<User>;
    /// The user with `id`.
    fn by_id(&self, id: &UserId) -> Option<User>;
}

/// Users in memory, for the demo.
#[derive(Default)]
pub struct MemoryUsers {
    users: Mutex<Users>,
}

#[derive(Default)]
struct Users {
    by_id: HashMap<UserId, User>,
    ids_by_email: HashMap<String, UserId>,
}

impl MemoryUsers {
    fn users(&self) -> std::sync::MutexGuard<'_, Users> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl UserStore for MemoryUsers {
    fn create(&self, email: &str, password_hash: String) -> Result<User, EmailTaken> {
        let mut users = self.users();
        if users.ids_by_email.contains_key(email) {
            return Err(EmailTaken);
        }
        let user = User {
            id: UserId::new(format!("u{}", users.by_id.len() + 1)),
            email: email.to_owned(),
            password_hash,
        };
        users.ids_by_email.insert(email.to_owned(), user.id.clone());
        users.by_id.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    fn by_email(&self, email: &str) -> Option<User> {
        let users = self.users();
        let id = users.ids_by_email.get(email)?;
        users.by_id.get(id).cloned()
    }

    fn by_id(&self, id: &UserId) -> Option<User> {
        self.users().by_id.get(id).cloned()
    }
}

/// An email as the store keys it: trimmed and lowercase.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_signs_up_once() {
        let users = MemoryUsers::default();
        let ada = users.create("ada@example.com", "h1".to_owned()).unwrap();
        assert_eq!(
            users.create("ada@example.com", "h2".to_owned()),
            Err(EmailTaken)
        );
        let bob = users.create("bob@example.com", "h3".to_owned()).unwrap();
        assert_ne!(ada.id, bob.id);
        assert_eq!(users.by_email("ada@example.com"), Some(ada.clone()));
        assert_eq!(users.by_id(&ada.id), Some(ada));
        assert_eq!(users.by_email("eve@example.com"), None);
    }
}
