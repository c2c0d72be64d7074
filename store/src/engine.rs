//! The storage-engine seam. The mailstore needs an ordered map of byte keys to byte
//! values with prefix/range scans, atomic multi-key batches and a durable flush, plus an
//! object area for large values (message bodies) addressed by id; every
//! mailstore rule (UIDs, counters, reference counts) lives above this trait, so another
//! engine — a distributed one — plugs in here without touching the mailstore or the
//! server. Callers serialise the writers of one process themselves (see `Store`); an
//! engine that several processes share also hands out write transactions
//! ([`Engine::begin_write`]), whose reads and batch are one transaction of its own.

use crate::objects::ObjectDir;
use crate::sled_files::SledFiles;
use crate::types::{MailboxId, Username};
use crate::StoreError;
use std::ops::Range;
use std::path::Path;
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

/// The embedded engine: one sled tree, and object files beside it.
#[derive(Debug)]
pub struct SledEngine {
    db: sled::Db,
    /// What a flush must sync after sled's own; `None` for a temporary database.
    files: Option<SledFiles>,
    objects: ObjectDir,
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
        let objects = ObjectDir::open(&dir.join("objects"))?;
        Ok(SledEngine {
            db,
            files: Some(files),
            objects,
        })
    }

    /// A database that lives only as long as this value (for tests and benchmarks).
    pub fn temporary() -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(StoreError::engine)?;
        Ok(SledEngine {
            db,
            files: None,
            objects: ObjectDir::temporary()?,
        })
    }
}

fn entries(iter: sled::Iter) -> Scan<'static> {
    Box::new(iter.map(|item| {
        item.map(|(k, v)| (k.to_vec(), v.to_vec()))
            .map_err(StoreError::engine)
    }))
}

impl Engine for SledEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .get(key)
            .map_err(StoreError::engine)?
            .map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Scan<'_> {
        entries(self.db.scan_prefix(prefix))
    }

    fn scan_range(&self, start: &[u8], end: &[u8]) -> Scan<'_> {
        entries(self.db.range(start.to_vec()..end.to_vec()))
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch.ops {
            match value {
                Some(v) => sled_batch.insert(key, v),
                None => sled_batch.remove(key),
            }
        }
        self.db.apply_batch(sled_batch).map_err(StoreError::engine)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(StoreError::engine)?;
        match &self.files {
            Some(files) => files.sync(),
            None => Ok(()),
        }
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk().map_err(StoreError::engine)? + self.objects.size()?)
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
