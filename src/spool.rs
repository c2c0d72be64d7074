//! APPEND literals too large to hold in memory: kept in files under the data
//! directory's `spool/` while they arrive, read back once, for the store, when the
//! command is complete. A file is removed when its [`SpoolFile`] is dropped — after
//! the APPEND, on a refusal, on a disconnect — and whatever a crash left there is
//! removed when the server starts.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// APPEND literals larger than this go to a spool file as they arrive.
pub const SPOOL_FROM: usize = 1024 * 1024;

/// The spool directory.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    /// Numbers the files of this process.
    next: AtomicU64,
}

impl Spool {
    /// The spool under `data_dir`, created if missing and emptied of what an earlier
    /// process left.
    pub fn open(data_dir: &Path) -> io::Result<Spool> {
        let dir = data_dir.join("spool");
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(Spool {
            dir,
            next: AtomicU64::new(1),
        })
    }

    /// A new, empty spool file.
    pub fn create(&self) -> io::Result<SpoolFile> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("append-{}-{n}", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(SpoolFile { path, file })
    }
}

/// One literal being spooled; its file goes when it is dropped.
#[derive(Debug)]
pub struct SpoolFile {
    path: PathBuf,
    file: File,
}

impl SpoolFile {
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)
    }

    /// Everything written, read back from the start.
    pub fn read_all(mut self) -> io::Result<Vec<u8>> {
        self.file.rewind()?;
        let mut bytes = Vec::new();
        self.file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a spool file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_go_when_dropped_and_leftovers_when_the_spool_opens() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spool = Spool::open(dir.path()).expect("spool");
        let mut file = spool.create().expect("file");
        file.write(b"hello ").expect("write");
        file.write(b"world").expect("write");
        assert_eq!(file.read_all().expect("read"), b"hello world");
        let count = || {
            std::fs::read_dir(dir.path().join("spool"))
                .expect("dir")
                .count()
        };
        assert_eq!(count(), 0);
        let left = spool.create().expect("file");
        std::mem::forget(left); // as a crash would leave it
        assert_eq!(count(), 1);
        Spool::open(dir.path()).expect("spool again");
        assert_eq!(count(), 0);
    }
}
