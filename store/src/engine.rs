//! The storage-engine seam. The mailstore needs an ordered map of byte keys to byte
//! values with prefix/range scans, atomic multi-key batches and a durable flush, plus an
//! object area for large values (message bodies) addressed by id; every
//! mailstore rule (UIDs, counters, reference counts) lives above this trait, so another
//! engine — a distributed one — plugs in here without touching the mailstore or the
//! server. Callers serialise the writers of one process themselves (see `Store`); an
//! engine that several processes share also hands out write transactions
//! ([`Engine::begin_write`]), whose reads and batch are one transaction of its own.

use crate::journal::{self, Journal, Op, Record, INTERNAL, MARK, UNDO};
use crate::objects::ObjectDir;
use crate::sled_files::SledFiles;
use crate::types::{MailboxId, Username};
use crate::StoreError;
use std::ops::Range;
use std::path::Path;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long opening waits for another holder of the database lock to let go.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// One key-value pair from a scan.
pub type Entry = (Vec<u8>, Vec<u8>);
/// A scan over entries in key order.
pub type Scan<'a> = Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send + 'a>;

/// A set of writes applied all together or not at all.
#[derive(Debug, Default)]
pub struct WriteBatch {
    /// Writes in order; `None` removes the key.
    pub ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// An ordered, durable key-value engine.
pub trait Engine: Send + Sync + std::fmt::Debug {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The values of `keys`, in their order. The default reads them one by one.
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(k)).collect()
    }
    /// Whether [`Engine::get_many`] costs much less than a `get` per key (a database
    /// across the network: one round trip for all), so that callers who know what
    /// they will read gain by asking for it at once. The default: an embedded engine.
    fn reads_in_batches(&self) -> bool {
        false
    }
    /// Entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> Scan<'_>;
    /// Entries with `start <= key < end`, in key order.
    fn scan_range(&self, start: &[u8], end: &[u8]) -> Scan<'_>;
    /// Applies every write of `batch` atomically (not yet durably).
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError>;
    /// Makes every applied batch durable: on the medium, so that a power failure does
    /// not undo it.
    fn flush(&self) -> Result<(), StoreError>;
    /// Bytes the engine occupies on disk.
    fn size_on_disk(&self) -> Result<u64, StoreError>;

    /// Stores `parts` back to back as a new object, durably; returns its id.
    fn put_object(&self, parts: &[&[u8]]) -> Result<u64, StoreError>;
    /// The bytes of `range` in an object.
    fn read_object(&self, id: u64, range: Range<u64>) -> Result<Vec<u8>, StoreError>;
    /// Removes an object (a missing one is not an error).
    fn delete_object(&self, id: u64) -> Result<(), StoreError>;
    /// Every object id present.
    fn object_ids(&self) -> Result<Vec<u64>, StoreError>;

    /// Starts a write transaction: the reads a writer decides on and the batch it
    /// commits, isolated from the writers of other processes. `None` (the default): the
    /// engine serves one process, whose writer lock is enough; reads then go to the
    /// engine and the batch to [`Engine::apply`].
    fn begin_write(&self) -> Result<Option<Box<dyn WriteTxn + '_>>, StoreError> {
        Ok(None)
    }

    /// Other processes write to this store too, so what one process keeps in memory
    /// may trail their changes. The default: one process owns the engine.
    fn shared_with_other_processes(&self) -> bool {
        false
    }

    /// Calls `on_change`, from a thread of the engine's, for every change another
    /// process commits. The default: an engine one process owns has no other writer.
    fn watch_foreign_changes(&self, on_change: ForeignChanges) -> Result<(), StoreError> {
        drop(on_change);
        Ok(())
    }

    /// Leases this process's `counts` (by scope, a name the caller chooses) for
    /// [`LEASE_SECONDS`], replacing its earlier ones, and returns what the other
    /// processes' live leases add up to per scope. The default: no other process.
    fn exchange_leases(&self, counts: &SharedCounts) -> Result<SharedCounts, StoreError> {
        let _ = counts;
        Ok(SharedCounts::new())
    }
}

