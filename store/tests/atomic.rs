//! One change, one transaction: a sharer's APPEND with \Seen, their flag change with
//! \Seen and a CREATE inside a shared mailbox are each one engine batch, so an engine
//! that fails that batch leaves nothing of the change behind.

use mailhive_store::engine::{Engine, Scan, SledEngine, WriteBatch};
use mailhive_store::{
    FlagChange, Flags, InternalDate, MailboxId, MailboxName, NewMessage, Rights, Store, StoreError,
    SystemFlags, Username,
};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// What the tests see of the engine: batches applied, and a switch that fails them.
#[derive(Debug, Default)]
struct Faults {
    applied: AtomicUsize,
    fail: AtomicBool,
}

/// Sled, with every batch counted and, while `fail` is set, refused.
#[derive(Debug)]
struct FailingEngine {
    inner: SledEngine,
    faults: Arc<Faults>,
}

#[derive(Debug, thiserror::Error)]
#[error("injected failure")]
struct Injected;

impl Engine for FailingEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }
    fn scan_prefix(&self, prefix: &[u8]) -> Scan<'_> {
        self.inner.scan_prefix(prefix)
    }
    fn scan_range(&self, start: &[u8], end: &[u8]) -> Scan<'_> {
        self.inner.scan_range(start, end)
    }
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if self.faults.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Engine(Box::new(Injected)));
        }
        self.faults.applied.fetch_add(1, Ordering::SeqCst);
        self.inner.apply(batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.size_on_disk()
    }
    fn put_object(&self, parts: &[&[u8]]) -> Result<u64, StoreError> {
        self.inner.put_object(parts)
    }
    fn read_object(&self, id: u64, range: Range<u64>) -> Result<Vec<u8>, StoreError> {
        self.inner.read_object(id, range)
    }
    fn delete_object(&self, id: u64) -> Result<(), StoreError> {
        self.inner.delete_object(id)
    }
    fn object_ids(&self) -> Result<Vec<u64>, StoreError> {
        self.inner.object_ids()
    }
}

fn name(text: &str) -> Username {
    Username::parse(text).unwrap()
}

/// karen's store, with her INBOX and `Projects` shared with alice (`lrswik`).
fn shared_store() -> (Store, Arc<Faults>, MailboxId) {
    let faults = Arc::new(Faults::default());
    let store = Store::with_engine(Box::new(FailingEngine {
        inner: SledEngine::temporary().unwrap(),
        faults: faults.clone(),
    }));
    for user in ["karen", "alice"] {
        store.add_user(&name(user), "pw").unwrap().unwrap();
    }
    let karen = name("karen");
    let projects = MailboxName::parse("Projects").unwrap();
    store
        .create_mailbox(&karen, &projects, None, &karen)
        .unwrap()
        .unwrap();
    let inbox = store
        .mailbox(&karen, &MailboxName::inbox())
        .unwrap()
        .unwrap()
        .id;
    let rights = Rights::parse("lrswik").unwrap();
    for mailbox in [&MailboxName::inbox(), &projects] {
        let id = store.mailbox(&karen, mailbox).unwrap().unwrap().id;
        store.set_acl(id, "alice", rights).unwrap().unwrap();
    }
    (store, faults, inbox)
}

/// Runs `change` once with the engine failing, then once working; returns how many
/// batches the working run applied.
fn fails_then_works<T: std::fmt::Debug>(
    faults: &Faults,
    mut change: impl FnMut() -> Result<T, StoreError>,
    nothing_changed: impl Fn(),
) -> usize {
    faults.fail.store(true, Ordering::SeqCst);
    assert!(change().is_err(), "the injected failure is reported");
    faults.fail.store(false, Ordering::SeqCst);
    nothing_changed();
    let before = faults.applied.load(Ordering::SeqCst);
    change().unwrap();
    faults.applied.load(Ordering::SeqCst) - before
}

fn seen() -> Flags {
    Flags::new(SystemFlags::SEEN, [])
}

