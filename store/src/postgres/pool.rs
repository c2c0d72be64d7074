//! A small pool of PostgreSQL connections for the synchronous store: a caller takes one
//! for a query or a transaction and gives it back when the guard drops. Connections are
//! opened on demand up to a fixed number; one that broke is closed instead of given back.

use crate::StoreError;
use postgres::{Client, NoTls};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Connections one process opens at most: the store's callers are blocking threads,
/// and more than this wait for a connection rather than load the database.
pub(super) const MAX_CONNECTIONS: usize = 16;

#[derive(Debug)]
pub(super) struct Pool {
    config: postgres::Config,
    state: Mutex<PoolState>,
    returned: Condvar,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Client>,
    /// Connections open, idle or lent.
    open: usize,
}

impl std::fmt::Debug for PoolState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolState")
            .field("idle", &self.idle.len())
            .field("open", &self.open)
            .finish()
    }
}

/// A lent connection; dropping it gives it back.
pub(super) struct Pooled<'p> {
    pool: &'p Pool,
    client: Option<Client>,
}

impl Pool {
    pub fn new(config: postgres::Config) -> Pool {
        Pool {
            config,
            state: Mutex::new(PoolState::default()),
            returned: Condvar::new(),
        }
    }

    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    fn connect(&self) -> Result<Client, StoreError> {
        self.config.connect(NoTls).map_err(StoreError::engine)
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // The state is a list and a count: still consistent after a panic elsewhere.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection, a new one while fewer than [`MAX_CONNECTIONS`] are open, or
    /// the next one given back.
    pub fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let mut state = self.lock();
        loop {
            if let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open < MAX_CONNECTIONS {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        client: Some(client),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Pooled<'_> {
    pub fn client(&mut self) -> &mut Client {
        // Present until the guard drops.
        self.client.as_mut().expect("a lent connection")
    }

    /// Closes the connection instead of giving it back (its state is unknown).
    pub fn discard(&mut self) {
        self.client = None;
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.client.take() {
            Some(client) if !client.is_closed() => state.idle.push(client),
            _ => state.open -= 1,
        }
        drop(state);
        self.pool.returned.notify_one();
    }
}
