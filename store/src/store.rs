//! The [`Store`] handle: owns the engine, serialises writers and makes their changes
//! durable through the shared flush gate. Every mailstore operation is a method on it,
//! defined in the module of its subject (accounts, mailboxes, messages).

use crate::durability::FlushGate;
use crate::engine::{Direct, Engine, ForeignChange, SharedCounts, SledEngine, WriteTxn};
use crate::postgres::PostgresEngine;
use crate::quota::DefaultLimits;
use crate::schema::decode;
use crate::tx::Tx;
use crate::{Outcome, StoreError};
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Mutex;

/// The mailstore. Cheap to share behind an `Arc`; every method is synchronous and may
/// block on disk, so async callers run it on a blocking thread.
#[derive(Debug)]
pub struct Store {
    engine: Box<dyn Engine>,
    /// Held while a transaction reads, decides and applies its batch (not while flushing).
    writer: Mutex<()>,
    /// Group commit: writers wait here until their batch is on disk.
    gate: FlushGate,
    /// The quota of accounts without limits of their own.
    pub(crate) default_limits: DefaultLimits,
}

impl Store {
    /// Opens the sled store in `dir`, creating it if needed, removes objects that a crash
    /// left behind unreferenced, parses again what an earlier MIME parse summarised,
    /// counts quota usage if the store was written before quotas, indexes what was stored
    /// before the duplicate index and makes the sort keys a store from before them lacks.
    /// Fails if another process has the store open.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_engine(Box::new(SledEngine::open(dir)?))
    }

    /// Opens the store in the PostgreSQL database `url` names, creating its tables (or
    /// bringing them up to date) if needed; other processes may have it open too.
    pub fn open_postgres(url: &str) -> Result<Store, StoreError> {
        Store::open_engine(Box::new(PostgresEngine::open(url)?))
    }

    /// A store on `engine`, after the sweeps every opening makes.
    fn open_engine(engine: Box<dyn Engine>) -> Result<Store, StoreError> {
        let store = Store::with_engine(engine);
        store.sweep_orphan_objects()?;
        store.reparse_old_summaries()?;
        store.count_usage_once()?;
        store.index_unindexed_messages()?;
        store.derive_missing_sort_keys()?;
        Ok(store)
    }

    /// A store that disappears when dropped (tests, benchmarks).
    pub fn temporary() -> Result<Store, StoreError> {
        Ok(Store::with_engine(Box::new(SledEngine::temporary()?)))
    }

    pub fn with_engine(engine: Box<dyn Engine>) -> Store {
        Store {
            engine,
            writer: Mutex::new(()),
            gate: FlushGate::default(),
            default_limits: DefaultLimits::default(),
        }
    }

    /// Makes every batch applied so far durable, also the bookkeeping written without a
    /// flush (\Recent claims): called when the server stops.
    pub fn flush(&self) -> Result<(), StoreError> {
        let ticket = self.gate.nothing_applied();
        self.gate.wait_durable(ticket, self.engine.as_ref())
    }

    /// Other processes write to this store too (PostgreSQL); with sled, never.
    pub fn shared_with_other_processes(&self) -> bool {
        self.engine.shared_with_other_processes()
    }

    /// Calls `on_change` (on a thread of the engine's) for every change another process
    /// commits to a store that several share; with sled, never.
    pub fn watch_foreign_changes(
        &self,
        on_change: impl Fn(ForeignChange) + Send + 'static,
    ) -> Result<(), StoreError> {
        self.engine.watch_foreign_changes(Box::new(on_change))
    }

    /// Leases this process's counts of the limits processes share, and returns the
    /// other processes' (see [`Engine::exchange_leases`]); with sled, nothing.
    pub fn exchange_leases(&self, counts: &SharedCounts) -> Result<SharedCounts, StoreError> {
        self.engine.exchange_leases(counts)
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.engine.size_on_disk()
    }

    pub(crate) fn engine(&self) -> &dyn Engine {
        self.engine.as_ref()
    }

    /// Whether reading many records at once ([`Store::messages_of`],
    /// [`Store::summaries_of`]) saves much over reading them one by one: the store is
    /// in a database across the network.
    pub fn reads_in_batches(&self) -> bool {
        self.engine.reads_in_batches()
    }

    pub(crate) fn read<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.engine.get(key)?.map(|b| decode(key, &b)).transpose()
    }

    /// Runs `f` as the only writer; if it succeeds its writes are applied atomically and
    /// made durable before this returns. A refusal or an error applies nothing. A
    /// transaction that writes nothing flushes nothing: it only waits until what it may
    /// have read is durable.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut Tx<'_>) -> Outcome<T>) -> Outcome<T> {
        let (ticket, value, doomed) = match self.apply(f)? {
            Ok(applied) => applied,
            Err(refusal) => return Ok(Err(refusal)),
        };
        self.gate.wait_durable(ticket, self.engine.as_ref())?;
        self.delete_objects(doomed);
        Ok(Ok(value))
    }

    /// [`Store::write`] for bookkeeping that need not be durable at once: it returns
    /// once the batch is applied, and the next flush (anyone's) makes it durable.
    pub(crate) fn write_unflushed<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Outcome<T>,
    ) -> Outcome<T> {
        let (ticket, value, doomed) = match self.apply(f)? {
            Ok(applied) => applied,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if !doomed.is_empty() {
            // Objects go only after the batch that dropped them is durable.
            self.gate.wait_durable(ticket, self.engine.as_ref())?;
            self.delete_objects(doomed);
        }
        Ok(Ok(value))
    }

    /// Runs `f` as the only writer and applies its writes atomically (not yet durably).
    fn apply<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Outcome<T>,
    ) -> Outcome<(crate::durability::Ticket, T, Vec<u64>)> {
        // A writer that panicked applied nothing (the batch is applied last), so the
        // lock's data — none — is still consistent.
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let txn: Box<dyn WriteTxn + '_> = match self.engine.begin_write()? {
            Some(txn) => txn,
            None => Box::new(Direct(self.engine.as_ref())),
        };
        let mut tx = Tx::new(txn.as_ref());
        let value = match f(&mut tx)? {
            Ok(value) => value,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let charges = tx.take_charges();
        if let Err(refusal) = crate::quota::settle(&mut tx, charges, self.default_quota())? {
            return Ok(Err(refusal));
        }
        let (batch, doomed) = tx.into_parts();
        let ticket = if batch.ops.is_empty() && doomed.is_empty() {
            self.gate.nothing_applied()
        } else {
            txn.commit(batch)?;
            self.gate.applied()
        };
        Ok(Ok((ticket, value, doomed)))
    }

    fn delete_objects(&self, doomed: Vec<u64>) {
        for object in doomed {
            if let Err(e) = self.engine.delete_object(object) {
                // The record is gone; the next open's sweep removes the file.
                tracing::warn!(object, error = %e, "could not remove an unreferenced object");
            }
        }
    }
}
