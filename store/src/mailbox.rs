//! Mailboxes: the `/` hierarchy of each owner, UIDVALIDITY, subscriptions, special use
//! and access control lists (RFC 4314), with RENAME of whole subtrees.
//!
//! A mailbox is found by name through an index (`N` keys) and keeps a permanent id, so
//! RENAME rewrites only the name index and records of the renamed subtree, never its
//! messages. Rights granted to others are kept both on the mailbox (for GETACL) and in a
//! per-grantee index (`G` keys, for listing what is shared with a user).

use crate::schema::{decode, key, MailboxRecord};
use crate::tx::Tx;
use crate::types::{MailboxId, MailboxName, Rights, SpecialUse, Username};
use crate::{Outcome, Refusal, Store, StoreError};

/// What the server needs to know about a mailbox to SELECT it or answer STATUS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    pub id: MailboxId,
    pub owner: Username,
    pub name: MailboxName,
    pub uid_validity: u32,
    pub uid_next: u32,
    pub highest_modseq: u64,
    pub messages: u32,
    pub unseen: u32,
    pub bytes: u64,
    pub special_use: Option<SpecialUse>,
    /// Keywords in use in the mailbox.
    pub keywords: Vec<String>,
    /// Rights granted to identifiers other than the owner.
    pub acl: Vec<(String, Rights)>,
}

impl MailboxInfo {
    fn new(id: MailboxId, r: MailboxRecord) -> Self {
        MailboxInfo {
            id,
            owner: r.owner,
            name: r.name,
            uid_validity: r.uid_validity,
            uid_next: r.uid_next,
            highest_modseq: r.highest_modseq,
            messages: r.messages,
            unseen: r.unseen,
            bytes: r.bytes,
            special_use: r.special_use,
            keywords: r.keywords,
            acl: r.acl,
        }
    }
}

fn lookup(
    tx: &Tx<'_>,
    owner: &Username,
    name: &MailboxName,
) -> Result<Option<MailboxId>, StoreError> {
    let k = key::mailbox_name(owner, Some(name));
    Ok(tx.record::<u64>(&k)?.map(MailboxId))
}

pub(crate) fn mailbox_record(
    tx: &Tx<'_>,
    id: MailboxId,
) -> Result<Option<MailboxRecord>, StoreError> {
    tx.record(&key::mailbox(id))
}

/// A UIDVALIDITY never given before: the current time, or one more than the last.
fn next_uid_validity(tx: &mut Tx<'_>) -> Result<u32, StoreError> {
    let k = key::counter("uidvalidity");
    let last = tx.record::<u64>(&k)?.unwrap_or(0);
    let now = crate::types::InternalDate::now()
        .unix_seconds
        .clamp(1, u32::MAX as i64) as u64;
    let next = now.max(last + 1).min(u32::MAX as u64);
    tx.put_record(k, &next)?;
    Ok(next as u32)
}

/// Creates `name` (which must not exist) without touching its parents.
pub(crate) fn create_in(
    tx: &mut Tx<'_>,
    owner: &Username,
    name: &MailboxName,
    special_use: Option<SpecialUse>,
) -> Result<MailboxId, StoreError> {
    let id = MailboxId(tx.next_id("mailbox")?);
    let record = MailboxRecord {
        owner: owner.clone(),
        name: name.clone(),
        uid_validity: next_uid_validity(tx)?,
        uid_next: 1,
        highest_modseq: 1,
        messages: 0,
        unseen: 0,
        bytes: 0,
        special_use,
        keywords: Vec::new(),
        acl: Vec::new(),
    };
    tx.put_record(key::mailbox(id), &record)?;
    tx.put_record(key::mailbox_name(owner, Some(name)), &id.0)?;
    Ok(id)
}

/// Creates `name` (which must not exist) and whichever of its parents are missing.
fn create_with_parents(
    tx: &mut Tx<'_>,
    owner: &Username,
    name: &MailboxName,
    special_use: Option<SpecialUse>,
) -> Result<MailboxId, StoreError> {
    for parent in name.ancestors() {
        if lookup(tx, owner, &parent)?.is_none() {
            create_in(tx, owner, &parent, None)?;
        }
    }
    create_in(tx, owner, name, special_use)
}

