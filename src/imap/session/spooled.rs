//! APPEND literals the framer hands out in pieces (see [`crate::spool::SPOOL_FROM`]):
//! the session writes each to a spool file of its own as it arrives, so an upload in
//! flight costs the server disk, not memory; the complete APPEND then takes the files,
//! in the order of the places the command marks for them. Whatever ends the command
//! otherwise drops the files, which removes them.

use super::ImapSession;
use crate::spool::SpoolFile;

/// The spool files of the APPEND being received, one per spooled literal, in order.
#[derive(Debug, Default)]
pub(crate) struct Spooling {
    files: Vec<SpoolFile>,
    /// Writing failed; the APPEND is answered with the failure.
    failed: Option<String>,
}

/// Why the spooled literals cannot be used.
#[derive(Debug)]
pub(crate) enum SpoolTrouble {
    /// A spool file could not be written.
    Failed(String),
    /// The command marks another number of spooled literals than were received.
    Mismatch,
}

impl Spooling {
    /// The files of a command that marks `marked` spooled literals.
    pub(crate) fn files(self, marked: usize) -> Result<Vec<SpoolFile>, SpoolTrouble> {
        match self.failed {
            Some(e) => Err(SpoolTrouble::Failed(e)),
            None if self.files.len() != marked => Err(SpoolTrouble::Mismatch),
            None => Ok(self.files),
        }
    }
}

impl ImapSession {
    /// A spooled literal begins: a new file for its pieces.
    pub(super) fn spool_start(&mut self) {
        let spooling = self.spooling.get_or_insert_with(Spooling::default);
        if spooling.failed.is_none() {
            match self.context.spool.create() {
                Ok(file) => spooling.files.push(file),
                Err(e) => spooling.failed = Some(e.to_string()),
            }
        }
    }

    /// Writes the next piece of the spooled literal.
    pub(super) fn spool_piece(&mut self, piece: &[u8]) {
        let spooling = self.spooling.get_or_insert_with(Spooling::default);
        if spooling.failed.is_some() {
            return;
        }
        let written = match spooling.files.last_mut() {
            Some(file) => file.write(piece).map_err(|e| e.to_string()),
            None => Err("a spooled piece came before its literal".to_owned()),
        };
        if let Err(e) = written {
            spooling.failed = Some(e);
        }
    }

    /// The spooled literals of the command being run (none if it has none).
    pub(crate) fn take_spooling(&mut self) -> Spooling {
        self.spooling.take().unwrap_or_default()
    }
}