/// Counts by scope, for [`Engine::exchange_leases`].
pub type SharedCounts = std::collections::BTreeMap<String, u64>;

/// How long a process's lease on its counts lasts unless renewed: what a process killed
/// with SIGKILL held is free again this long after its last renewal, and within 30 s
/// (SPEC §10) once the others have read the leases again (every second).
pub const LEASE_SECONDS: u32 = 28;

/// A change another process committed, as an engine that several share reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForeignChange {
    /// A mailbox record was written (its messages, flags, expunges, rights) or removed;
    /// its HIGHESTMODSEQ after the change (0 once removed).
    Mailbox { id: MailboxId, highest_modseq: u64 },
    /// An account was written (its password) or removed.
    Account { user: Username },
    /// A persisted setting changed.
    Settings,
    /// Reports may have been lost (the connection that hears them broke and is back):
    /// anything may have changed.
    Unknown,
}

/// What hears of [`ForeignChange`]s.
pub type ForeignChanges = Box<dyn Fn(ForeignChange) + Send + 'static>;

/// A write transaction of an engine: what it reads is what it commits on.
pub trait WriteTxn {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The values of `keys`, in their order, as [`Engine::get_many`].
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(k)).collect()
    }
    /// As [`Engine::reads_in_batches`].
    fn reads_in_batches(&self) -> bool {
        false
    }
    /// Entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> Scan<'_>;
    /// Applies `batch` atomically and ends the transaction; dropping it instead applies
    /// nothing.
    fn commit(self: Box<Self>, batch: WriteBatch) -> Result<(), StoreError>;
}

/// The write transaction of an engine without transactions of its own: reads go to the
/// engine, the commit applies the batch.
pub(crate) struct Direct<'e>(pub &'e dyn Engine);

impl WriteTxn for Direct<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(key)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.0.get_many(keys)
    }

    fn reads_in_batches(&self) -> bool {
        self.0.reads_in_batches()
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Scan<'_> {
        self.0.scan_prefix(prefix)
    }

    fn commit(self: Box<Self>, batch: WriteBatch) -> Result<(), StoreError> {
        self.0.apply(batch)
    }
}

/// The embedded engine: one sled tree with a journal in front of it (see
/// `crate::journal`), and object files beside it.
///
/// On disk, sled applies a batch of up to [`KEY_BY_KEY_MOST`] writes key by key rather
/// than as one of its own atomic batches (each of which writes sled's log buffer out
/// twice, with a wait on the device each time). The engine's own lock keeps readers from
/// seeing half a batch, and the undo record written first, which holds what the batch
/// overwrites, keeps a crash from leaving half of one: sled recovers a prefix of its
/// writes in order, so after a crash it holds every key of a batch, some, or none. Some
/// only if its undo record is numbered one above the mark; the batch is then completed
/// from the journal or, if the journal lacks it (it was never acknowledged), undone.
#[derive(Debug)]
pub struct SledEngine {
    db: sled::Db,
    /// `None` for a temporary database, which nothing makes durable.
    on_disk: Option<OnDisk>,
    objects: ObjectDir,
}

/// What makes a database on disk durable.
#[derive(Debug)]
struct OnDisk {
    journal: Journal,
    /// What a checkpoint syncs after sled's own flush.
    files: SledFiles,
    /// Held for writing while a batch is applied key by key, for reading by every read.
    whole_batches: RwLock<()>,
}

