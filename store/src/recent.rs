//! \Recent (RFC 3501 §2.3.2): a message is recent in the one session that is first told
//! of it. The store keeps, per mailbox, the first UID that no session has been told of
//! yet; a session that claims the mailbox's new messages moves it to UIDNEXT in one
//! small write — never one write per message.
//!
//! The mark is written without waiting for a flush: the claim is not a change the
//! client was promised is durable, and after a crash the worst case is that a message
//! is recent once more in a new session, in which no other session holds it.

use crate::schema::{key, MailboxRecord};
use crate::store::Store;
use crate::tx::Tx;
use crate::types::MailboxId;
use crate::StoreError;
use std::ops::Range;

/// The first UID of `mailbox` nobody has claimed (1 for a mailbox never claimed).
fn first_unclaimed(tx: &Tx<'_>, mailbox: MailboxId) -> Result<u32, StoreError> {
    Ok(tx.record::<u32>(&key::recent(mailbox))?.unwrap_or(1))
}

/// Removes `mailbox`'s mark (it is being deleted).
pub(crate) fn forget_mailbox(tx: &mut Tx<'_>, mailbox: MailboxId) {
    tx.delete(key::recent(mailbox));
}

impl Store {
    /// Claims every UID of `mailbox` that no session has claimed yet: the answer is
    /// the range of UIDs (some perhaps expunged) that are now recent for the caller,
    /// empty when there is nothing new. `None` when the mailbox does not exist.
    pub fn claim_recent(&self, mailbox: MailboxId) -> Result<Option<Range<u32>>, StoreError> {
        let claimed = self.write_unflushed(|tx| {
            let Some(record) = tx.record::<MailboxRecord>(&key::mailbox(mailbox))? else {
                return Ok(Ok(None));
            };
            let from = first_unclaimed(tx, mailbox)?;
            if from < record.uid_next {
                tx.put_record(key::recent(mailbox), &record.uid_next)?;
            }
            Ok(Ok(Some(from..record.uid_next.max(from))))
        })?;
        Ok(claimed.unwrap_or(None))
    }

    /// The UIDs a claim would return now, without claiming them (EXAMINE shows them as
    /// \Recent and leaves them to the next SELECT).
    pub fn unclaimed_range(&self, mailbox: MailboxId) -> Result<Option<Range<u32>>, StoreError> {
        let Some(record) = self.read::<MailboxRecord>(&key::mailbox(mailbox))? else {
            return Ok(None);
        };
        let from = self.read::<u32>(&key::recent(mailbox))?.unwrap_or(1);
        Ok(Some(from..record.uid_next.max(from)))
    }

    /// How many messages of `mailbox` no session has claimed (STATUS RECENT): a scan of
    /// the unclaimed messages' keys only.
    pub fn unclaimed_recent(&self, mailbox: MailboxId) -> Result<u32, StoreError> {
        let from = self.read::<u32>(&key::recent(mailbox))?.unwrap_or(1);
        let mut count = 0;
        // Past every message key of the mailbox (a UID is four bytes).
        let mut end = key::messages(mailbox);
        end.extend([0xff; 5]);
        for entry in self.engine().scan_range(&key::message(mailbox, from), &end) {
            entry?;
            count += 1;
        }
        Ok(count)
    }
}
