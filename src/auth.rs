//! Password logins shared by the protocol servers: where plaintext authentication is
//! allowed, and argon2 verification off the actor threads, a bounded number at a time
//! (each verification takes about 19 MiB and a few tens of milliseconds of one core).

use crate::config::PlaintextAuth;
use mailhive_store::{Store, StoreError, Username};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Verifies credentials against the store.
#[derive(Debug)]
pub struct Authenticator {
    store: Arc<Store>,
    /// Verifications allowed to run at once: one per core.
    permits: Semaphore,
}

impl Authenticator {
    pub fn new(store: Arc<Store>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Authenticator {
            store,
            permits: Semaphore::new(cores),
        }
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
        let Ok(_permit) = self.permits.acquire().await else {
            return Ok(None); // the semaphore is never closed
        };
        let store = self.store.clone();
        let candidate = user.clone();
        let verified =
            actix_rt::task::spawn_blocking(move || store.verify_password(&candidate, &password))
                .await
                .map_err(|e| StoreError::Encode(format!("password check did not finish: {e}")))??;
        Ok(verified.then_some(user))
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