impl SledEngine {
    /// Opens (or creates) the sled database in `dir` (objects in `dir/objects`). Fails if
    /// another process holds it for longer than [`LOCK_WAIT`].
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db_dir = dir.join("db");
        let config = sled::Config::new()
            .path(&db_dir)
            .mode(sled::Mode::HighThroughput)
            // Durability comes from explicit flushes (group commit), not from a timer.
            .flush_every_ms(None);
        let deadline = Instant::now() + LOCK_WAIT;
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                // sled's background I/O can hold the lock for a moment after a store of
                // this process was dropped, or after a server stopped; sled reports it
                // only as text.
                Err(e)
                    if e.to_string().contains("could not acquire lock")
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(StoreError::engine(e)),
            }
        };
        let files = SledFiles::open(&db_dir)?;
        let (journal, records) = Journal::open(&dir.join("journal"))?;
        let objects = ObjectDir::open(&dir.join("objects"))?;
        let on_disk = OnDisk {
            journal,
            files,
            whole_batches: RwLock::new(()),
        };
        let last_seq = recover(&db, &on_disk, records)?;
        on_disk.journal.restart(last_seq);
        Ok(SledEngine {
            db,
            on_disk: Some(on_disk),
            objects,
        })
    }

    /// The lock that keeps readers from seeing half a batch (none for a temporary
    /// database, whose batches are sled's own).
    fn whole_batches(&self) -> Option<&RwLock<()>> {
        self.on_disk.as_ref().map(|d| &d.whole_batches)
    }

    /// A database that lives only as long as this value (for tests and benchmarks).
    pub fn temporary() -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(StoreError::engine)?;
        Ok(SledEngine {
            db,
            on_disk: None,
            objects: ObjectDir::temporary()?,
        })
    }
}

impl Drop for SledEngine {
    /// A checkpoint, so that a store closed in order holds everything in sled and the
    /// next opening has nothing to replay.
    fn drop(&mut self) {
        if let Some(on_disk) = &self.on_disk {
            if let Err(e) = checkpoint(&self.db, on_disk) {
                tracing::warn!(error = %e, "could not checkpoint the journal when closing");
            }
        }
    }
}

/// Undoes a batch sled holds only in part unless the journal has it, applies to sled the
/// journal's records it lacks, then makes sled durable (a checkpoint), so that the
/// journal can be written again from its start. Returns the number of the last batch
/// sled holds.
fn recover(db: &sled::Db, on_disk: &OnDisk, records: Vec<Record>) -> Result<u64, StoreError> {
    let mark = applied_mark(db)?;
    if let Some(first) = records.first() {
        if first.seq > mark + 1 {
            return Err(StoreError::corrupt(
                MARK,
                format!(
                    "the journal starts at batch {} but the database holds only up to batch \
                 {mark}: they are not from the same store",
                    first.seq
                ),
            ));
        }
    }
    if let Some(undo) = db.get(UNDO).map_err(StoreError::engine)? {
        let undo = journal::decode(&undo).ok_or_else(|| StoreError::corrupt(UNDO, "torn"))?;
        if undo.seq == mark + 1 && !records.iter().any(|r| r.seq == undo.seq) {
            write_each(db, undo.batch)?;
        }
    }
    let mut last_seq = mark;
    for record in records.into_iter().filter(|r| r.seq > mark) {
        apply_numbered(db, record.batch, record.seq)?;
        last_seq = record.seq;
    }
    checkpoint(db, on_disk)?;
    Ok(last_seq)
}

/// The number of the last batch sled applied (0 before the first).
fn applied_mark(db: &sled::Db) -> Result<u64, StoreError> {
    let Some(value) = db.get(MARK).map_err(StoreError::engine)? else {
        return Ok(0);
    };
    let bytes: [u8; 8] = value
        .as_ref()
        .try_into()
        .map_err(|_| StoreError::corrupt(MARK, "not 8 bytes"))?;
    Ok(u64::from_be_bytes(bytes))
}

/// The most writes a batch applied key by key has: a larger one (an expunge or flag
/// change of thousands of messages, a store copy) is applied as one of sled's atomic
/// batches, whose two writes of the log buffer are small beside it, and which sled
/// applies much faster than the same writes one by one.
const KEY_BY_KEY_MOST: usize = 64;

/// Applies `ops` to sled as one of its atomic batches (a temporary database, a large
/// batch).
fn apply_as_batch(db: &sled::Db, ops: Vec<Op>) -> Result<(), StoreError> {
    let mut sled_batch = sled::Batch::default();
    for (key, value) in ops {
        match value {
            Some(v) => sled_batch.insert(key, v),
            None => sled_batch.remove(key),
        }
    }
    db.apply_batch(sled_batch).map_err(StoreError::engine)
}

