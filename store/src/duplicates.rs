//! The duplicate index (`H` keys): which messages of a mailbox have given bytes and
//! internal date, so that an import run again skips what an earlier run stored, at the
//! cost of one short range scan per message whatever the mailbox's size.
//!
//! Every message record has two rows, written and removed in the transaction that
//! writes or removes the record: `(mailbox, 0, SHA-256 of the bytes, internal date,
//! UID)`, which a lookup finds by its prefix, and `(mailbox, 1, UID) → SHA-256`, which
//! finds the first row again when the message goes and gives a copy its rows without
//! reading its body. A hit is checked against the message record before it counts.
//! Messages stored before the index existed are indexed once when the store opens
//! ([`Store::index_unindexed_messages`]).

use crate::schema::{decode, key, MessageRecord};
use crate::tx::Tx;
use crate::types::{InternalDate, MailboxId};
use crate::{Store, StoreError};
use sha2::{Digest as _, Sha256};
use std::collections::HashSet;

/// The SHA-256 of a message's bytes.
pub(crate) type Digest = [u8; 32];

/// The counter that says every message of the store is indexed.
const INDEXED: &str = "duplicate-index";
/// Messages indexed per transaction when the store opens.
const BATCH: usize = 256;

pub(crate) fn digest(raw: &[u8]) -> Digest {
    Sha256::digest(raw).into()
}

/// Writes the rows of message `uid`.
pub(crate) fn index(
    tx: &mut Tx<'_>,
    mailbox: MailboxId,
    uid: u32,
    digest: &Digest,
    date: InternalDate,
) {
    tx.put(
        key::duplicate(mailbox, digest, date.unix_seconds, Some(uid)),
        Vec::new(),
    );
    tx.put(key::digest_of(mailbox, uid), digest.to_vec());
}

fn stored_digest(tx: &Tx<'_>, mailbox: MailboxId, uid: u32) -> Result<Option<Digest>, StoreError> {
    let k = key::digest_of(mailbox, uid);
    tx.get(&k)?
        .map(|bytes| {
            Digest::try_from(bytes.as_slice())
                .map_err(|_| StoreError::corrupt(&k, "a digest is not 32 bytes"))
        })
        .transpose()
}

/// Removes the rows of message `uid`, whose record is being removed.
pub(crate) fn unindex(
    tx: &mut Tx<'_>,
    mailbox: MailboxId,
    uid: u32,
    date: InternalDate,
) -> Result<(), StoreError> {
    if let Some(digest) = stored_digest(tx, mailbox, uid)? {
        tx.delete(key::duplicate(
            mailbox,
            &digest,
            date.unix_seconds,
            Some(uid),
        ));
        tx.delete(key::digest_of(mailbox, uid));
    }
    Ok(())
}

/// Gives `to`'s new message `new_uid`, a copy of `from`'s `uid` with internal date
/// `date`, the rows of its bytes (none if the original has none).
pub(crate) fn index_copy(
    tx: &mut Tx<'_>,
    (from, uid): (MailboxId, u32),
    (to, new_uid): (MailboxId, u32),
    date: InternalDate,
) -> Result<(), StoreError> {
    if let Some(digest) = stored_digest(tx, from, uid)? {
        index(tx, to, new_uid, &digest, date);
    }
    Ok(())
}