/// Grants `rights` on the existing mailbox `id` to `grantee`, replacing what they had;
/// empty rights remove the entry (and the grantee's own \Seen set).
fn grant_in(
    tx: &mut Tx<'_>,
    id: MailboxId,
    grantee: &str,
    rights: Rights,
) -> Result<(), StoreError> {
    let mk = key::mailbox(id);
    let Some(mut record) = tx.record::<MailboxRecord>(&mk)? else {
        return Ok(());
    };
    record.acl.retain(|(who, _)| who != grantee);
    if rights.is_empty() {
        tx.delete(key::grant(grantee, Some(id)));
        if let Ok(user) = Username::parse(grantee) {
            crate::seen::forget_user(tx, id, &user);
        }
    } else {
        record.acl.push((grantee.to_owned(), rights));
        record.acl.sort();
        tx.put_record(key::grant(grantee, Some(id)), &rights)?;
    }
    tx.put_record(mk, &record)
}

/// Removes a mailbox, its messages (dropping their bodies' references) and its grants.
pub(crate) fn delete_in(tx: &mut Tx<'_>, id: MailboxId) -> Result<(), StoreError> {
    let Some(record) = mailbox_record(tx, id)? else {
        return Ok(());
    };
    for entry in tx.scan_committed(&key::messages(id)) {
        let (k, v) = entry?;
        let message: crate::schema::MessageRecord = decode(&k, &v)?;
        crate::blob::drop_reference(tx, message.blob)?;
        tx.delete(k);
    }
    tx.charge(
        &record.owner,
        -i64::try_from(record.bytes).unwrap_or(i64::MAX),
        -i64::from(record.messages),
    );
    for (grantee, _) in &record.acl {
        tx.delete(key::grant(grantee, Some(id)));
    }
    crate::seen::forget_mailbox(tx, id)?;
    crate::recent::forget_mailbox(tx, id);
    crate::vanished::forget_mailbox(tx, id)?;
    tx.delete(key::mailbox_name(&record.owner, Some(&record.name)));
    tx.delete(key::mailbox(id));
    Ok(())
}

/// The names of `owner`'s mailboxes at or below `name`, with their ids.
fn subtree(
    tx: &Tx<'_>,
    owner: &Username,
    name: &MailboxName,
) -> Result<Vec<(MailboxName, MailboxId)>, StoreError> {
    let mut found = Vec::new();
    for entry in tx.scan_committed(&key::mailbox_name(owner, Some(name))) {
        let (k, v) = entry?;
        let prefix_len = key::mailbox_name(owner, None).len();
        let text = std::str::from_utf8(&k[prefix_len..]).map_err(|e| StoreError::corrupt(&k, e))?;
        let candidate = MailboxName::parse(text).map_err(|e| StoreError::corrupt(&k, e))?;
        if candidate == *name || candidate.is_below(name) {
            found.push((candidate, MailboxId(decode(&k, &v)?)));
        }
    }
    Ok(found)
}

impl Store {
    /// Creates `name` as `by` does, and any missing parent as RFC 3501 §6.3.3 suggests.
    /// When `by` is not the owner (a mailbox shared with them), the parent must exist
    /// and the new mailbox gets the parent's ACL in the same atomic batch.
    pub fn create_mailbox(
        &self,
        owner: &Username,
        name: &MailboxName,
        special_use: Option<SpecialUse>,
        by: &Username,
    ) -> Outcome<MailboxId> {
        self.write(|tx| {
            if tx.get(&key::account(owner))?.is_none() {
                return Ok(Err(Refusal::NoSuchUser));
            }
            if lookup(tx, owner, name)?.is_some() {
                return Ok(Err(Refusal::MailboxExists));
            }
            if owner == by {
                return Ok(Ok(create_with_parents(tx, owner, name, special_use)?));
            }
            let parent = match name.ancestors().pop() {
                Some(parent) => lookup(tx, owner, &parent)?,
                None => None,
            };
            let Some(parent) = parent
                .map(|id| mailbox_record(tx, id))
                .transpose()?
                .flatten()
            else {
                return Ok(Err(Refusal::NoSuchMailbox));
            };
            let id = create_in(tx, owner, name, special_use)?;
            for (grantee, rights) in &parent.acl {
                grant_in(tx, id, grantee, *rights)?;
            }
            Ok(Ok(id))
        })
    }

    /// The mailbox `name`; if it does not exist it is created (with missing parents) and
    /// subscribed in the same step, so that imported folders are visible to clients.
    pub fn ensure_mailbox(&self, owner: &Username, name: &MailboxName) -> Outcome<MailboxId> {
        self.write(|tx| {
            if tx.get(&key::account(owner))?.is_none() {
                return Ok(Err(Refusal::NoSuchUser));
            }
            if let Some(id) = lookup(tx, owner, name)? {
                return Ok(Ok(id));
            }
            let id = create_with_parents(tx, owner, name, None)?;
            tx.put(key::subscription(owner, Some(name)), Vec::new());
            Ok(Ok(id))
        })
    }

