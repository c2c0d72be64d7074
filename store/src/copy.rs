//! Copying a whole store into another (`mailhive store copy`, SPEC §10): every key as
//! it is, so accounts, mailboxes with their UIDVALIDITY, UIDs and modseqs, flags,
//! internal dates, ACLs, \Seen per sharer, subscriptions, settings and the counters
//! that give the next ids arrive unchanged and clients keep their caches. A large body
//! is an object of its engine: it is written into the target's object area and its body
//! record pointed at the new object.
//!
//! The target must be empty: nothing but counters, which opening a store writes (the
//! parse its summaries come from) and the copy replaces with the source's. Objects go in before the records that name them, so a
//! copy that stops half-way leaves the target with records that are all whole (then
//! emptied and copied again).

use crate::engine::WriteBatch;
use crate::schema::{decode, encode, key, BlobRecord, BodyStorage};
use crate::{Store, StoreError};

/// Keys written per batch.
const BATCH: usize = 1000;

/// Why a copy did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target store is not empty")]
    TargetNotEmpty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// How many keys the store holds (what a copy's progress counts).
    pub fn key_count(&self) -> Result<u64, StoreError> {
        let mut count = 0;
        for entry in self.engine().scan_prefix(&[]) {
            entry?;
            count += 1;
        }
        Ok(count)
    }

    /// Copies everything into `target`, which must be empty; `progress` hears how many
    /// keys are copied so far. Returns that number.
    pub fn copy_into(
        &self,
        target: &Store,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, CopyError> {
        for entry in target.engine().scan_prefix(&[]) {
            if entry?.0.first() != Some(&key::COUNTER) {
                return Err(CopyError::TargetNotEmpty);
            }
        }
        let mut batch = WriteBatch::default();
        let mut copied = 0;
        for entry in self.engine().scan_prefix(&[]) {
            let (k, mut value) = entry?;
            if k.first() == Some(&key::BLOB) {
                value = self.copy_object(target, &k, &value)?;
            }
            batch.ops.push((k, Some(value)));
            if batch.ops.len() == BATCH {
                copied += batch.ops.len() as u64;
                target.engine().apply(std::mem::take(&mut batch))?;
                progress(copied);
            }
        }
        copied += batch.ops.len() as u64;
        target.engine().apply(batch)?;
        target.engine().flush()?;
        progress(copied);
        Ok(copied)
    }

    /// The body record `value` for the target: its object, if it has one, copied there.
    fn copy_object(&self, target: &Store, k: &[u8], value: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut record: BlobRecord = decode(k, value)?;
        let BodyStorage::Object { id, chunk_ends } = &mut record.storage else {
            return Ok(value.to_vec());
        };
        let len = chunk_ends.last().copied().unwrap_or(0);
        let bytes = self.engine().read_object(*id, 0..len)?;
        *id = target.engine().put_object(&[&bytes])?;
        encode(&record)
    }
}
