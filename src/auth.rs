//! Password logins shared by the protocol servers: where plaintext authentication is
//! allowed, argon2 verification off the actor threads a bounded number at a time (each
//! takes about 19 MiB and tens of milliseconds of a core), and a cache of verified logins.
//!
//! The cache lets a client that logs in again and again (a phone polling POP3, a client
//! opening five IMAP connections) pay for argon2 once, and skip the store too. An entry
//! holds a keyed hash (BLAKE2b, keyed with a secret drawn at start-up) of the user name
//! and password — never the password. A password change or an account removal forgets
//! the account's entry at once ([`Authenticator::forget`]: while the server runs, every
//! account change goes through it, by the admin socket); failed logins are never cached;
//! entries expire after [`CACHE_TTL`] and there are at most [`CACHE_ENTRIES`].

use crate::config::PlaintextAuth;
use blake2::digest::{consts::U32, Mac};
use blake2::Blake2bMac;
use mailhive_store::{Store, StoreError, Username};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How long a verified login is remembered.
pub const CACHE_TTL: Duration = Duration::from_secs(15 * 60);
/// How many accounts the cache remembers at most.
pub const CACHE_ENTRIES: usize = 100_000;

/// Verifies credentials against the store.
#[derive(Debug)]
pub struct Authenticator {
    store: Arc<Store>,
    /// Verifications allowed to run at once: one per core.
    permits: Semaphore,
    cache: LoginCache,
}

#[derive(Debug)]
struct LoginCache {
    /// The key of the keyed hash; never leaves the process.
    secret: [u8; 32],
    entries: Mutex<HashMap<Username, CachedLogin>>,
}

#[derive(Debug, Clone)]
struct CachedLogin {
    /// Keyed hash of the user name and the password that was verified.
    proof: [u8; 32],
    expires: Instant,
}

impl LoginCache {
    fn new() -> Result<Self, StoreError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| StoreError::PasswordHash(e.to_string()))?;
        Ok(LoginCache {
            secret,
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn proof(&self, user: &Username, password: &str) -> [u8; 32] {
        let mut mac =
            <Blake2bMac<U32> as Mac>::new_from_slice(&self.secret).expect("a 32-byte key is valid");
        mac.update(user.as_str().as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Username, CachedLogin>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn hit(&self, user: &Username, proof: &[u8; 32]) -> bool {
        self.lock()
            .get(user)
            .is_some_and(|entry| entry.expires > Instant::now() && entry.proof == *proof)
    }

    fn remember(&self, user: Username, proof: [u8; 32]) {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= CACHE_ENTRIES {
            entries.retain(|_, e| e.expires > now);
        }
        if entries.len() >= CACHE_ENTRIES {
            return; // full of live entries: this login simply is not remembered
        }
        let expires = now + CACHE_TTL;
        entries.insert(user, CachedLogin { proof, expires });
    }
}

impl Authenticator {
    pub fn new(store: Arc<Store>) -> Result<Self, StoreError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Authenticator {
            store,
            permits: Semaphore::new(cores),
            cache: LoginCache::new()?,
        })
    }

    /// The account, if `name` and `password` match one.
    pub async fn verify(
        &self,
        name: &str,
        password: String,
    ) -> Result<Option<Username>, StoreError> {
        let Ok(user) = Username::parse(name) else {
            return Ok(None);
        };
        if let Some(user) = self.remembered(name, &password) {
            return Ok(Some(user));
        }
        let proof = self.cache.proof(&user, &password);
        let Ok(_permit) = self.permits.acquire().await else {
            return Ok(None); // the semaphore is never closed
        };
        let store = self.store.clone();
        let candidate = user.clone();
        let verified =
            actix_rt::task::spawn_blocking(move || store.verify_password(&candidate, &password))
                .await
                .map_err(|e| StoreError::Encode(format!("password check did not finish: {e}")))??;
        if !verified {
            return Ok(None);
        }
        self.cache.remember(user.clone(), proof);
        Ok(Some(user))
    }

    /// The account, if `name` and `password` are a login verified lately: no argon2, no
    /// store.
    pub fn remembered(&self, name: &str, password: &str) -> Option<Username> {
        let user = Username::parse(name).ok()?;
        let proof = self.cache.proof(&user, password);
        self.cache.hit(&user, &proof).then_some(user)
    }

    /// Forgets `user`'s verified login: their password changed, or the account is gone.
    pub fn forget(&self, user: &Username) {
        self.cache.lock().remove(user);
    }

    /// Forgets every verified login: passwords may have changed unseen (another server
    /// on the same store changed them while this one could not hear of it).
    pub fn forget_everyone(&self) {
        self.cache.lock().clear();
    }
}

/// Whether LOGIN / USER / AUTH may run on this connection without TLS.
pub fn plaintext_allowed(policy: PlaintextAuth, peer: &SocketAddr) -> bool {
    match policy {
        PlaintextAuth::Always => true,
        PlaintextAuth::Loopback => peer.ip().is_loopback(),
        PlaintextAuth::Never => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(auth: &Authenticator, user: &str, password: &str) -> bool {
        actix_rt::System::new()
            .block_on(auth.verify(user, password.to_owned()))
            .unwrap()
            .is_some()
    }

    #[test]
    fn cached_logins_follow_password_changes_and_never_cache_failures() {
        let store = Arc::new(Store::temporary().unwrap());
        let karen = Username::parse("karen").unwrap();
        store.add_user(&karen, "first").unwrap().unwrap();
        let auth = Authenticator::new(store.clone()).unwrap();
        assert!(!login(&auth, "karen", "wrong"));
        assert!(auth.cache.lock().is_empty(), "a failure is not cached");
        assert!(login(&auth, "karen", "first"));
        assert!(login(&auth, "KAREN", "first"), "a hit");
        assert!(
            !login(&auth, "karen", "wrong"),
            "a wrong password never matches a cached entry"
        );
        store.set_password(&karen, "second").unwrap().unwrap();
        auth.forget(&karen);
        assert!(
            !login(&auth, "karen", "first"),
            "the old password stops working at once"
        );
        assert!(login(&auth, "karen", "second"));
        let entry = auth.cache.lock().get(&karen).cloned().unwrap();
        assert_ne!(&entry.proof[..], b"second", "the cache holds a keyed hash");
        assert!(!format!("{entry:?}").contains("second\""));
    }
}
