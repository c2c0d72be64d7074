//! Changes another process made (SPEC §10: several servers on one PostgreSQL store).
//! The store hears of them ([`mailhive_store::engine::ForeignChange`]) and the Registry
//! passes each to the running actor of that mailbox, which reads its messages again,
//! publishes the difference to its watchers as if it had made the change, and keeps the
//! new column. An actor whose column is already as new does nothing.

use super::{claim_for, Changes, Column, MailboxActor, Registry};
use actix::prelude::*;
use mailhive_store::engine::ForeignChange;

/// Read the mailbox again: another process changed it, to `highest_modseq` (`None`:
/// perhaps, and by anything).
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Resync {
    highest_modseq: Option<u64>,
}

impl Registry {
    /// Passes a change another process committed to the actor of its mailbox, if one
    /// runs here (one that does not will read the store when it starts).
    pub fn foreign_change(&self, change: ForeignChange) {
        let actors = self.actors.lock().unwrap_or_else(|e| e.into_inner());
        match change {
            ForeignChange::Mailbox { id, highest_modseq } => {
                if let Some(actor) = actors.get(&id) {
                    actor.do_send(Resync {
                        highest_modseq: Some(highest_modseq),
                    });
                }
            }
            ForeignChange::Unknown => {
                for actor in actors.values() {
                    actor.do_send(Resync {
                        highest_modseq: None,
                    });
                }
            }
            ForeignChange::Settings | ForeignChange::Account { .. } => {}
        }
    }
}

impl Handler<Resync> for MailboxActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, Resync { highest_modseq }: Resync, _: &mut Context<Self>) -> Self::Result {
        let known = self.column.as_ref().map(|c| c.highest_modseq);
        let current = matches!((known, highest_modseq), (Some(k), Some(m)) if m != 0 && m <= k);
        // Taken, not copied: no other request runs until this one has put one back.
        let Some(old) = self.column.take().filter(|_| !current) else {
            return AtomicResponse::new(Box::pin(fut::ready(())));
        };
        let store = self.store.clone();
        let id = self.id;
        let first = self.first_to_hear(None);
        let load = super::blocking(move || {
            let new = Column::load(&store, id)?;
            let mut changes = difference(id, &old, &new);
            changes.recent = claim_for(&store, id, first, &changes)?;
            Ok((changes, new))
        });
        AtomicResponse::new(Box::pin(load.into_actor(self).map(|loaded, act, ctx| {
            match loaded {
                Ok((changes, new)) => {
                    act.publish(changes);
                    act.column = Some(new);
                }
                Err(e) => tracing::error!(error = %e, "could not read another server's change"),
            }
            act.stop_if_unwatched(ctx);
        })))
    }
}

/// What turned `old` into `new`: messages after its last UID, messages it had that are
/// gone, and those whose modseq grew, with their flags.
fn difference(mailbox: mailhive_store::MailboxId, old: &Column, new: &Column) -> Changes {
    let mut changes = Changes::new(mailbox);
    let mut o = 0;
    for (n, &uid) in new.uids.iter().enumerate() {
        while o < old.uids.len() && old.uids[o] < uid {
            changes.expunged.push(old.uids[o]);
            o += 1;
        }
        let entry = (uid, new.flags[n].clone(), new.modseqs[n]);
        match old.uids.get(o) {
            Some(&same) if same == uid => {
                if new.modseqs[n] > old.modseqs[o] {
                    changes.flags.push(entry);
                }
                o += 1;
            }
            _ if old.uids.last().is_none_or(|&last| uid > last) => changes.appended.push(entry),
            // A UID below the last known one that this process never saw: given out
            // and expunged meanwhile is the only way, so there is nothing to show.
            _ => {}
        }
    }
    changes.expunged.extend_from_slice(&old.uids[o..]);
    changes.highest_modseq = new.highest_modseq;
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailhive_store::{Flags, MailboxId, SystemFlags};

    fn column(uids: &[u32], modseqs: &[u64]) -> Column {
        Column {
            uids: uids.to_vec(),
            flags: vec![Flags::default(); uids.len()],
            modseqs: modseqs.to_vec(),
            highest_modseq: modseqs.iter().copied().max().unwrap_or(0),
        }
    }

    #[test]
    fn the_difference_names_what_came_what_changed_and_what_went() {
        let old = column(&[1, 2, 3, 5], &[1, 1, 1, 2]);
        let mut new = column(&[2, 3, 6, 7], &[1, 4, 5, 5]);
        new.flags[1] = Flags::new(SystemFlags::FLAGGED, []);
        let changes = difference(MailboxId(9), &old, &new);
        assert_eq!(changes.expunged, [1, 5]);
        assert_eq!(changes.flags, [(3, new.flags[1].clone(), 4)]);
        let appended: Vec<u32> = changes.appended.iter().map(|a| a.0).collect();
        assert_eq!(appended, [6, 7]);
        assert_eq!(changes.highest_modseq, 5);
        assert!(difference(MailboxId(9), &new, &new).is_empty());
    }
}