    /// Deletes a mailbox and its messages. INBOX and mailboxes with children stay.
    pub fn delete_mailbox(&self, owner: &Username, name: &MailboxName) -> Outcome<()> {
        self.write(|tx| {
            if name.is_inbox() {
                return Ok(Err(Refusal::CannotDeleteInbox));
            }
            let Some(id) = lookup(tx, owner, name)? else {
                return Ok(Err(Refusal::NoSuchMailbox));
            };
            if subtree(tx, owner, name)?.len() > 1 {
                return Ok(Err(Refusal::HasChildren));
            }
            delete_in(tx, id)?;
            Ok(Ok(()))
        })
    }

    /// Renames `from` and everything below it to `to`, subscriptions included; missing
    /// parents of `to` are created. Renaming INBOX moves its messages into a new mailbox
    /// and leaves an empty INBOX, and does not move INBOX's children (RFC 3501 §6.3.5).
    pub fn rename_mailbox(
        &self,
        owner: &Username,
        from: &MailboxName,
        to: &MailboxName,
    ) -> Outcome<()> {
        self.write(|tx| {
            let Some(from_id) = lookup(tx, owner, from)? else {
                return Ok(Err(Refusal::NoSuchMailbox));
            };
            if lookup(tx, owner, to)?.is_some() {
                return Ok(Err(Refusal::MailboxExists));
            }
            if to.is_below(from) {
                return Ok(Err(Refusal::RenameIntoItself));
            }
            if to.is_inbox() {
                return Ok(Err(Refusal::MailboxExists));
            }
            let moving = if from.is_inbox() {
                vec![(from.clone(), from_id)]
            } else {
                subtree(tx, owner, from)?
            };
            for parent in to.ancestors() {
                if lookup(tx, owner, &parent)?.is_none()
                    && !moving.iter().any(|(n, _)| *n == parent)
                {
                    create_in(tx, owner, &parent, None)?;
                }
            }
            for (old_name, id) in moving {
                let new_name = old_name.reparent(from, to);
                let mk = key::mailbox(id);
                let mut record: MailboxRecord = tx.record(&mk)?.ok_or_else(|| {
                    StoreError::corrupt(&mk, "name index points to a missing mailbox")
                })?;
                record.name = new_name.clone();
                tx.put_record(mk, &record)?;
                tx.delete(key::mailbox_name(owner, Some(&old_name)));
                tx.put_record(key::mailbox_name(owner, Some(&new_name)), &id.0)?;
                let old_sub = key::subscription(owner, Some(&old_name));
                if tx.get(&old_sub)?.is_some() && !old_name.is_inbox() {
                    tx.delete(old_sub);
                    tx.put(key::subscription(owner, Some(&new_name)), Vec::new());
                }
            }
            if from.is_inbox() {
                create_in(tx, owner, from, None)?;
            }
            Ok(Ok(()))
        })
    }

    pub fn mailbox(
        &self,
        owner: &Username,
        name: &MailboxName,
    ) -> Result<Option<MailboxInfo>, StoreError> {
        let Some(id) = self.read::<u64>(&key::mailbox_name(owner, Some(name)))? else {
            return Ok(None);
        };
        self.mailbox_by_id(MailboxId(id))
    }

    pub fn mailbox_by_id(&self, id: MailboxId) -> Result<Option<MailboxInfo>, StoreError> {
        Ok(self
            .read::<MailboxRecord>(&key::mailbox(id))?
            .map(|r| MailboxInfo::new(id, r)))
    }

    /// Every mailbox of `owner`, sorted by name.
    pub fn mailboxes(&self, owner: &Username) -> Result<Vec<MailboxInfo>, StoreError> {
        let mut out = Vec::new();
        for entry in self.engine().scan_prefix(&key::mailbox_name(owner, None)) {
            let (k, v) = entry?;
            let id = MailboxId(decode(&k, &v)?);
            let info = self
                .mailbox_by_id(id)?
                .ok_or_else(|| StoreError::corrupt(&k, "name index points to a missing mailbox"))?;
            out.push(info);
        }
        Ok(out)
    }

