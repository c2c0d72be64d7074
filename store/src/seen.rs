//! \Seen per user on shared mailboxes (as Cyrus and Dovecot keep it): the owner's
//! \Seen is the message's own flag; everyone else the mailbox is shared with has their
//! own set of seen UIDs, one record per (mailbox, user), kept as UID ranges (mail is
//! mostly read in runs, so a set stays a few ranges long). Sets hold only UIDs that
//! exist: an expunge removes its UIDs from every set of the mailbox in the same
//! transaction, so a set's size is the user's count of seen messages.

use crate::schema::key;
use crate::tx::Tx;
use crate::types::{MailboxId, Username};
use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// A set of UIDs as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UidSet(Vec<(u32, u32)>);

impl UidSet {
    pub fn contains(&self, uid: u32) -> bool {
        let i = self.0.partition_point(|&(_, high)| high < uid);
        self.0.get(i).is_some_and(|&(low, _)| low <= uid)
    }

    /// How many UIDs the set holds.
    pub fn len(&self) -> u64 {
        self.0
            .iter()
            .map(|&(low, high)| u64::from(high - low) + 1)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn insert(&mut self, uid: u32) {
        if self.contains(uid) {
            return;
        }
        let i = self.0.partition_point(|&(_, high)| high < uid);
        let joins_left = i > 0 && self.0[i - 1].1.checked_add(1) == Some(uid);
        let joins_right = self
            .0
            .get(i)
            .is_some_and(|&(low, _)| uid.checked_add(1) == Some(low));
        match (joins_left, joins_right) {
            (true, true) => {
                self.0[i - 1].1 = self.0[i].1;
                self.0.remove(i);
            }
            (true, false) => self.0[i - 1].1 = uid,
            (false, true) => self.0[i].0 = uid,
            (false, false) => self.0.insert(i, (uid, uid)),
        }
    }

    pub fn remove(&mut self, uid: u32) {
        let i = self.0.partition_point(|&(_, high)| high < uid);
        let Some(&(low, high)) = self.0.get(i).filter(|&&(low, _)| low <= uid) else {
            return;
        };
        match (low == uid, high == uid) {
            (true, true) => {
                self.0.remove(i);
            }
            (true, false) => self.0[i].0 = uid + 1,
            (false, true) => self.0[i].1 = uid - 1,
            (false, false) => {
                self.0[i].1 = uid - 1;
                self.0.insert(i + 1, (uid + 1, high));
            }
        }
    }
}

pub(crate) fn load(tx: &Tx<'_>, mailbox: MailboxId, user: &Username) -> Result<UidSet, StoreError> {
    Ok(tx
        .record(&key::seen(mailbox, Some(user)))?
        .unwrap_or_default())
}

pub(crate) fn save(
    tx: &mut Tx<'_>,
    mailbox: MailboxId,
    user: &Username,
    set: &UidSet,
) -> Result<(), StoreError> {
    let k = key::seen(mailbox, Some(user));
    if set.is_empty() {
        tx.delete(k);
        Ok(())
    } else {
        tx.put_record(k, set)
    }
}

/// Removes `uids` (just expunged) from every user's set of `mailbox`.
pub(crate) fn forget_uids(
    tx: &mut Tx<'_>,
    mailbox: MailboxId,
    uids: &[u32],
) -> Result<(), StoreError> {
    if uids.is_empty() {
        return Ok(());
    }
    let keys: Vec<Vec<u8>> = tx
        .scan_committed(&key::seen(mailbox, None))
        .map(|entry| entry.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    for k in keys {
        // Read through the transaction: a set it wrote already wins.
        let Some(mut set) = tx.record::<UidSet>(&k)? else {
            continue;
        };
        for &uid in uids {
            set.remove(uid);
        }
        if set.is_empty() {
            tx.delete(k);
        } else {
            tx.put_record(k, &set)?;
        }
    }
    Ok(())
}

/// Removes every user's set of `mailbox` (the mailbox is being deleted).
pub(crate) fn forget_mailbox(tx: &mut Tx<'_>, mailbox: MailboxId) -> Result<(), StoreError> {
    let keys: Vec<Vec<u8>> = tx
        .scan_committed(&key::seen(mailbox, None))
        .map(|entry| entry.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    for k in keys {
        tx.delete(k);
    }
    Ok(())
}

/// Removes `user`'s set of `mailbox` (their rights on it are gone).
pub(crate) fn forget_user(tx: &mut Tx<'_>, mailbox: MailboxId, user: &Username) {
    tx.delete(key::seen(mailbox, Some(user)));
}

impl Store {
    /// The UIDs of `mailbox` that `user`, who is not its owner, has seen.
    pub fn seen_by(&self, mailbox: MailboxId, user: &Username) -> Result<UidSet, StoreError> {
        Ok(self
            .read(&key::seen(mailbox, Some(user)))?
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_keep_ranges_merged() {
        let mut set = UidSet::default();
        for uid in [5, 3, 4, 10, 1, 2, 9] {
            set.insert(uid);
        }
        assert_eq!(set.0, [(1, 5), (9, 10)]);
        assert_eq!(set.len(), 7);
        set.remove(3);
        assert_eq!(set.0, [(1, 2), (4, 5), (9, 10)]);
        set.remove(9);
        set.remove(1);
        set.remove(7);
        assert_eq!(set.0, [(2, 2), (4, 5), (10, 10)]);
        assert!(set.contains(4) && !set.contains(3) && set.contains(10));
        set.insert(3);
        assert_eq!(set.0, [(2, 5), (10, 10)]);
        set.insert(u32::MAX);
        assert!(set.contains(u32::MAX));
    }
}
