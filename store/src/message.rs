//! Messages in a mailbox: append, flag changes, expunge, copy and move.
//!
//! A message is one record keyed by (mailbox id, UID), pointing at a shared body. Every
//! operation rewrites only the records it names plus the mailbox's fixed-size record
//! (counters, UIDNEXT, HIGHESTMODSEQ), so its cost does not grow with the mailbox.

use crate::blob::{add_reference, drop_reference, PreparedBlob, BLOB_COUNTER};
use crate::duplicates::{digest, Digest, DuplicateCheck};
use crate::engine::Direct;
use crate::mailbox::mailbox_record;
use crate::schema::{decode, key, MailboxRecord, MessageRecord};
use crate::tx::Tx;
use crate::types::{BlobId, Flags, InternalDate, MailboxId, SystemFlags, Username};
use crate::{Outcome, Refusal, Store, StoreError};
use std::collections::HashSet;
use std::ops::RangeInclusive;

/// Distinct keywords a mailbox may hold (its FLAGS list stays readable).
pub const MAX_KEYWORDS: usize = 256;

/// A message to append.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub raw: &'a [u8],
    pub flags: Flags,
    pub internal_date: InternalDate,
}

/// One stored message as SELECT, FETCH and SEARCH see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    pub uid: u32,
    pub blob: BlobId,
    pub flags: Flags,
    pub internal_date: InternalDate,
    pub size: u32,
    /// The size in wire form (CRLF line endings): what POP3 and IMAP announce and send.
    pub wire_size: u32,
    pub modseq: u64,
}

impl MessageInfo {
    fn new(uid: u32, r: MessageRecord) -> Self {
        MessageInfo {
            uid,
            blob: r.blob,
            flags: r.flags,
            internal_date: r.internal_date,
            size: r.size,
            wire_size: r.wire_size,
            modseq: r.modseq,
        }
    }
}

/// A STORE operation on flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagChange {
    Add(Flags),
    Remove(Flags),
    Replace(Flags),
    /// Replaces every flag but \Seen, which stays as it is.
    ReplaceExceptSeen(Flags),
}

impl FlagChange {
    fn apply(&self, current: &Flags) -> Flags {
        match self {
            FlagChange::Replace(new) => new.clone(),
            FlagChange::ReplaceExceptSeen(new) => new.clone().with_seen(current.is_seen()),
            FlagChange::Add(add) => {
                let mut out = current.clone();
                out.system.insert(add.system);
                for k in add.keywords() {
                    out.add_keyword(k.clone());
                }
                out
            }
            FlagChange::Remove(remove) => {
                let mut out = current.clone();
                out.system = out.system.difference(remove.system);
                for k in remove.keywords() {
                    out.remove_keyword(k);
                }
                out
            }
        }
    }
}

impl FlagChange {
    /// The change without \Seen: what a user's STORE does to a mailbox shared with them,
    /// whose \Seen is kept per user (see [`crate::seen`]).
    fn shared_part(&self) -> FlagChange {
        match self {
            FlagChange::Add(flags) => FlagChange::Add(flags.clone().with_seen(false)),
            FlagChange::Remove(flags) => FlagChange::Remove(flags.clone().with_seen(false)),
            FlagChange::Replace(flags) | FlagChange::ReplaceExceptSeen(flags) => {
                FlagChange::ReplaceExceptSeen(flags.clone())
            }
        }
    }

    /// What the change does to \Seen: sets it, clears it, or (`None`) leaves it.
    fn seen_part(&self) -> Option<bool> {
        match self {
            FlagChange::Add(flags) => flags.is_seen().then_some(true),
            FlagChange::Remove(flags) => flags.is_seen().then_some(false),
            FlagChange::Replace(flags) => Some(flags.is_seen()),
            FlagChange::ReplaceExceptSeen(_) => None,
        }
    }
}

/// What a conditional STORE did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagsStored {
    /// Messages whose stored flags (or the sharer's own \Seen) changed, with their new
    /// flags and modseq.
    pub changed: Vec<MessageInfo>,
    /// UIDs left alone because they changed after UNCHANGEDSINCE, ascending as named.
    pub modified: Vec<u32>,
}

/// Whether an append stores a message its mailbox already holds (the same bytes and
/// internal date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    Store,
    Skip,
}