/// Applies the batch numbered `seq` to sled, with the mark: key by key, or as one of
/// sled's batches if it is large. The caller keeps readers out meanwhile.
fn apply_numbered(db: &sled::Db, mut ops: Vec<Op>, seq: u64) -> Result<(), StoreError> {
    if ops.len() <= KEY_BY_KEY_MOST {
        apply_key_by_key(db, ops, seq)
    } else {
        ops.push(mark(seq));
        apply_as_batch(db, ops)
    }
}

/// Applies the batch numbered `seq` to sled key by key: first the undo record of what it
/// overwrites, then its writes, then the mark. The caller keeps readers out meanwhile.
/// A write that fails puts back what the batch overwrote.
fn apply_key_by_key(db: &sled::Db, ops: Vec<Op>, seq: u64) -> Result<(), StoreError> {
    let mut before = Vec::with_capacity(ops.len());
    for (key, _) in &ops {
        let value = db.get(key).map_err(StoreError::engine)?;
        before.push((key.clone(), value.map(|v| v.to_vec())));
    }
    db.insert(UNDO, journal::encode(seq, &before))
        .map_err(StoreError::engine)?;
    let mut writes = ops;
    writes.push(mark(seq));
    write_each(db, writes).inspect_err(|_| {
        if let Err(e) = write_each(db, before) {
            tracing::warn!(error = %e, "could not undo a batch sled applied in part");
        }
    })
}

/// The write that records batch `seq` as applied.
fn mark(seq: u64) -> Op {
    (MARK.to_vec(), Some(seq.to_be_bytes().to_vec()))
}

/// Writes `ops` to sled one after the other.
fn write_each(db: &sled::Db, ops: Vec<Op>) -> Result<(), StoreError> {
    for (key, value) in ops {
        match value {
            Some(v) => db.insert(key, v),
            None => db.remove(key),
        }
        .map_err(StoreError::engine)?;
    }
    Ok(())
}

/// Makes everything sled applied durable through sled itself.
fn checkpoint(db: &sled::Db, on_disk: &OnDisk) -> Result<(), StoreError> {
    db.flush().map_err(StoreError::engine)?;
    on_disk.files.sync()
}

/// The entries of a sled scan, without the engine's own keys; each step holds `whole`
/// (if given) for reading.
fn entries<'a>(mut iter: sled::Iter, whole: Option<&'a RwLock<()>>) -> Scan<'a> {
    Box::new(std::iter::from_fn(move || {
        let _whole = whole.map(read_whole);
        loop {
            match iter.next()? {
                Ok((k, _)) if k.starts_with(INTERNAL) => continue,
                item => {
                    return Some(
                        item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                            .map_err(StoreError::engine),
                    )
                }
            }
        }
    }))
}

fn read_whole(lock: &RwLock<()>) -> std::sync::RwLockReadGuard<'_, ()> {
    // The lock guards no data: a panic while it was held leaves nothing to repair.
    lock.read().unwrap_or_else(|p| p.into_inner())
}