/// Removes every row of a mailbox that is being deleted.
pub(crate) fn forget_mailbox(tx: &mut Tx<'_>, mailbox: MailboxId) -> Result<(), StoreError> {
    let keys: Vec<Vec<u8>> = tx
        .scan_committed(&key::duplicates_of(mailbox))
        .map(|entry| entry.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    for k in keys {
        tx.delete(k);
    }
    Ok(())
}

/// The duplicates of one batch of messages: those already in the mailbox, and those
/// that repeat an earlier message of the batch.
#[derive(Debug, Default)]
pub(crate) struct DuplicateCheck {
    batch: HashSet<(Digest, i64)>,
}

impl DuplicateCheck {
    /// True when `mailbox` (as committed) or the batch so far holds a message with these
    /// bytes and internal date; otherwise the message joins the batch.
    pub fn is_duplicate(
        &mut self,
        tx: &Tx<'_>,
        mailbox: MailboxId,
        digest: &Digest,
        date: InternalDate,
    ) -> Result<bool, StoreError> {
        if !self.batch.insert((*digest, date.unix_seconds)) {
            return Ok(true);
        }
        let prefix = key::duplicate(mailbox, digest, date.unix_seconds, None);
        for entry in tx.scan_committed(&prefix) {
            let (k, _) = entry?;
            let uid = key::uid_of_duplicate(&k)
                .ok_or_else(|| StoreError::corrupt(&k, "duplicate row without a UID"))?;
            if tx.get(&key::message(mailbox, uid))?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Store {
    /// Indexes every message stored before the index existed; returns how many there
    /// were. Once done, a counter makes it one read per open; interrupted, it goes on
    /// where it stopped (indexed messages are skipped), a batch per transaction, each
    /// body read in pieces.
    pub(crate) fn index_unindexed_messages(&self) -> Result<usize, StoreError> {
        let counter = key::counter(INDEXED);
        if self.read::<u64>(&counter)? == Some(1) {
            return Ok(0);
        }
        let mut batch = Vec::with_capacity(BATCH);
        let mut indexed = 0;
        for entry in self.engine().scan_prefix(&[key::MESSAGE]) {
            let (k, v) = entry?;
            let (mailbox, uid) = k
                .get(1..9)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .zip(key::uid_of(&k))
                .map(|(id, uid)| (MailboxId(u64::from_be_bytes(id)), uid))
                .ok_or_else(|| StoreError::corrupt(&k, "message key without mailbox or UID"))?;
            if self.engine().get(&key::digest_of(mailbox, uid))?.is_some() {
                continue;
            }
            let record: MessageRecord = decode(&k, &v)?;
            batch.push((
                mailbox,
                uid,
                self.body_digest(&record)?,
                record.internal_date,
            ));
            if batch.len() == BATCH {
                indexed += self.write_index(std::mem::take(&mut batch))?;
            }
        }
        indexed += self.write_index(batch)?;
        self.write(|tx| {
            tx.put_record(counter, &1u64)?;
            Ok(Ok(()))
        })?
        .map_err(|refusal| StoreError::Encode(refusal.to_string()))?;
        if indexed > 0 {
            tracing::info!(
                messages = indexed,
                "indexed messages stored before the duplicate index"
            );
        }
        Ok(indexed)
    }

    /// The SHA-256 of a stored body, read a chunk at a time.
    fn body_digest(&self, record: &MessageRecord) -> Result<Digest, StoreError> {
        let mut hasher = Sha256::new();
        let piece = crate::blob::CHUNK_SIZE as u32;
        let mut offset = 0u32;
        while offset < record.size {
            let end = offset.saturating_add(piece);
            hasher.update(self.read_body_range(record.blob, offset..end)?);
            offset = end;
        }
        Ok(hasher.finalize().into())
    }

    fn write_index(
        &self,
        batch: Vec<(MailboxId, u32, Digest, InternalDate)>,
    ) -> Result<usize, StoreError> {
        let count = batch.len();
        if count == 0 {
            return Ok(0);
        }
        self.write(|tx| {
            for (mailbox, uid, digest, date) in &batch {
                index(tx, *mailbox, *uid, digest, *date);
            }
            Ok(Ok(()))
        })?
        .map_err(|refusal| StoreError::Encode(refusal.to_string()))?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Flags, MailboxName, Username};
    use crate::{Duplicates, ExpungeScope, NewMessage};

    fn message(raw: &'static [u8], unix_seconds: i64) -> NewMessage<'static> {
        NewMessage {
            raw,
            flags: Flags::default(),
            internal_date: InternalDate {
                unix_seconds,
                offset_minutes: 0,
            },
        }
    }

    fn rows(store: &Store, mailbox: MailboxId) -> usize {
        store
            .engine()
            .scan_prefix(&key::duplicates_of(mailbox))
            .count()
    }

    fn setup(store: &Store) -> (Username, MailboxId, MailboxId) {
        let user = Username::parse("ann").unwrap();
        store.add_user(&user, "pw").unwrap().unwrap();
        let inbox = store
            .mailbox(&user, &MailboxName::inbox())
            .unwrap()
            .unwrap();
        let archive = store
            .mailbox(&user, &MailboxName::parse("Archive").unwrap())
            .unwrap()
            .unwrap();
        (user, inbox.id, archive.id)
    }

    #[test]
    fn the_same_bytes_and_date_are_skipped_other_dates_and_bytes_are_not() {
        let store = Store::temporary().unwrap();
        let (user, inbox, _) = setup(&store);
        let first = [
            message(b"Subject: a\n\nx\n", 100),
            message(b"Subject: b\n\ny\n", 100),
        ];
        store.append(inbox, &first, &user).unwrap().unwrap();
        let again = [
            message(b"Subject: a\n\nx\n", 100),
            message(b"Subject: a\n\nx\n", 101),
            message(b"Subject: c\n\nz\n", 100),
            message(b"Subject: c\n\nz\n", 100),
            message(b"Subject: b\n\ny\n", 100),
        ];
        let appended = store
            .append_with(inbox, &again, &user, Duplicates::Skip)
            .unwrap()
            .unwrap();
        assert_eq!(appended.uids, vec![3, 4]);
        assert_eq!(appended.duplicates, vec![0, 3, 4]);
        let kept = store
            .append_with(inbox, &again[..1], &user, Duplicates::Store)
            .unwrap()
            .unwrap();
        assert_eq!((kept.uids, kept.duplicates), (vec![5], vec![]));
        assert_eq!(rows(&store, inbox), 2 * 5);
    }

    #[test]
    fn rows_go_with_their_messages_and_copies_get_their_own() {
        let store = Store::temporary().unwrap();
        let (user, inbox, archive) = setup(&store);
        let messages = [
            message(b"Subject: a\n\nx\n", 100),
            message(b"Subject: b\n\ny\n", 100),
        ];
        store.append(inbox, &messages, &user).unwrap().unwrap();
        store
            .copy_messages(inbox, &[1], archive, true, &user)
            .unwrap()
            .unwrap();
        assert_eq!(rows(&store, archive), 2);
        let copied = store
            .append_with(archive, &messages[..1], &user, Duplicates::Skip)
            .unwrap()
            .unwrap();
        assert_eq!(copied.duplicates, vec![0], "a copy counts as stored");
        store
            .move_messages(inbox, &[2], archive, true, &user)
            .unwrap()
            .unwrap();
        assert_eq!((rows(&store, inbox), rows(&store, archive)), (2, 4));
        store
            .expunge(inbox, ExpungeScope::Exactly(&[1]))
            .unwrap()
            .unwrap();
        assert_eq!(rows(&store, inbox), 0);
        let back = store
            .append_with(inbox, &messages, &user, Duplicates::Skip)
            .unwrap()
            .unwrap();
        assert_eq!(back.uids.len(), 2, "expunged messages are not duplicates");
        store
            .delete_mailbox(&user, &MailboxName::parse("Archive").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(rows(&store, archive), 0);
    }

    #[test]
    fn messages_stored_before_the_index_are_indexed_once_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let (user, inbox) = {
            let store = Store::open(dir.path()).unwrap();
            let (user, inbox, _) = setup(&store);
            let big: &'static [u8] = Box::leak(
                [&b"Subject: big\n\n"[..], &vec![b'x'; 600_000]]
                    .concat()
                    .into_boxed_slice(),
            );
            let messages = [message(b"Subject: a\n\nx\n", 100), message(big, 100)];
            store.append(inbox, &messages, &user).unwrap().unwrap();
            // What a store written before the index looks like.
            let keys: Vec<Vec<u8>> = store
                .engine()
                .scan_prefix(&key::duplicates_of(inbox))
                .map(|e| e.unwrap().0)
                .collect();
            store
                .write(|tx| {
                    keys.into_iter().for_each(|k| tx.delete(k));
                    tx.delete(key::counter(INDEXED));
                    Ok(Ok(()))
                })
                .unwrap()
                .unwrap();
            assert_eq!(rows(&store, inbox), 0);
            (user, inbox)
        };
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(rows(&store, inbox), 4);
        assert_eq!(store.index_unindexed_messages().unwrap(), 0, "once only");
        let big = store
            .read_body(store.message(inbox, 2).unwrap().unwrap().blob)
            .unwrap();
        let again = [NewMessage {
            raw: &big,
            ..message(b"", 100)
        }];
        let appended = store
            .append_with(inbox, &again, &user, Duplicates::Skip)
            .unwrap()
            .unwrap();
        assert_eq!(appended.duplicates, vec![0]);
    }
}