    /// Subscribes `owner` to `name`; the mailbox need not exist (RFC 3501 §6.3.6).
    pub fn subscribe(&self, owner: &Username, name: &MailboxName) -> Outcome<()> {
        self.write(|tx| {
            tx.put(key::subscription(owner, Some(name)), Vec::new());
            Ok(Ok(()))
        })
    }

    pub fn unsubscribe(&self, owner: &Username, name: &MailboxName) -> Outcome<()> {
        self.write(|tx| {
            tx.delete(key::subscription(owner, Some(name)));
            Ok(Ok(()))
        })
    }

    /// The names `owner` is subscribed to, sorted.
    pub fn subscriptions(&self, owner: &Username) -> Result<Vec<MailboxName>, StoreError> {
        let prefix = key::subscription(owner, None);
        self.engine()
            .scan_prefix(&prefix)
            .map(|entry| {
                let (k, _) = entry?;
                let text = std::str::from_utf8(&k[prefix.len()..])
                    .map_err(|e| StoreError::corrupt(&k, e))?;
                MailboxName::parse(text).map_err(|e| StoreError::corrupt(&k, e))
            })
            .collect()
    }

    /// Grants `rights` on a mailbox to `grantee` (a user name or `anyone`), replacing
    /// what they had; empty rights remove the entry.
    pub fn set_acl(&self, mailbox: MailboxId, grantee: &str, rights: Rights) -> Outcome<()> {
        self.write(|tx| {
            if tx.get(&key::mailbox(mailbox))?.is_none() {
                return Ok(Err(Refusal::NoSuchMailbox));
            }
            grant_in(tx, mailbox, grantee, rights)?;
            Ok(Ok(()))
        })
    }

    /// Mailboxes of other users on which `grantee` holds rights, with those rights.
    pub fn shared_with(&self, grantee: &str) -> Result<Vec<(MailboxInfo, Rights)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.engine().scan_prefix(&key::grant(grantee, None)) {
            let (k, v) = entry?;
            let Some(id) = key::mailbox_of_grant(&k) else {
                return Err(StoreError::corrupt(&k, "grant key without a mailbox id"));
            };
            if k.len() != key::grant(grantee, Some(id)).len() {
                continue; // a longer grantee name that shares this prefix
            }
            if let Some(info) = self.mailbox_by_id(id)? {
                out.push((info, decode(&k, &v)?));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Store, Username) {
        let store = Store::temporary().unwrap();
        let u = Username::parse("alice").unwrap();
        store.add_user(&u, "pw").unwrap().unwrap();
        (store, u)
    }
    fn n(s: &str) -> MailboxName {
        MailboxName::parse(s).unwrap()
    }
    fn names(store: &Store, u: &Username) -> Vec<String> {
        store
            .mailboxes(u)
            .unwrap()
            .into_iter()
            .map(|m| m.name.to_string())
            .collect()
    }

    #[test]
    fn create_makes_parents_and_refuses_duplicates() {
        let (store, u) = setup();
        store
            .create_mailbox(&u, &n("Work/2026/Q1"), None, &u)
            .unwrap()
            .unwrap();
        assert!(store.mailbox(&u, &n("Work")).unwrap().is_some());
        assert!(store.mailbox(&u, &n("Work/2026")).unwrap().is_some());
        assert_eq!(
            store.create_mailbox(&u, &n("Work"), None, &u).unwrap(),
            Err(Refusal::MailboxExists)
        );
        assert_eq!(
            store.create_mailbox(&u, &n("inbox"), None, &u).unwrap(),
            Err(Refusal::MailboxExists)
        );
    }

    #[test]
    fn ensure_mailbox_creates_once_and_subscribes() {
        let (store, u) = setup();
        let id = store
            .ensure_mailbox(&u, &n("Imported/2019"))
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .ensure_mailbox(&u, &n("Imported/2019"))
                .unwrap()
                .unwrap(),
            id
        );
        assert!(store
            .subscriptions(&u)
            .unwrap()
            .contains(&n("Imported/2019")));
        let ghost = Username::parse("ghost").unwrap();
        assert_eq!(
            store.ensure_mailbox(&ghost, &n("x")).unwrap(),
            Err(Refusal::NoSuchUser)
        );
    }

