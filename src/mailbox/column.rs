//! What a Mailbox actor remembers of its mailbox while it runs: every message's UID,
//! flags (the owner's) and modseq, and HIGHESTMODSEQ. Loaded from the store by the first
//! SELECT and kept up to date by every change the actor publishes, it is what later
//! SELECTs start from: a mailbox already open elsewhere is selected without reading a
//! message record.

use super::Changes;
use mailhive_store::{Flags, MailboxId, Store, StoreError};

#[derive(Debug, Clone, Default)]
pub(super) struct Column {
    pub uids: Vec<u32>,
    pub flags: Vec<Flags>,
    pub modseqs: Vec<u64>,
    pub highest_modseq: u64,
}

impl Column {
    /// Reads every message of `mailbox`.
    pub fn load(store: &Store, mailbox: MailboxId) -> Result<Column, StoreError> {
        let mut column = Column {
            highest_modseq: store
                .mailbox_by_id(mailbox)?
                .map_or(0, |info| info.highest_modseq),
            ..Column::default()
        };
        for message in store.messages(mailbox, 1..=u32::MAX) {
            let message = message?;
            column.uids.push(message.uid);
            column.flags.push(message.flags);
            column.modseqs.push(message.modseq);
        }
        Ok(column)
    }

    /// The UIDs of the messages flagged \Deleted, ascending.
    pub fn deleted(&self) -> Vec<u32> {
        self.uids
            .iter()
            .zip(&self.flags)
            .filter(|(_, flags)| flags.is_deleted())
            .map(|(&uid, _)| uid)
            .collect()
    }

    /// Takes in what the actor publishes (a change it made, or one it was told of).
    pub fn apply(&mut self, changes: &Changes) {
        for (uid, flags, modseq) in &changes.appended {
            if self.uids.last().is_none_or(|last| uid > last) {
                self.uids.push(*uid);
                self.flags.push(flags.clone());
                self.modseqs.push(*modseq);
            }
        }
        for (uid, flags, modseq) in &changes.flags {
            if let Ok(i) = self.uids.binary_search(uid) {
                if *modseq >= self.modseqs[i] {
                    self.flags[i] = flags.clone();
                    self.modseqs[i] = *modseq;
                }
            }
        }
        remove_uids(
            (&mut self.uids, &mut self.flags, &mut self.modseqs),
            &changes.expunged,
            |_, _| {},
        );
        self.highest_modseq = self.highest_modseq.max(changes.highest_modseq);
    }
}

/// Removes from the parallel columns of messages (UIDs, flags, modseqs) those whose
/// UIDs `gone` holds (ascending, without repeats; UIDs not there are skipped), in one
/// pass whatever their number. `removed(kept, uid)` hears of each in order, with how
/// many messages before it stay.
pub(crate) fn remove_uids(
    (uids, flags, modseqs): (&mut Vec<u32>, &mut Vec<Flags>, &mut Vec<u64>),
    gone: &[u32],
    mut removed: impl FnMut(usize, u32),
) {
    if gone.is_empty() {
        return;
    }
    let mut next_gone = 0;
    let mut kept = 0;
    for read in 0..uids.len() {
        let uid = uids[read];
        next_gone += gone[next_gone..].partition_point(|&g| g < uid);
        if gone.get(next_gone) == Some(&uid) {
            removed(kept, uid);
            next_gone += 1;
            continue;
        }
        uids[kept] = uid;
        flags.swap(kept, read);
        modseqs[kept] = modseqs[read];
        kept += 1;
    }
    uids.truncate(kept);
    flags.truncate(kept);
    modseqs.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailhive_store::SystemFlags;

    fn flagged() -> Flags {
        Flags::new(SystemFlags::FLAGGED, [])
    }

    #[test]
    fn changes_are_applied_once_in_order() {
        let mut column = Column {
            uids: vec![1, 2, 3, 4],
            flags: vec![Flags::default(); 4],
            modseqs: vec![1; 4],
            highest_modseq: 1,
        };
        let mut changes = Changes::new(MailboxId(1));
        changes.appended = vec![(5, Flags::default(), 2), (3, Flags::default(), 2)];
        changes.flags = vec![(2, flagged(), 3), (9, flagged(), 3)];
        changes.expunged = vec![1, 4, 8];
        changes.highest_modseq = 4;
        column.apply(&changes);
        assert_eq!(column.uids, [2, 3, 5]);
        assert_eq!(column.modseqs, [3, 1, 2]);
        assert_eq!(column.flags[0], flagged());
        assert_eq!(column.highest_modseq, 4);
        // A stale report of the same message changes nothing.
        let mut stale = Changes::new(MailboxId(1));
        stale.flags = vec![(2, Flags::default(), 2)];
        column.apply(&stale);
        assert_eq!(column.flags[0], flagged());
    }

    #[test]
    fn deleted_lists_the_messages_flagged_deleted_as_changes_leave_them() {
        let deleted = || Flags::new(SystemFlags::DELETED, []);
        let mut column = Column {
            uids: vec![1, 2, 3],
            flags: vec![deleted(), Flags::default(), deleted()],
            modseqs: vec![1; 3],
            highest_modseq: 1,
        };
        assert_eq!(column.deleted(), [1, 3]);
        let mut changes = Changes::new(MailboxId(1));
        changes.appended = vec![(4, deleted(), 2)];
        changes.flags = vec![(1, Flags::default(), 2), (2, deleted(), 2)];
        column.apply(&changes);
        assert_eq!(column.deleted(), [2, 3, 4]);
    }
}