/// What an append did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appended {
    /// The UIDs of the messages stored, in order.
    pub uids: Vec<u32>,
    /// The positions, among the messages given, of those left out as duplicates.
    pub duplicates: Vec<usize>,
}

/// Which messages an expunge removes.
#[derive(Debug, Clone, Copy)]
pub enum ExpungeScope<'a> {
    /// Every message with \Deleted (EXPUNGE, CLOSE).
    AllDeleted,
    /// The listed UIDs that have \Deleted (UID EXPUNGE).
    DeletedAmong(&'a [u32]),
    /// Exactly the listed UIDs, whatever their flags (POP3 QUIT, MOVE).
    Exactly(&'a [u32]),
}

/// Adds the message's keywords to the mailbox's list, refusing past the limit.
fn note_keywords(mailbox: &mut MailboxRecord, flags: &Flags) -> Result<(), Refusal> {
    for k in flags.keywords() {
        if let Err(at) = mailbox.keywords.binary_search(k) {
            if mailbox.keywords.len() >= MAX_KEYWORDS {
                return Err(Refusal::TooManyKeywords { max: MAX_KEYWORDS });
            }
            mailbox.keywords.insert(at, k.clone());
        }
    }
    Ok(())
}

/// Adds (`sign = 1`) or removes (`sign = -1`) a message from the mailbox's counters and
/// from its owner's quota usage.
fn count(tx: &mut Tx<'_>, mailbox: &mut MailboxRecord, message: &MessageRecord, sign: i64) {
    tx.charge(&mailbox.owner, sign * i64::from(message.wire_size), sign);
    let adjust = |v: u32| (i64::from(v) + sign).clamp(0, u32::MAX as i64) as u32;
    mailbox.messages = adjust(mailbox.messages);
    if !message.flags.is_seen() {
        mailbox.unseen = adjust(mailbox.unseen);
    }
    let bytes =
        i64::try_from(mailbox.bytes).unwrap_or(i64::MAX) + sign * i64::from(message.wire_size);
    mailbox.bytes = bytes.max(0) as u64;
}

fn load_mailbox(tx: &Tx<'_>, id: MailboxId) -> Result<Option<MailboxRecord>, StoreError> {
    mailbox_record(tx, id)
}

/// Writes `record` as the next UID of `mailbox`, returning that UID.
fn add_message(
    tx: &mut Tx<'_>,
    id: MailboxId,
    mailbox: &mut MailboxRecord,
    record: MessageRecord,
) -> Outcome<u32> {
    if mailbox.uid_next == u32::MAX {
        return Ok(Err(Refusal::UidsExhausted));
    }
    if let Err(refusal) = note_keywords(mailbox, &record.flags) {
        return Ok(Err(refusal));
    }
    let uid = mailbox.uid_next;
    mailbox.uid_next += 1;
    count(tx, mailbox, &record, 1);
    tx.put_record(key::message(id, uid), &record)?;
    Ok(Ok(uid))
}

/// Removes the listed messages (with `only_deleted`, those with \Deleted) as the
/// mailbox's next modseq, which it takes if any went; returns the UIDs removed, which
/// the expunge log remembers.
/// Reads the records of `uids` ahead, for a loop over them (see [`Tx::read_ahead`]).
fn read_messages_ahead(
    tx: &mut Tx<'_>,
    mailbox: MailboxId,
    uids: &[u32],
) -> Result<(), StoreError> {
    tx.read_ahead(uids.iter().map(|&uid| key::message(mailbox, uid)).collect())
}

fn remove_messages(
    tx: &mut Tx<'_>,
    id: MailboxId,
    mailbox: &mut MailboxRecord,
    uids: impl Iterator<Item = u32>,
    only_deleted: bool,
) -> Result<Vec<u32>, StoreError> {
    let mut removed = Vec::new();
    for uid in uids {
        let k = key::message(id, uid);
        let Some(record) = tx.record::<MessageRecord>(&k)? else {
            continue;
        };
        if only_deleted && !record.flags.system.contains(SystemFlags::DELETED) {
            continue;
        }
        count(tx, mailbox, &record, -1);
        drop_reference(tx, record.blob)?;
        crate::duplicates::unindex(tx, id, uid, record.internal_date)?;
        tx.delete(k);
        removed.push(uid);
    }
    if !removed.is_empty() {
        mailbox.highest_modseq += 1;
        crate::vanished::remember(tx, id, mailbox.highest_modseq, &removed)?;
    }
    crate::seen::forget_uids(tx, id, &removed)?;
    Ok(removed)
}

impl Store {
    /// Appends messages in order, as `by` does, and returns their UIDs. When `by` is
    /// not the owner, a message's \Seen goes to `by`'s own set (see [`crate::seen`]) in
    /// the same atomic batch. Bodies are parsed and compressed before the writer lock is
    /// taken; the batch is durable on return.
    pub fn append(
        &self,
        mailbox: MailboxId,
        messages: &[NewMessage<'_>],
        by: &Username,
    ) -> Outcome<Vec<u32>> {
        Ok(self
            .append_with(mailbox, messages, by, Duplicates::Store)?
            .map(|appended| appended.uids))
    }

    /// [`Store::append`], which with [`Duplicates::Skip`] leaves out every message whose
    /// bytes and internal date equal those of a message already in the mailbox or of an
    /// earlier one of `messages` (see [`crate::duplicates`]): found by a look before the
    /// transaction, which spares them their parse and compression, and looked for again
    /// inside it if the mailbox received messages in between.
    pub fn append_with(
        &self,
        mailbox: MailboxId,
        messages: &[NewMessage<'_>],
        by: &Username,
        duplicates: Duplicates,
    ) -> Outcome<Appended> {
        let digests: Vec<Digest> = messages.iter().map(|m| digest(m.raw)).collect();
        let mut wanted: Vec<usize> = (0..messages.len()).collect();
        // The mailbox's UIDNEXT before the look: if the transaction finds it unchanged,
        // nothing was added since, and what the look found still holds.
        let mut looked_at = None;
        if duplicates == Duplicates::Skip {
            let committed = Direct(self.engine());
            let look = Tx::new(&committed);
            looked_at = load_mailbox(&look, mailbox)?.map(|record| record.uid_next);
            let mut check = DuplicateCheck::default();
            let mut fresh = Vec::with_capacity(wanted.len());
            for i in wanted {
                if !check.is_duplicate(&look, mailbox, &digests[i], messages[i].internal_date)? {
                    fresh.push(i);
                }
            }
            wanted = fresh;
        }
        let chosen: Vec<NewMessage<'_>> = wanted.iter().map(|&i| messages[i].clone()).collect();
        let prepared = match self.prepare(&chosen) {
            Ok(prepared) => prepared,
            Err((e, written)) => {
                self.discard_objects(written.into_iter());
                return Err(e);
            }
        };
        let objects: Vec<u64> = prepared.iter().filter_map(PreparedBlob::object).collect();
        let result = self.write(|tx| {
            let Some(mut record) = load_mailbox(tx, mailbox)? else {
                return Ok(Err(Refusal::NoSuchMailbox));
            };
            record.highest_modseq += 1;
            // What the blobs' ids and the quota settlement will read, at once.
            tx.read_ahead(vec![
                key::counter(BLOB_COUNTER),
                key::account(&record.owner),
                key::quota(&record.owner),
            ])?;
            let mut own_seen = (&record.owner != by)
                .then(|| crate::seen::load(tx, mailbox, by))
                .transpose()?;
            let recheck = duplicates == Duplicates::Skip && looked_at != Some(record.uid_next);
            let mut check = DuplicateCheck::default();
            let mut appended = Appended::default();
            for (&i, blob) in wanted.iter().zip(prepared) {
                let message = &messages[i];
                if recheck && check.is_duplicate(tx, mailbox, &digests[i], message.internal_date)? {
                    // Stored by someone else since the look above.
                    if let Some(object) = blob.object() {
                        tx.delete_object_after_commit(object);
                    }
                    appended.duplicates.push(i);
                    continue;
                }
                let (size, wire_size) = (blob.size(), blob.wire_size());
                let seen = message.flags.is_seen();
                let message_record = MessageRecord {
                    blob: blob.insert(tx)?,
                    flags: message.flags.clone().with_seen(seen && own_seen.is_none()),
                    internal_date: message.internal_date,
                    size,
                    wire_size,
                    modseq: record.highest_modseq,
                };
                match add_message(tx, mailbox, &mut record, message_record)? {
                    Ok(uid) => {
                        crate::duplicates::index(
                            tx,
                            mailbox,
                            uid,
                            &digests[i],
                            message.internal_date,
                        );
                        if let (true, Some(set)) = (seen, own_seen.as_mut()) {
                            set.insert(uid);
                        }
                        appended.uids.push(uid);
                    }
                    Err(refusal) => return Ok(Err(refusal)),
                }
            }
            if let Some(set) = &own_seen {
                crate::seen::save(tx, mailbox, by, set)?;
            }
            tx.put_record(key::mailbox(mailbox), &record)?;
            Ok(Ok(appended))
        });
        if !matches!(result, Ok(Ok(_))) {
            self.discard_objects(objects.into_iter());
        }
        let mut appended = match result? {
            Ok(appended) => appended,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let looked: HashSet<usize> = wanted.into_iter().collect();
        appended
            .duplicates
            .extend((0..messages.len()).filter(|i| !looked.contains(i)));
        appended.duplicates.sort_unstable();
        Ok(Ok(appended))
    }

    /// Parses and compresses every message (writing large bodies out), spread over the
    /// machine's cores for a batch. On failure, returns the objects already written.
    fn prepare(
        &self,
        messages: &[NewMessage<'_>],
    ) -> Result<Vec<PreparedBlob>, (StoreError, Vec<u64>)> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per_thread = messages.len().div_ceil(threads).max(1);
        let results: Vec<Vec<Result<PreparedBlob, StoreError>>> =
            if messages.len() < 2 || threads < 2 {
                vec![messages
                    .iter()
                    .map(|m| PreparedBlob::new(m.raw, self.engine()))
                    .collect()]
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = messages
                        .chunks(per_thread)
                        .map(|part| {
                            scope.spawn(move || {
                                part.iter()
                                    .map(|m| PreparedBlob::new(m.raw, self.engine()))
                                    .collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or_else(|_| {
                                vec![Err(StoreError::Encode(
                                    "a message could not be prepared".into(),
                                ))]
                            })
                        })
                        .collect()
                })
            };
        let mut prepared = Vec::with_capacity(messages.len());
        let mut failure = None;
        for result in results.into_iter().flatten() {
            match result {
                Ok(blob) => prepared.push(blob),
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        match failure {
            None => Ok(prepared),
            Some(e) => Err((
                e,
                prepared.iter().filter_map(PreparedBlob::object).collect(),
            )),
        }
    }

    /// Removes objects written for an append that did not happen.
    fn discard_objects(&self, objects: impl Iterator<Item = u64>) {
        for object in objects {
            if let Err(e) = self.engine().delete_object(object) {
                tracing::warn!(object, error = %e, "could not remove an object of a failed append");
            }
        }
    }

    pub fn message(&self, mailbox: MailboxId, uid: u32) -> Result<Option<MessageInfo>, StoreError> {
        Ok(self
            .read::<MessageRecord>(&key::message(mailbox, uid))?
            .map(|r| MessageInfo::new(uid, r)))
    }

    /// The records of `uids`, in their order (`None` for one that is gone), read at once.
    pub fn messages_of(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
    ) -> Result<Vec<Option<MessageInfo>>, StoreError> {
        let keys: Vec<Vec<u8>> = uids.iter().map(|&uid| key::message(mailbox, uid)).collect();
        let values = self.engine().get_many(&keys)?;
        keys.iter()
            .zip(values)
            .zip(uids)
            .map(|((k, value), &uid)| {
                value
                    .map(|bytes| Ok(MessageInfo::new(uid, decode(k, &bytes)?)))
                    .transpose()
            })
            .collect()
    }

    /// The messages with UIDs in `uids`, in UID order, read as the iterator advances.
    pub fn messages(
        &self,
        mailbox: MailboxId,
        uids: RangeInclusive<u32>,
    ) -> impl Iterator<Item = Result<MessageInfo, StoreError>> + '_ {
        let start = key::message(mailbox, *uids.start());
        let end = match uids.end().checked_add(1) {
            Some(next) => key::message(mailbox, next),
            None => key::messages(MailboxId(mailbox.0 + 1)),
        };
        self.engine().scan_range(&start, &end).map(|entry| {
            let (k, v) = entry?;
            let uid = key::uid_of(&k)
                .ok_or_else(|| StoreError::corrupt(&k, "message key without UID"))?;
            Ok(MessageInfo::new(uid, decode(&k, &v)?))
        })
    }

    /// Every UID in the mailbox, ascending (the sequence-number map).
    pub fn uids(&self, mailbox: MailboxId) -> Result<Vec<u32>, StoreError> {
        self.engine()
            .scan_prefix(&key::messages(mailbox))
            .map(|entry| {
                let (k, _) = entry?;
                key::uid_of(&k).ok_or_else(|| StoreError::corrupt(&k, "message key without UID"))
            })
            .collect()
    }

    /// Changes the flags of the listed messages as `by` does; returns those whose stored
    /// flags changed, with their new flags and modseq. When `by` is not the owner, the
    /// change's \Seen goes to `by`'s own set (see [`crate::seen`]) and the rest to the
    /// messages, in one atomic batch. UIDs that no longer exist are skipped.
    pub fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        change: &FlagChange,
        by: &Username,
    ) -> Outcome<Vec<MessageInfo>> {
        Ok(self
            .conditional_store(mailbox, uids, change, by, None)?
            .map(|stored| stored.changed))
    }

    /// [`Store::store_flags`] with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3): a
    /// message whose modseq is above `unchanged_since` is left alone and listed in
    /// `modified`, decided in the same transaction as the change. A change to a
    /// sharer's own \Seen gives the message a new modseq too, so that their
    /// CHANGEDSINCE finds it.
    pub fn conditional_store(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        change: &FlagChange,
        by: &Username,
        unchanged_since: Option<u64>,
    ) -> Outcome<FlagsStored> {
        self.write(|tx| {
            let Some(mut record) = load_mailbox(tx, mailbox)? else {
                return Ok(Err(Refusal::NoSuchMailbox));
            };
            let (change, own_seen) = if &record.owner == by {
                (change.clone(), None)
            } else {
                (change.shared_part(), change.seen_part())
            };
            let mut own_set = match own_seen {
                Some(_) => Some(crate::seen::load(tx, mailbox, by)?),
                None => None,
            };
            let modseq = record.highest_modseq + 1;
            let mut stored = FlagsStored::default();
            read_messages_ahead(tx, mailbox, uids)?;
            for &uid in uids {
                let k = key::message(mailbox, uid);
                let Some(mut message) = tx.record::<MessageRecord>(&k)? else {
                    continue;
                };
                if unchanged_since.is_some_and(|since| message.modseq > since) {
                    stored.modified.push(uid);
                    continue;
                }
                let own_seen_changed = match (own_set.as_mut(), own_seen) {
                    (Some(set), Some(seen)) if set.contains(uid) != seen => {
                        if seen {
                            set.insert(uid);
                        } else {
                            set.remove(uid);
                        }
                        true
                    }
                    _ => false,
                };
                let flags = change.apply(&message.flags);
                if flags == message.flags && !own_seen_changed {
                    continue;
                }
                if let Err(refusal) = note_keywords(&mut record, &flags) {
                    return Ok(Err(refusal));
                }
                match (message.flags.is_seen(), flags.is_seen()) {
                    (false, true) => record.unseen = record.unseen.saturating_sub(1),
                    (true, false) => record.unseen += 1,
                    _ => {}
                }
                message.flags = flags;
                message.modseq = modseq;
                tx.put_record(k, &message)?;
                stored.changed.push(MessageInfo::new(uid, message));
            }
            if !stored.changed.is_empty() {
                record.highest_modseq = modseq;
                tx.put_record(key::mailbox(mailbox), &record)?;
            }
            if let Some(set) = &own_set {
                crate::seen::save(tx, mailbox, by, set)?;
            }
            Ok(Ok(stored))
        })
    }

    /// Removes messages; returns the UIDs removed, ascending.
    pub fn expunge(&self, mailbox: MailboxId, scope: ExpungeScope<'_>) -> Outcome<Vec<u32>> {
        let candidates: Vec<u32> = match scope {
            ExpungeScope::AllDeleted => self.uids(mailbox)?,
            ExpungeScope::DeletedAmong(uids) | ExpungeScope::Exactly(uids) => uids.to_vec(),
        };
        let only_deleted = !matches!(scope, ExpungeScope::Exactly(_));
        self.write(|tx| {
            let Some(mut record) = load_mailbox(tx, mailbox)? else {
                return Ok(Err(Refusal::NoSuchMailbox));
            };
            read_messages_ahead(tx, mailbox, &candidates)?;
            let mut removed = remove_messages(
                tx,
                mailbox,
                &mut record,
                candidates.iter().copied(),
                only_deleted,
            )?;
            if !removed.is_empty() {
                tx.put_record(key::mailbox(mailbox), &record)?;
            }
            removed.sort_unstable();
            Ok(Ok(removed))
        })
    }

    /// Copies messages to `to` without copying their bodies, as `copier` sees them;
    /// returns (source UID, new UID) pairs. With `keep_metadata` false the copies get no
    /// flags and the current time. \Seen is the copier's: their own on a mailbox shared
    /// with them, on either side (see [`crate::seen`]).
    pub fn copy_messages(
        &self,
        from: MailboxId,
        uids: &[u32],
        to: MailboxId,
        keep_metadata: bool,
        copier: &Username,
    ) -> Outcome<Vec<(u32, u32)>> {
        self.transfer(from, uids, to, keep_metadata, false, copier)
    }

    /// Like [`Store::copy_messages`], and removes the originals in the same atomic step.
    pub fn move_messages(
        &self,
        from: MailboxId,
        uids: &[u32],
        to: MailboxId,
        keep_metadata: bool,
        copier: &Username,
    ) -> Outcome<Vec<(u32, u32)>> {
        self.transfer(from, uids, to, keep_metadata, true, copier)
    }

    fn transfer(
        &self,
        from: MailboxId,
        uids: &[u32],
        to: MailboxId,
        keep_metadata: bool,
        remove_source: bool,
        copier: &Username,
    ) -> Outcome<Vec<(u32, u32)>> {
        self.write(|tx| {
            let (Some(mut source), Some(mut target)) =
                (load_mailbox(tx, from)?, load_mailbox(tx, to)?)
            else {
                return Ok(Err(Refusal::NoSuchMailbox));
            };
            // The copier's own \Seen where a side is shared with them.
            let seen_in_source = (&source.owner != copier)
                .then(|| crate::seen::load(tx, from, copier))
                .transpose()?;
            let mut seen_in_target = (&target.owner != copier)
                .then(|| crate::seen::load(tx, to, copier))
                .transpose()?;
            // Copying into the same mailbox must see its own counter updates.
            let same = from == to;
            target.highest_modseq += 1;
            let mut pairs = Vec::new();
            read_messages_ahead(tx, from, uids)?;
            for &uid in uids {
                let Some(original) = tx.record::<MessageRecord>(&key::message(from, uid))? else {
                    continue;
                };
                add_reference(tx, original.blob)?;
                let (mut flags, internal_date) = if keep_metadata {
                    (original.flags.clone(), original.internal_date)
                } else {
                    (Flags::default(), InternalDate::now())
                };
                if let (true, Some(seen)) = (keep_metadata, &seen_in_source) {
                    flags = flags.with_seen(seen.contains(uid));
                }
                let seen_by_copier = flags.is_seen();
                if seen_in_target.is_some() {
                    flags = flags.with_seen(false);
                }
                let copy = MessageRecord {
                    flags,
                    internal_date,
                    modseq: target.highest_modseq,
                    ..original
                };
                match add_message(tx, to, &mut target, copy)? {
                    Ok(new_uid) => {
                        crate::duplicates::index_copy(
                            tx,
                            (from, uid),
                            (to, new_uid),
                            internal_date,
                        )?;
                        if let (true, Some(seen)) = (seen_by_copier, seen_in_target.as_mut()) {
                            seen.insert(new_uid);
                        }
                        pairs.push((uid, new_uid));
                    }
                    Err(refusal) => return Ok(Err(refusal)),
                }
            }
            if let Some(seen) = &seen_in_target {
                crate::seen::save(tx, to, copier, seen)?;
            }
            let moved = pairs.iter().map(|(old, _)| *old);
            if remove_source && same {
                // A MOVE within one mailbox (RFC 6851 allows it): new UIDs, old ones gone.
                remove_messages(tx, from, &mut target, moved, false)?;
            } else if remove_source {
                remove_messages(tx, from, &mut source, moved, false)?;
                tx.put_record(key::mailbox(from), &source)?;
            }
            tx.put_record(key::mailbox(to), &target)?;
            Ok(Ok(pairs))
        })
    }
}
