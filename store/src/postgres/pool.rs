//! A small pool of PostgreSQL connections for the synchronous store: a caller takes one
//! for a query or a transaction and gives it back when the guard drops. Connections are
//! opened on demand up to a fixed number; one that broke is closed instead of given back.
//!
//! Each connection prepares a statement the first time it runs its text and keeps it,
//! so a query after that is one round trip (bind and execute) with no parse or plan;
//! the store's statements are a fixed set of texts.

use crate::StoreError;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use std::collections::HashMap;
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
    idle: Vec<Connection>,
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

/// A connection and the statements prepared on it.
pub(super) struct Connection {
    client: Client,
    prepared: HashMap<&'static str, Statement>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Connection {
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The statement of `sql`, prepared on this connection the first time.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.prepared.insert(sql, statement.clone());
        Ok(statement)
    }

    pub fn query(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params)
    }

    pub fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query_opt(&statement, params)
    }

    pub fn query_one(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Row, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query_one(&statement, params)
    }

    pub fn execute(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params)
    }

    pub fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.client.batch_execute(sql)
    }
}

/// A lent connection; dropping it gives it back.
pub(super) struct Pooled<'p> {
    pool: &'p Pool,
    connection: Option<Connection>,
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

    fn connect(&self) -> Result<Connection, StoreError> {
        let client = self.config.connect(NoTls).map_err(StoreError::engine)?;
        Ok(Connection {
            client,
            prepared: HashMap::new(),
        })
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
            if let Some(connection) = state.idle.pop() {
                if connection.client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    connection: Some(connection),
                });
            }
            if state.open < MAX_CONNECTIONS {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(connection) => Ok(Pooled {
                        pool: self,
                        connection: Some(connection),
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
    pub fn connection(&mut self) -> &mut Connection {
        // Present until the guard drops.
        self.connection.as_mut().expect("a lent connection")
    }

    /// Closes the connection instead of giving it back (its state is unknown).
    pub fn discard(&mut self) {
        self.connection = None;
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.connection.take() {
            Some(connection) if !connection.client.is_closed() => state.idle.push(connection),
            _ => state.open -= 1,
        }
        drop(state);
        self.pool.returned.notify_one();
    }
}
