//! Large values kept outside the ordered map: one file per object, in 256 fan-out
//! directories. sled rewrites whole tree nodes, values included, so large values inside
//! it cost several times their size on disk; as plain files they cost their size.
//!
//! An object is durable when [`ObjectDir::put`] returns (file and directory entry
//! fsynced). Ids are random, so objects can be written before the transaction that
//! refers to them takes the writer lock; an object that no record refers to (a crash
//! between the two) is removed by the store's sweep when it next opens.

use crate::StoreError;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct ObjectDir {
    root: PathBuf,
    /// Remove the whole directory when dropped (temporary stores).
    remove_on_drop: bool,
}

const FANOUT: u64 = 256;

impl ObjectDir {
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        Self::create(root, false)
    }

    /// A directory that is removed with this value.
    pub fn temporary() -> Result<Self, StoreError> {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random)
            .map_err(|e| StoreError::engine(std::io::Error::other(e.to_string())))?;
        let root = std::env::temp_dir().join(format!(
            "mailhive-objects-{:016x}",
            u64::from_le_bytes(random)
        ));
        Self::create(&root, true)
    }

    fn create(root: &Path, remove_on_drop: bool) -> Result<Self, StoreError> {
        for bucket in 0..FANOUT {
            fs::create_dir_all(root.join(format!("{bucket:02x}"))).map_err(StoreError::engine)?;
        }
        sync_dir(root)?;
        if let Some(parent) = root.parent() {
            sync_dir(parent)?;
        }
        Ok(ObjectDir {
            root: root.to_owned(),
            remove_on_drop,
        })
    }

    fn bucket(&self, id: u64) -> PathBuf {
        self.root.join(format!("{:02x}", id % FANOUT))
    }

    fn path(&self, id: u64) -> PathBuf {
        self.bucket(id).join(format!("{id:016x}"))
    }

    /// Writes `parts` back to back as a new object, durably, and returns its id.
    pub fn put(&self, parts: &[&[u8]]) -> Result<u64, StoreError> {
        loop {
            let mut random = [0u8; 8];
            getrandom::fill(&mut random)
                .map_err(|e| StoreError::engine(std::io::Error::other(e.to_string())))?;
            let id = u64::from_le_bytes(random);
            let mut file = match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.path(id))
            {
                Ok(file) => file,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(StoreError::engine(e)),
            };
            for part in parts {
                file.write_all(part).map_err(StoreError::engine)?;
            }
            file.sync_all().map_err(StoreError::engine)?;
            sync_dir(&self.bucket(id))?;
            return Ok(id);
        }
    }

    /// The bytes of `range` in object `id` (clamped to its length).
    pub fn read(&self, id: u64, range: Range<u64>) -> Result<Vec<u8>, StoreError> {
        let mut file = File::open(self.path(id)).map_err(StoreError::engine)?;
        let len = file.metadata().map_err(StoreError::engine)?.len();
        let (start, end) = (range.start.min(len), range.end.min(len));
        file.seek(SeekFrom::Start(start))
            .map_err(StoreError::engine)?;
        let mut out = vec![0u8; (end - start) as usize];
        file.read_exact(&mut out).map_err(StoreError::engine)?;
        Ok(out)
    }

    /// Removes object `id`; a missing object is not an error.
    pub fn delete(&self, id: u64) -> Result<(), StoreError> {
        match fs::remove_file(self.path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::engine(e)),
        }
    }

    /// Every object id present.
    pub fn ids(&self) -> Result<Vec<u64>, StoreError> {
        let mut ids = Vec::new();
        for bucket in 0..FANOUT {
            for entry in
                fs::read_dir(self.root.join(format!("{bucket:02x}"))).map_err(StoreError::engine)?
            {
                let name = entry.map_err(StoreError::engine)?.file_name();
                if let Some(id) = name.to_str().and_then(|n| u64::from_str_radix(n, 16).ok()) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }

    /// Bytes the objects occupy (apparent file sizes).
    pub fn size(&self) -> Result<u64, StoreError> {
        let mut total = 0;
        for id in self.ids()? {
            total += fs::metadata(self.path(id))
                .map_err(StoreError::engine)?
                .len();
        }
        Ok(total)
    }
}

impl Drop for ObjectDir {
    fn drop(&mut self) {
        if self.remove_on_drop {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

/// Makes a directory's entries durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_round_trip_in_ranges_and_are_listed() {
        let dir = ObjectDir::temporary().unwrap();
        let id = dir.put(&[b"hello ", b"world"]).unwrap();
        assert_eq!(dir.read(id, 0..11).unwrap(), b"hello world");
        assert_eq!(dir.read(id, 6..100).unwrap(), b"world");
        assert_eq!(dir.ids().unwrap(), [id]);
        assert_eq!(dir.size().unwrap(), 11);
        dir.delete(id).unwrap();
        dir.delete(id).unwrap();
        assert!(dir.ids().unwrap().is_empty());
        let root = dir.root.clone();
        drop(dir);
        assert!(!root.exists());
    }
}
