//! Password hashes: argon2id (RustCrypto's `argon2`, with its default
//! parameters: 19 MiB, two passes, the OWASP recommendation), in the PHC
//! string format that carries its own salt and parameters.
//!
//! A hash costs tens of milliseconds of CPU and 19 MiB on purpose, which is
//! why it never runs on the async threads: there it would stall every
//! other session's events behind it. It runs on tokio's blocking pool, at
//! most [`AT_ONCE`] at a time, so a flood of logins queues for a permit
//! instead of taking the machine's memory and cores.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use tokio::sync::Semaphore;

/// Hashes computed at once, across all sessions.
const AT_ONCE: usize = 2;

static PERMITS: Semaphore = Semaphore::const_new(AT_ONCE);

/// What an unknown email is checked against, so that "no such user" takes
/// as long as "wrong password" and a stopwatch cannot tell which emails
/// have an account.
static DECOY: LazyLock<String> = LazyLock::new(|| {
    hash_now(&format!("{:x}", rand::random::<u128>())).expect("hashing a fresh password works")
});

/// The PHC string of `password` with a fresh salt.
pub async fn hash(password: String) -> anyhow::Result<String> {
    off_the_async_threads(move || hash_now(&password)).await?
}

/// Whether `password` matches `hash`; with no hash (no such user), checks
/// a decoy and answers `false`, as slowly as a real check.
pub async fn verify(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    off_the_async_threads(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DECOY.clone());
        let parsed = PasswordHash::new(&hash).map_err(|error| anyhow::anyhow!("{error}"))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await?
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    // `rand`'s thread generator: a CSPRNG seeded from the OS.
    let salt: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt).map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|error| anyhow::anyhow!("{error}"))?
        .to_string())
}

async fn off_the_async_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = PERMITS.acquire().await.context("the hashing pool closed")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("a password hash panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_takes_its_password_and_no_other() {
        let hashed = hash("correct horse".to_owned()).await.unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(!hashed.contains("correct horse"));
        let check = |password: &str, hash| verify(password.to_owned(), hash);
        assert!(check("correct horse", Some(hashed.clone())).await.unwrap());
        assert!(!check("battery staple", Some(hashed.clone())).await.unwrap());
        assert!(!check("correct horse", None).await.unwrap());
        let again = hash("correct horse".to_owned()).await.unwrap();
        assert_ne!(again, hashed, "each hash has its own salt");
    }
}
