//! The message of one DATA or BDAT sequence as it arrives: kept in memory up to
//! [`SPOOL_FROM`], then in a spool file, and only counted once it is over the size
//! limit (its bytes are dropped; the delivery is answered `552 5.3.4`).

use crate::spool::{Spool, SpoolFile};
use std::io;

/// Messages larger than this go to a spool file as they arrive, so that a hundred
/// connections receiving at once hold little memory.
pub const SPOOL_FROM: usize = 128 * 1024;

/// The bytes received so far.
#[derive(Debug)]
pub struct Received {
    memory: Vec<u8>,
    file: Option<SpoolFile>,
    size: u64,
    /// MaxMessageSize when the message started.
    max: u64,
    /// Writing the spool file failed: every recipient gets a temporary failure.
    failed: Option<io::Error>,
}

/// What a complete message is.
#[derive(Debug)]
pub enum Complete {
    Message(Vec<u8>),
    TooBig,
    /// The spool failed; the MTA should try again.
    Failed(io::Error),
}

impl Received {
    pub fn new(max: u64) -> Self {
        Received {
            memory: Vec::new(),
            file: None,
            size: 0,
            max,
            failed: None,
        }
    }

    /// The bytes received so far, counted against the limit.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds `piece`, spooling once the message is past [`SPOOL_FROM`].
    pub fn push(&mut self, piece: &[u8], spool: &Spool) {
        self.size += piece.len() as u64;
        if self.size > self.max || self.failed.is_some() {
            return;
        }
        if self.file.is_none() && self.memory.len() + piece.len() > SPOOL_FROM {
            let spooled = spool.create().and_then(|mut file| {
                file.write(&std::mem::take(&mut self.memory))?;
                Ok(file)
            });
            match spooled {
                Ok(file) => self.file = Some(file),
                Err(e) => return self.failed = Some(e),
            }
        }
        match &mut self.file {
            Some(file) => {
                if let Err(e) = file.write(piece) {
                    self.failed = Some(e);
                }
            }
            None => self.memory.extend_from_slice(piece),
        }
    }

    /// The whole message, read back from its spool file if it has one.
    pub fn finish(self) -> Complete {
        if let Some(e) = self.failed {
            return Complete::Failed(e);
        }
        if self.size > self.max {
            return Complete::TooBig;
        }
        match self.file {
            Some(file) => match file.read_all() {
                Ok(bytes) => Complete::Message(bytes),
                Err(e) => Complete::Failed(e),
            },
            None => Complete::Message(self.memory),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_messages_are_spooled_and_oversized_ones_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spool = Spool::open(dir.path()).expect("spool");
        let files = || {
            std::fs::read_dir(dir.path().join("spool"))
                .expect("dir")
                .count()
        };
        let piece = vec![b'x'; SPOOL_FROM / 2 + 1];
        let mut received = Received::new(10 * SPOOL_FROM as u64);
        received.push(&piece, &spool);
        assert_eq!(files(), 0);
        received.push(&piece, &spool);
        assert_eq!(files(), 1);
        match received.finish() {
            Complete::Message(bytes) => assert_eq!(bytes, [&piece[..], &piece[..]].concat()),
            other => panic!("want the message, got {other:?}"),
        }
        assert_eq!(files(), 0);
        let mut too_big = Received::new(piece.len() as u64);
        too_big.push(&piece, &spool);
        too_big.push(b"y", &spool);
        assert!(matches!(too_big.finish(), Complete::TooBig));
    }
}
