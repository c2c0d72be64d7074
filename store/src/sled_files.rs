//! What sled's flush leaves undone. On Linux sled writes its log with `sync_file_range`,
//! which hands the data to the device but neither empties the device's write cache nor
//! records the file's new length, and it never syncs the files in which it keeps pages
//! too large for the log (`blobs/`, named by log sequence number). A flushed batch would
//! survive the process being killed, not a power failure. [`SledFiles::sync`], run after
//! every sled flush (a checkpoint of the journal, see `crate::journal`), syncs the blob
//! files written since the last time, their directory, then the log.

use crate::objects::sync_dir;
use crate::StoreError;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The files of one open sled database.
#[derive(Debug)]
pub(crate) struct SledFiles {
    log: File,
    blobs: PathBuf,
    /// Every blob up to this log sequence number is synced.
    synced_blobs: Mutex<i64>,
}

impl SledFiles {
    /// The files of the sled database in `dir` (already opened by sled).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let log = File::open(dir.join("db")).map_err(StoreError::engine)?;
        Ok(SledFiles {
            log,
            blobs: dir.join("blobs"),
            synced_blobs: Mutex::new(i64::MIN),
        })
    }

    /// Makes durable what sled's flush wrote. Flushes may overlap (see
    /// `crate::durability`): the blob files are synced one flush at a time, the log by
    /// each flush, concurrently.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.sync_blobs()?;
        self.log.sync_data().map_err(StoreError::engine)
    }

    fn sync_blobs(&self) -> Result<(), StoreError> {
        // A panic while holding the lock leaves a mark that is at worst too low.
        let mut synced = self
            .synced_blobs
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let fresh = blobs_after(&self.blobs, *synced).map_err(StoreError::engine)?;
        let Some(&(highest, _)) = fresh.last() else {
            return Ok(());
        };
        for (_, path) in &fresh {
            match File::open(path) {
                Ok(file) => file.sync_data().map_err(StoreError::engine)?,
                // sled removed it meanwhile: nothing refers to it any more.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::engine(e)),
            }
        }
        sync_dir(&self.blobs)?;
        *synced = highest;
        Ok(())
    }
}

/// The blob files in `dir` whose sequence number is above `after`, in ascending order.
fn blobs_after(dir: &Path, after: i64) -> io::Result<Vec<(i64, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut fresh = Vec::new();
    for entry in entries {
        let entry = entry?;
        let lsn = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i64>().ok());
        if let Some(lsn) = lsn.filter(|&lsn| lsn > after) {
            fresh.push((lsn, entry.path()));
        }
    }
    fresh.sort_unstable_by_key(|&(lsn, _)| lsn);
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_blobs_written_since_the_last_sync_are_synced_again() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs");
        fs::create_dir(&blobs).unwrap();
        fs::write(dir.path().join("db"), b"log").unwrap();
        for name in ["7", "300", "-2", "not-a-blob"] {
            fs::write(blobs.join(name), b"page").unwrap();
        }
        let lsns = |after| -> Vec<i64> {
            blobs_after(&blobs, after)
                .unwrap()
                .into_iter()
                .map(|(lsn, _)| lsn)
                .collect()
        };
        assert_eq!(lsns(i64::MIN), [-2, 7, 300]);
        assert_eq!(lsns(7), [300]);

        let files = SledFiles::open(dir.path()).unwrap();
        files.sync().unwrap();
        assert_eq!(*files.synced_blobs.lock().unwrap(), 300);
        fs::write(blobs.join("301"), b"page").unwrap();
        files.sync().unwrap();
        assert_eq!(*files.synced_blobs.lock().unwrap(), 301);
    }

    #[test]
    fn a_database_without_blobs_syncs_its_log() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("db"), b"log").unwrap();
        SledFiles::open(dir.path()).unwrap().sync().unwrap();
        assert!(SledFiles::open(&dir.path().join("missing")).is_err());
    }
}