impl Engine for SledEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let _whole = self.whole_batches().map(read_whole);
        Ok(self
            .db
            .get(key)
            .map_err(StoreError::engine)?
            .map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Scan<'_> {
        entries(self.db.scan_prefix(prefix), self.whole_batches())
    }

    fn scan_range(&self, start: &[u8], end: &[u8]) -> Scan<'_> {
        entries(
            self.db.range(start.to_vec()..end.to_vec()),
            self.whole_batches(),
        )
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let Some(on_disk) = &self.on_disk else {
            return apply_as_batch(&self.db, batch.ops);
        };
        if batch.ops.is_empty() {
            return Ok(());
        }
        let mut writing = on_disk.journal.writing();
        if writing.is_full_for(&batch) {
            checkpoint(&self.db, on_disk)?;
            writing.rewind()?;
        }
        let seq = writing.write(&batch)?;
        let applied = {
            let _alone = on_disk
                .whole_batches
                .write()
                .unwrap_or_else(|p| p.into_inner());
            apply_numbered(&self.db, batch.ops, seq)
        };
        match applied {
            Ok(()) => {
                writing.commit();
                Ok(())
            }
            Err(e) => {
                if let Err(discard) = writing.discard() {
                    tracing::warn!(error = %discard, "could not discard a journal record");
                }
                Err(e)
            }
        }
    }

    fn flush(&self) -> Result<(), StoreError> {
        match &self.on_disk {
            Some(on_disk) => on_disk.journal.sync(),
            None => self.db.flush().map(drop).map_err(StoreError::engine),
        }
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        let journal = match &self.on_disk {
            Some(on_disk) => on_disk.journal.size()?,
            None => 0,
        };
        Ok(self.db.size_on_disk().map_err(StoreError::engine)? + journal + self.objects.size()?)
    }

    fn put_object(&self, parts: &[&[u8]]) -> Result<u64, StoreError> {
        self.objects.put(parts)
    }

    fn read_object(&self, id: u64, range: Range<u64>) -> Result<Vec<u8>, StoreError> {
        self.objects.read(id, range)
    }

    fn delete_object(&self, id: u64) -> Result<(), StoreError> {
        self.objects.delete(id)
    }

    fn object_ids(&self) -> Result<Vec<u64>, StoreError> {
        self.objects.ids()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(key: &str, value: &str) -> WriteBatch {
        WriteBatch {
            ops: vec![(key.as_bytes().to_vec(), Some(value.as_bytes().to_vec()))],
        }
    }

    fn value(engine: &SledEngine, key: &str) -> Option<String> {
        let value = engine.get(key.as_bytes()).unwrap()?;
        Some(String::from_utf8(value).unwrap())
    }

    /// Writes `batches` into the journal of the closed database in `dir` as the records
    /// after `after`, as a process that died before sled flushed them would have left
    /// them.
    fn journal_after(dir: &Path, after: u64, batches: &[WriteBatch]) {
        let (journal, _) = Journal::open(&dir.join("journal")).unwrap();
        journal.restart(after);
        for batch in batches {
            let mut writing = journal.writing();
            writing.write(batch).unwrap();
            writing.commit();
        }
        journal.sync().unwrap();
    }

    #[test]
    fn opening_applies_the_journal_records_sled_lacks_and_only_those() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::open(dir.path()).unwrap();
        engine.apply(set("a", "1")).unwrap();
        engine.apply(set("b", "2")).unwrap();
        engine.apply(WriteBatch::default()).unwrap();
        engine.flush().unwrap();
        assert_eq!(applied_mark(&engine.db).unwrap(), 2);
        let keys: Vec<Vec<u8>> = engine
            .scan_prefix(&[])
            .map(|entry| entry.unwrap().0)
            .collect();
        assert_eq!(keys, [b"a".to_vec(), b"b".to_vec()], "the mark is hidden");
        drop(engine);

        // Record 2 is in sled already (an older value would come back if it were
        // applied again); 3 and 4 are not.
        journal_after(
            dir.path(),
            1,
            &[set("b", "stale"), set("c", "3"), set("a", "4")],
        );
        let engine = SledEngine::open(dir.path()).unwrap();
        assert_eq!(value(&engine, "a").as_deref(), Some("4"));
        assert_eq!(value(&engine, "b").as_deref(), Some("2"));
        assert_eq!(value(&engine, "c").as_deref(), Some("3"));
        assert_eq!(applied_mark(&engine.db).unwrap(), 4);
        // Writing goes on from the journal's start, numbered after what was replayed.
        engine.apply(set("d", "5")).unwrap();
        assert_eq!(applied_mark(&engine.db).unwrap(), 5);
        engine.flush().unwrap();
        drop(engine);
        let engine = SledEngine::open(dir.path()).unwrap();
        assert_eq!(value(&engine, "d").as_deref(), Some("5"));
        assert_eq!(value(&engine, "a").as_deref(), Some("4"));
        drop(engine);

        // A journal that does not continue the database is refused, not half applied.
        journal_after(dir.path(), 9, &[set("e", "10")]);
        let refused = SledEngine::open(dir.path()).unwrap_err();
        assert!(
            refused.to_string().contains("not from the same store"),
            "{refused}"
        );
    }

    #[test]
    fn a_batch_sled_holds_in_part_is_completed_from_the_journal_or_undone() {
        let ops = |pairs: &[(&str, Option<&str>)]| -> Vec<Op> {
            pairs
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
                .collect()
        };
        for in_journal in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let engine = SledEngine::open(dir.path()).unwrap();
            engine.apply(set("a", "1")).unwrap();
            engine.apply(set("b", "2")).unwrap();
            engine.flush().unwrap();
            // Batch 3 sets a, b and c; sled kept its undo record and its first write, as
            // a process killed in the middle of applying it leaves them.
            let third = ops(&[("a", Some("3")), ("b", Some("3")), ("c", Some("3"))]);
            let before = ops(&[("a", Some("1")), ("b", Some("2")), ("c", None)]);
            engine.db.insert(UNDO, journal::encode(3, &before)).unwrap();
            engine.db.insert("a", "3").unwrap();
            checkpoint(&engine.db, engine.on_disk.as_ref().unwrap()).unwrap();
            drop(engine);
            if in_journal {
                journal_after(dir.path(), 2, &[WriteBatch { ops: third }]);
            }

            let engine = SledEngine::open(dir.path()).unwrap();
            let state: Vec<Option<String>> =
                ["a", "b", "c"].iter().map(|k| value(&engine, k)).collect();
            let (expected, mark) = if in_journal {
                (["3", "3", "3"].map(|v| Some(v.to_owned())), 3)
            } else {
                ([Some("1".to_owned()), Some("2".to_owned()), None], 2)
            };
            assert_eq!(state, expected, "in the journal: {in_journal}");
            assert_eq!(applied_mark(&engine.db).unwrap(), mark);
            engine.apply(set("d", "4")).unwrap();
            assert_eq!(applied_mark(&engine.db).unwrap(), mark + 1);
        }
    }

    #[test]
    fn a_batch_that_does_not_fit_comes_after_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::open(dir.path()).unwrap();
        let big = "x".repeat((crate::journal::CAPACITY / 3) as usize);
        for n in 0..4 {
            engine.apply(set(&format!("k{n}"), &big)).unwrap();
        }
        engine.flush().unwrap();
        drop(engine);
        let engine = SledEngine::open(dir.path()).unwrap();
        for n in 0..4 {
            assert_eq!(
                value(&engine, &format!("k{n}")).map(|v| v.len()),
                Some(big.len())
            );
        }
        assert_eq!(applied_mark(&engine.db).unwrap(), 4);

        // A batch larger than the journal grows it until the next checkpoint.
        let huge = "y".repeat(crate::journal::CAPACITY as usize);
        engine.apply(set("huge", &big)).unwrap();
        engine.apply(set("huge", &huge)).unwrap();
        let journal = || engine.on_disk.as_ref().unwrap().journal.size().unwrap();
        assert!(journal() > crate::journal::CAPACITY);
        engine.apply(set("after", "1")).unwrap();
        assert_eq!(journal(), crate::journal::CAPACITY);
    }

    #[test]
    fn a_large_batch_is_applied_and_replayed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SledEngine::open(dir.path()).unwrap();
        let many = || WriteBatch {
            ops: (0..KEY_BY_KEY_MOST + 1)
                .map(|n| (format!("m{n:03}").into_bytes(), Some(b"v".to_vec())))
                .collect(),
        };
        engine.apply(many()).unwrap();
        assert_eq!(applied_mark(&engine.db).unwrap(), 1);
        assert_eq!(engine.scan_prefix(b"m").count(), KEY_BY_KEY_MOST + 1);
        drop(engine);
        journal_after(dir.path(), 1, &[many(), set("m000", "w")]);
        let engine = SledEngine::open(dir.path()).unwrap();
        assert_eq!(applied_mark(&engine.db).unwrap(), 3);
        assert_eq!(value(&engine, "m000").as_deref(), Some("w"));
        assert_eq!(engine.scan_prefix(b"m").count(), KEY_BY_KEY_MOST + 1);
    }
}