    #[test]
    fn rename_moves_children_and_subscriptions() {
        let (store, u) = setup();
        store
            .create_mailbox(&u, &n("a/b/c"), None, &u)
            .unwrap()
            .unwrap();
        store
            .create_mailbox(&u, &n("ab"), None, &u)
            .unwrap()
            .unwrap();
        store.subscribe(&u, &n("a/b")).unwrap().unwrap();
        let id = store.mailbox(&u, &n("a/b")).unwrap().unwrap().id;
        store
            .rename_mailbox(&u, &n("a"), &n("x/y"))
            .unwrap()
            .unwrap();
        let all = names(&store, &u);
        for expected in ["x", "x/y", "x/y/b", "x/y/b/c", "ab"] {
            assert!(
                all.contains(&expected.to_owned()),
                "{expected} missing from {all:?}"
            );
        }
        assert!(!all.iter().any(|n| n == "a" || n.starts_with("a/")));
        assert_eq!(store.mailbox(&u, &n("x/y/b")).unwrap().unwrap().id, id);
        assert!(store.subscriptions(&u).unwrap().contains(&n("x/y/b")));
        assert_eq!(
            store.rename_mailbox(&u, &n("x"), &n("x/z")).unwrap(),
            Err(Refusal::RenameIntoItself)
        );
        assert_eq!(
            store.rename_mailbox(&u, &n("x"), &n("ab")).unwrap(),
            Err(Refusal::MailboxExists)
        );
        assert_eq!(
            store.rename_mailbox(&u, &n("nope"), &n("q")).unwrap(),
            Err(Refusal::NoSuchMailbox)
        );
    }

    #[test]
    fn renaming_inbox_leaves_a_new_empty_inbox() {
        let (store, u) = setup();
        let old = store.mailbox(&u, &MailboxName::inbox()).unwrap().unwrap();
        store
            .rename_mailbox(&u, &MailboxName::inbox(), &n("Old"))
            .unwrap()
            .unwrap();
        let moved = store.mailbox(&u, &n("Old")).unwrap().unwrap();
        let inbox = store.mailbox(&u, &MailboxName::inbox()).unwrap().unwrap();
        assert_eq!(moved.id, old.id);
        assert_ne!(inbox.id, old.id);
        assert_ne!(inbox.uid_validity, old.uid_validity);
    }

    #[test]
    fn delete_refuses_inbox_and_parents() {
        let (store, u) = setup();
        store
            .create_mailbox(&u, &n("p/c"), None, &u)
            .unwrap()
            .unwrap();
        assert_eq!(
            store.delete_mailbox(&u, &n("INBOX")).unwrap(),
            Err(Refusal::CannotDeleteInbox)
        );
        assert_eq!(
            store.delete_mailbox(&u, &n("p")).unwrap(),
            Err(Refusal::HasChildren)
        );
        store.delete_mailbox(&u, &n("p/c")).unwrap().unwrap();
        store.delete_mailbox(&u, &n("p")).unwrap().unwrap();
        assert_eq!(
            store.delete_mailbox(&u, &n("p")).unwrap(),
            Err(Refusal::NoSuchMailbox)
        );
    }

    #[test]
    fn recreated_mailbox_gets_a_new_uidvalidity() {
        let (store, u) = setup();
        store
            .create_mailbox(&u, &n("t"), None, &u)
            .unwrap()
            .unwrap();
        let first = store.mailbox(&u, &n("t")).unwrap().unwrap().uid_validity;
        store.delete_mailbox(&u, &n("t")).unwrap().unwrap();
        store
            .create_mailbox(&u, &n("t"), None, &u)
            .unwrap()
            .unwrap();
        assert!(store.mailbox(&u, &n("t")).unwrap().unwrap().uid_validity > first);
    }

    #[test]
    fn acl_entries_and_the_shared_with_index() {
        let (store, u) = setup();
        let bob = Username::parse("bob").unwrap();
        store.add_user(&bob, "pw").unwrap().unwrap();
        let inbox = store
            .mailbox(&u, &MailboxName::inbox())
            .unwrap()
            .unwrap()
            .id;
        store
            .set_acl(inbox, "bob", Rights::parse("lr").unwrap())
            .unwrap()
            .unwrap();
        store
            .set_acl(inbox, "bobby", Rights::parse("l").unwrap())
            .unwrap()
            .unwrap();
        let shared = store.shared_with("bob").unwrap();
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].1.to_string(), "lr");
        assert_eq!(shared[0].0.owner, u);
        store
            .set_acl(inbox, "bob", Rights::default())
            .unwrap()
            .unwrap();
        assert!(store.shared_with("bob").unwrap().is_empty());
        assert_eq!(store.mailbox_by_id(inbox).unwrap().unwrap().acl.len(), 1);
    }
}
