//! The UIDs expunged from a mailbox, remembered for QRESYNC's VANISHED (RFC 7162 §3.2.5,
//! §3.2.10): one key per expunged UID, ordered by the modseq of its expunge, so that
//! "expunged after modseq m" is one range scan whose cost follows the answer, not the
//! mailbox.
//!
//! Retention: the last [`MAX_REMEMBERED`] expunged UIDs of each mailbox. When an expunge
//! pushes past it, the oldest are forgotten and the mailbox's log records the highest
//! modseq forgotten: an answer for an earlier modseq is then incomplete, and the
//! caller names every UID it cannot account for instead (VANISHED (EARLIER) may name
//! UIDs the client never saw, RFC 7162 §3.2.10). Expunging a UID twice is impossible
//! (UIDs are never reused), so the log only grows by real expunges.

use crate::schema::key;
use crate::tx::Tx;
use crate::types::MailboxId;
use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// Expunged UIDs remembered per mailbox (about 30 bytes of key each).
pub const MAX_REMEMBERED: u32 = 100_000;

/// The per-mailbox bookkeeping of the log.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct ExpungeLog {
    /// Entries in the log.
    remembered: u32,
    /// The highest modseq of a forgotten expunge (0: nothing forgotten).
    forgotten_through: u64,
}

/// The UIDs expunged after some modseq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vanished {
    /// Ascending.
    pub uids: Vec<u32>,
    /// False when expunges after that modseq were forgotten: `uids` is then only part of
    /// the answer.
    pub complete: bool,
}

fn log(tx: &Tx<'_>, mailbox: MailboxId) -> Result<ExpungeLog, StoreError> {
    Ok(tx.record(&key::expunge_log(mailbox))?.unwrap_or_default())
}

/// Remembers `uids` as expunged at `modseq` (the mailbox's new HIGHESTMODSEQ), forgetting
/// the oldest entries past [`MAX_REMEMBERED`].
pub(crate) fn remember(
    tx: &mut Tx<'_>,
    mailbox: MailboxId,
    modseq: u64,
    uids: &[u32],
) -> Result<(), StoreError> {
    if uids.is_empty() {
        return Ok(());
    }
    let mut state = log(tx, mailbox)?;
    let kept = uids.len().min(MAX_REMEMBERED as usize);
    if kept < uids.len() {
        // This expunge alone is more than the log holds: part of it is forgotten.
        state.forgotten_through = modseq;
    }
    for &uid in &uids[uids.len() - kept..] {
        tx.put_record(key::vanished(mailbox, modseq, uid), &())?;
    }
    let total = u64::from(state.remembered) + kept as u64;
    let excess = total.saturating_sub(u64::from(MAX_REMEMBERED));
    if excess > 0 {
        // The oldest entries are committed ones: this expunge's are the newest.
        let oldest: Vec<Vec<u8>> = tx
            .scan_committed(&key::vanished_of(mailbox))
            .take(excess as usize)
            .map(|entry| entry.map(|(k, _)| k))
            .collect::<Result<_, _>>()?;
        for k in oldest {
            if let Some(forgotten) = key::modseq_of_vanished(&k) {
                state.forgotten_through = state.forgotten_through.max(forgotten);
            }
            tx.delete(k);
        }
    }
    state.remembered = total.min(u64::from(MAX_REMEMBERED)) as u32;
    tx.put_record(key::expunge_log(mailbox), &state)
}

/// Removes the log of `mailbox` (it is being deleted).
pub(crate) fn forget_mailbox(tx: &mut Tx<'_>, mailbox: MailboxId) -> Result<(), StoreError> {
    let keys: Vec<Vec<u8>> = tx
        .scan_committed(&key::vanished_of(mailbox))
        .map(|entry| entry.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    for k in keys {
        tx.delete(k);
    }
    tx.delete(key::expunge_log(mailbox));
    Ok(())
}

impl Store {
    /// The UIDs of `mailbox` expunged after `modseq`: a scan of those entries only.
    pub fn vanished_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Vanished, StoreError> {
        let state: ExpungeLog = self.read(&key::expunge_log(mailbox))?.unwrap_or_default();
        let start = key::vanished(mailbox, modseq.saturating_add(1), 0);
        let end = key::vanished_of(MailboxId(mailbox.0.saturating_add(1)));
        let mut uids = Vec::new();
        for entry in self.engine().scan_range(&start, &end) {
            let (k, _) = entry?;
            uids.push(
                key::uid_of_vanished(&k)
                    .ok_or_else(|| StoreError::corrupt(&k, "expunge entry without a UID"))?,
            );
        }
        uids.sort_unstable();
        Ok(Vanished {
            uids,
            complete: modseq >= state.forgotten_through,
        })
    }
}
