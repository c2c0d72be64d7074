//! APPEND literals larger than [`crate::spool::SPOOL_FROM`]: the framer hands their bytes out as they
//! arrive and the session writes them to a spool file, so an upload in flight costs
//! the server disk, not memory; the complete APPEND then reads the file back for the
//! store. Whatever ends the command otherwise drops the file, which removes it.

use super::{ImapSession, Work};
use crate::mailbox::blocking;
use crate::spool::SpoolFile;
use actix::prelude::*;
use bytes::Bytes;
use mailhive_protocol::imap::command::{DateTime, Flag};
use mailhive_store::{StoreError, Username};

/// The spool file of the literal being received.
#[derive(Debug)]
pub(super) enum Spooling {
    Writing(SpoolFile),
    /// Writing failed; the APPEND is answered with the failure.
    Failed(String),
}

impl ImapSession {
    /// Writes the next piece of a spooled literal.
    pub(super) fn spool_piece(&mut self, piece: &[u8]) {
        let spooling = match self.spooling.take() {
            Some(spooling) => spooling,
            None => match self.context.spool.create() {
                Ok(file) => Spooling::Writing(file),
                Err(e) => Spooling::Failed(e.to_string()),
            },
        };
        self.spooling = Some(match spooling {
            Spooling::Writing(mut file) => match file.write(piece) {
                Ok(()) => Spooling::Writing(file),
                Err(e) => Spooling::Failed(e.to_string()),
            },
            failed => failed,
        });
    }

    /// APPEND of the message that was spooled: read back, then appended as any other.
    pub(super) fn append_spooled(
        &mut self,
        user: Username,
        tag: String,
        mailbox: String,
        flags: Vec<Flag>,
        date: Option<DateTime>,
    ) -> Work {
        let file = match self.spooling.take() {
            Some(Spooling::Writing(file)) => file,
            Some(Spooling::Failed(e)) => return self.failed(&tag, &e),
            None => return self.failed(&tag, &"the spooled message is missing"),
        };
        let read = blocking(move || {
            file.read_all()
                .map_err(|e| StoreError::Encode(format!("reading a spooled message: {e}")))
        });
        Box::pin(
            read.into_actor(self)
                .then(move |message, act, _| match message {
                    Ok(message) => {
                        act.append(user, tag, mailbox, flags, date, Bytes::from(message))
                    }
                    Err(e) => act.failed(&tag, &e),
                }),
        )
    }
}