#[test]
fn a_sharers_append_with_seen_is_one_batch() {
    let (store, faults, inbox) = shared_store();
    let alice = name("alice");
    let raw = b"Subject: shared\r\n\r\nbody\r\n";
    let message = NewMessage {
        raw,
        flags: seen(),
        internal_date: InternalDate::now(),
    };
    let batches = fails_then_works(
        &faults,
        || store.append(inbox, std::slice::from_ref(&message), &alice),
        || {
            assert!(store.uids(inbox).unwrap().is_empty(), "no message was left");
            assert!(store.seen_by(inbox, &alice).unwrap().is_empty());
        },
    );
    assert_eq!(batches, 1, "the message and alice's \\Seen go together");
    let uids = store.uids(inbox).unwrap();
    assert_eq!(uids.len(), 1);
    assert!(store.seen_by(inbox, &alice).unwrap().contains(uids[0]));
    let karens = store.message(inbox, uids[0]).unwrap().unwrap();
    assert!(!karens.flags.is_seen(), "karen's \\Seen is her own");
}

#[test]
fn a_sharers_flag_change_with_seen_is_one_batch() {
    let (store, faults, inbox) = shared_store();
    let (karen, alice) = (name("karen"), name("alice"));
    let raw = b"Subject: shared\r\n\r\nbody\r\n";
    let message = NewMessage {
        raw,
        flags: Flags::default(),
        internal_date: InternalDate::now(),
    };
    let uids = store.append(inbox, &[message], &karen).unwrap().unwrap();
    let change = FlagChange::Add(Flags::new(
        SystemFlags::SEEN.union(SystemFlags::FLAGGED),
        [],
    ));
    let batches = fails_then_works(
        &faults,
        || store.store_flags(inbox, &uids, &change, &alice),
        || {
            let stored = store.message(inbox, uids[0]).unwrap().unwrap();
            assert!(!stored.flags.system.contains(SystemFlags::FLAGGED));
            assert!(store.seen_by(inbox, &alice).unwrap().is_empty());
        },
    );
    assert_eq!(
        batches, 1,
        "the shared flags and alice's \\Seen go together"
    );
    let stored = store.message(inbox, uids[0]).unwrap().unwrap();
    assert!(stored.flags.system.contains(SystemFlags::FLAGGED));
    assert!(!stored.flags.is_seen(), "karen's \\Seen is her own");
    assert!(store.seen_by(inbox, &alice).unwrap().contains(uids[0]));

    // Taking \Seen away again is hers alone, and one batch too.
    let unseen = FlagChange::Remove(seen());
    let batches = fails_then_works(
        &faults,
        || store.store_flags(inbox, &uids, &unseen, &alice),
        || assert!(store.seen_by(inbox, &alice).unwrap().contains(uids[0])),
    );
    assert_eq!(batches, 1);
    assert!(store.seen_by(inbox, &alice).unwrap().is_empty());
}

#[test]
fn a_create_inside_a_shared_mailbox_takes_the_parents_acl_in_one_batch() {
    let (store, faults, _) = shared_store();
    let (karen, alice) = (name("karen"), name("alice"));
    let child = MailboxName::parse("Projects/Q3").unwrap();
    let batches = fails_then_works(
        &faults,
        || store.create_mailbox(&karen, &child, None, &alice),
        || assert!(store.mailbox(&karen, &child).unwrap().is_none()),
    );
    assert_eq!(batches, 1, "the mailbox and its rights go together");
    let created = store.mailbox(&karen, &child).unwrap().unwrap();
    assert_eq!(
        created.acl,
        [("alice".to_owned(), Rights::parse("lrswik").unwrap())]
    );
    let shared: Vec<MailboxName> = store
        .shared_with("alice")
        .unwrap()
        .into_iter()
        .map(|(info, _)| info.name)
        .collect();
    assert!(shared.contains(&child), "the grant index has it too");

    // Without the parent there is nothing to take rights from: refused, nothing made.
    let orphan = MailboxName::parse("Gone/Q3").unwrap();
    assert!(store
        .create_mailbox(&karen, &orphan, None, &alice)
        .unwrap()
        .is_err());
    assert!(store
        .mailbox(&karen, &MailboxName::parse("Gone").unwrap())
        .unwrap()
        .is_none());
}
