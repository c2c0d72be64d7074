//! A POP3 maildrop: the user's INBOX as it was at login (RFC 1939 numbers messages from
//! 1 for the whole session), with the deletion marks of DELE. Nothing here touches the
//! store: only QUIT commits the marks.

use mailhive_store::{BlobId, MailboxId, MailboxName, Store, StoreError, Username};

/// One message of the snapshot.
#[derive(Debug, Clone)]
pub struct Entry {
    pub uid: u32,
    pub blob: BlobId,
    /// Octets in wire form: what LIST and STAT count and RETR sends.
    pub size: u32,
    pub deleted: bool,
    /// Retrieved in full with RETR (marked \Seen at QUIT).
    pub retrieved: bool,
    /// It had \Seen at login.
    pub seen: bool,
}

/// What is needed to send one message.
#[derive(Debug, Clone, Copy)]
pub struct MessageRef {
    pub mailbox: MailboxId,
    pub uid: u32,
    pub blob: BlobId,
    /// Octets in wire form.
    pub size: u32,
}

/// Why a message number cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    NoSuchMessage,
    Deleted,
}

impl Unusable {
    pub fn text(self) -> &'static str {
        match self {
            Unusable::NoSuchMessage => "no such message",
            Unusable::Deleted => "message is deleted",
        }
    }
}

#[derive(Debug)]
pub struct Maildrop {
    pub mailbox: MailboxId,
    uid_validity: u32,
    entries: Vec<Entry>,
}

impl Maildrop {
    /// Takes the snapshot of `user`'s INBOX.
    pub fn load(store: &Store, user: &Username) -> Result<Option<Maildrop>, StoreError> {
        let Some(inbox) = store.mailbox(user, &MailboxName::inbox())? else {
            return Ok(None);
        };
        let entries = store
            .messages(inbox.id, 1..=u32::MAX)
            .map(|m| {
                m.map(|m| Entry {
                    uid: m.uid,
                    blob: m.blob,
                    size: m.wire_size,
                    deleted: false,
                    retrieved: false,
                    seen: m.flags.is_seen(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(Maildrop {
            mailbox: inbox.id,
            uid_validity: inbox.uid_validity,
            entries,
        }))
    }

    /// Messages and octets not marked deleted (STAT).
    pub fn stat(&self) -> (usize, u64) {
        self.live().fold((0, 0), |(n, octets), (_, e)| {
            (n + 1, octets + u64::from(e.size))
        })
    }

    /// The messages not marked deleted, with their numbers.
    pub fn live(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.deleted)
            .map(|(i, e)| (i + 1, e))
    }

    /// Message `number`, if it exists and is not deleted.
    pub fn get(&self, number: u32) -> Result<&Entry, Unusable> {
        let entry = self
            .entries
            .get((number as usize).wrapping_sub(1))
            .ok_or(Unusable::NoSuchMessage)?;
        if entry.deleted {
            return Err(Unusable::Deleted);
        }
        Ok(entry)
    }

    pub fn mark_deleted(&mut self, number: u32) -> Result<(), Unusable> {
        self.get(number)?;
        self.entries[number as usize - 1].deleted = true;
        Ok(())
    }

    pub fn mark_retrieved(&mut self, number: u32) {
        if let Some(entry) = self.entries.get_mut((number as usize).wrapping_sub(1)) {
            entry.retrieved = true;
        }
    }

    /// RSET: unmarks every deletion.
    pub fn reset(&mut self) {
        for entry in &mut self.entries {
            entry.deleted = false;
        }
    }

    pub fn reference(&self, entry: &Entry) -> MessageRef {
        MessageRef {
            mailbox: self.mailbox,
            uid: entry.uid,
            blob: entry.blob,
            size: entry.size,
        }
    }

    /// The unique id of a message: UID and UIDVALIDITY, as Dovecot's default
    /// `%08Xu%08Xv`, so that it is stable across sessions and matches IMAP.
    pub fn unique_id(&self, entry: &Entry) -> String {
        format!("{:08X}{:08X}", entry.uid, self.uid_validity)
    }

    pub fn deleted_uids(&self) -> Vec<u32> {
        self.entries
            .iter()
            .filter(|e| e.deleted)
            .map(|e| e.uid)
            .collect()
    }

    /// Messages retrieved in this session that had no \Seen yet (and stay).
    pub fn newly_read_uids(&self) -> Vec<u32> {
        self.entries
            .iter()
            .filter(|e| e.retrieved && !e.deleted && !e.seen)
            .map(|e| e.uid)
            .collect()
    }
}
