//! A write transaction: reads see the transaction's own writes, writes are collected
//! into one batch that the engine applies atomically. The store runs at most one at a
//! time in a process (see `Store::write`), and the engine's write transaction isolates
//! it from other processes, which makes read-modify-write sequences safe.

use crate::engine::{Scan, WriteBatch, WriteTxn};
use crate::quota::Charges;
use crate::schema::{decode, encode};
use crate::types::Username;
use crate::StoreError;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::BTreeMap;

pub(crate) struct Tx<'s> {
    /// What the transaction reads committed state through.
    engine: &'s dyn WriteTxn,
    /// Pending writes by key; `None` removes the key.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Committed values read ahead ([`Tx::read_ahead`]); `None`: no such key.
    read: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Objects to remove once the batch is durable.
    doomed_objects: Vec<u64>,
    /// Usage the transaction adds to or takes from accounts, settled when it ends.
    charges: Charges,
}

impl<'s> Tx<'s> {
    pub fn new(engine: &'s dyn WriteTxn) -> Self {
        Tx {
            engine,
            writes: BTreeMap::new(),
            read: BTreeMap::new(),
            doomed_objects: Vec::new(),
            charges: Charges::default(),
        }
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.writes.get(key).or_else(|| self.read.get(key)) {
            Some(known) => Ok(known.clone()),
            None => self.engine.get(key),
        }
    }

    /// Reads `keys` at once where the engine reads in batches, for the `get`s that
    /// follow; elsewhere nothing (each `get` reads as cheaply). Keys the transaction
    /// already knows are not read again. Its isolation makes what it reads ahead stay
    /// what it would read later.
    pub fn read_ahead(&mut self, mut keys: Vec<Vec<u8>>) -> Result<(), StoreError> {
        if !self.engine.reads_in_batches() {
            return Ok(());
        }
        keys.retain(|k| !self.writes.contains_key(k) && !self.read.contains_key(k));
        if keys.is_empty() {
            return Ok(());
        }
        let values = self.engine.get_many(&keys)?;
        self.read.extend(keys.into_iter().zip(values));
        Ok(())
    }

    pub fn record<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.get(key)?.map(|bytes| decode(key, &bytes)).transpose()
    }

    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    pub fn put_record<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), StoreError> {
        self.put(key, encode(value)?);
        Ok(())
    }

    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// Scans what is on the engine; the transaction's own pending writes are not seen.
    pub fn scan_committed(&self, prefix: &[u8]) -> Scan<'s> {
        self.engine.scan_prefix(prefix)
    }

    /// Increments the named counter and returns its new value (the first is 1).
    pub fn next_id(&mut self, counter: &str) -> Result<u64, StoreError> {
        let key = crate::schema::key::counter(counter);
        let next = self.record::<u64>(&key)?.unwrap_or(0) + 1;
        self.put_record(key, &next)?;
        Ok(next)
    }

    /// Removes `object` after this transaction is durable (never before: a crash in
    /// between must not leave a record pointing at a missing object).
    pub fn delete_object_after_commit(&mut self, object: u64) {
        self.doomed_objects.push(object);
    }

    /// Adds `bytes` and `messages` (negative: takes them) to `owner`'s quota usage; the
    /// quota check is made on the sum when the transaction ends (`crate::quota::settle`).
    pub fn charge(&mut self, owner: &Username, bytes: i64, messages: i64) {
        self.charges.add(owner, bytes, messages);
    }

    /// The usage charged so far, leaving none.
    pub fn take_charges(&mut self) -> Charges {
        std::mem::take(&mut self.charges)
    }

    /// The batch to apply, and the objects to delete once it is durable.
    pub fn into_parts(self) -> (WriteBatch, Vec<u64>) {
        let batch = WriteBatch {
            ops: self.writes.into_iter().collect(),
        };
        (batch, self.doomed_objects)
    }
}
