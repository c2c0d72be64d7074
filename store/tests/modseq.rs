//! CONDSTORE and QRESYNC in the store: modseqs of changes, UNCHANGEDSINCE decided in
//! the change's transaction, and the expunge log behind VANISHED, across a reopen, on
//! every engine.

#[macro_use]
mod support;

use mailhive_store::{
    ExpungeScope, FlagChange, Flags, InternalDate, MailboxId, MailboxName, NewMessage, Store,
    SystemFlags, Username, MAX_REMEMBERED,
};
use support::Backend;

fn alice() -> Username {
    Username::parse("alice").unwrap()
}

fn inbox(store: &Store) -> MailboxId {
    store
        .mailbox(&alice(), &MailboxName::inbox())
        .unwrap()
        .unwrap()
        .id
}

fn fill(store: &Store, mailbox: MailboxId, n: usize) -> Vec<u32> {
    let raw = b"Subject: m\r\n\r\nbody\r\n".to_vec();
    let messages: Vec<NewMessage<'_>> = (0..n)
        .map(|_| NewMessage {
            raw: &raw,
            flags: Flags::default(),
            internal_date: InternalDate {
                unix_seconds: 1_700_000_000,
                offset_minutes: 0,
            },
        })
        .collect();
    store.append(mailbox, &messages, &alice()).unwrap().unwrap()
}

fn deleted() -> FlagChange {
    FlagChange::Add(Flags::new(SystemFlags::DELETED, []))
}

fn highest(store: &Store, mailbox: MailboxId) -> u64 {
    store
        .mailbox_by_id(mailbox)
        .unwrap()
        .unwrap()
        .highest_modseq
}

fn unchanged_since_leaves_later_changed_messages_alone(backend: &Backend) {
    let store = backend.open();
    store.add_user(&alice(), "pw").unwrap().unwrap();
    let mb = inbox(&store);
    fill(&store, mb, 3);
    let before = highest(&store, mb);
    let flagged = FlagChange::Add(Flags::new(SystemFlags::FLAGGED, []));
    store
        .store_flags(mb, &[2], &flagged, &alice())
        .unwrap()
        .unwrap();
    let stored = store
        .conditional_store(mb, &[1, 2, 3], &deleted(), &alice(), Some(before))
        .unwrap()
        .unwrap();
    assert_eq!(stored.modified, [2]);
    let changed: Vec<u32> = stored.changed.iter().map(|m| m.uid).collect();
    assert_eq!(changed, [1, 3]);
    assert!(stored
        .changed
        .iter()
        .all(|m| m.modseq == highest(&store, mb)));
    let two = store.message(mb, 2).unwrap().unwrap();
    assert!(!two.flags.system.contains(SystemFlags::DELETED));
    // UNCHANGEDSINCE 0 fails for every message (RFC 7162 §3.1.3).
    let none = store
        .conditional_store(mb, &[1, 3], &deleted(), &alice(), Some(0))
        .unwrap()
        .unwrap();
    assert_eq!((none.modified, none.changed), (vec![1, 3], vec![]));
}

fn vanished_since_names_what_went_after_a_modseq_and_survives_a_reopen(backend: &Backend) {
    let (mb, first, second) = {
        let store = backend.open();
        store.add_user(&alice(), "pw").unwrap().unwrap();
        let mb = inbox(&store);
        fill(&store, mb, 10);
        let start = highest(&store, mb);
        store
            .store_flags(mb, &[2, 3], &deleted(), &alice())
            .unwrap()
            .unwrap();
        store
            .expunge(mb, ExpungeScope::AllDeleted)
            .unwrap()
            .unwrap();
        let first = highest(&store, mb);
        store
            .expunge(mb, ExpungeScope::Exactly(&[7, 9]))
            .unwrap()
            .unwrap();
        assert!(first > start);
        (mb, start, first)
    };
    let store = backend.open();
    let all = store.vanished_since(mb, first).unwrap();
    assert_eq!(all.uids, [2, 3, 7, 9]);
    assert!(all.complete);
    assert_eq!(store.vanished_since(mb, second).unwrap().uids, [7, 9]);
    let now = highest(&store, mb);
    assert!(store.vanished_since(mb, now).unwrap().uids.is_empty());
}

fn a_move_logs_its_sources_and_a_deleted_mailbox_leaves_no_log(backend: &Backend) {
    let store = backend.open();
    store.add_user(&alice(), "pw").unwrap().unwrap();
    let mb = inbox(&store);
    let other = MailboxName::parse("Other").unwrap();
    let target = store
        .create_mailbox(&alice(), &other, None, &alice())
        .unwrap()
        .unwrap();
    fill(&store, mb, 3);
    let before = highest(&store, mb);
    store
        .move_messages(mb, &[1, 3], target, true, &alice())
        .unwrap()
        .unwrap();
    assert_eq!(store.vanished_since(mb, before).unwrap().uids, [1, 3]);
    fill(&store, target, 2);
    store
        .expunge(target, ExpungeScope::Exactly(&[1]))
        .unwrap()
        .unwrap();
    store.delete_mailbox(&alice(), &other).unwrap().unwrap();
    assert!(store.vanished_since(target, 0).unwrap().uids.is_empty());
}

fn the_log_forgets_the_oldest_past_its_bound_and_says_so(backend: &Backend) {
    let store = backend.open();
    store.add_user(&alice(), "pw").unwrap().unwrap();
    let mb = inbox(&store);
    let n = MAX_REMEMBERED as usize + 10;
    let uids = fill(&store, mb, n);
    let start = highest(&store, mb);
    store
        .expunge(mb, ExpungeScope::Exactly(&uids[..20]))
        .unwrap()
        .unwrap();
    let after_first = highest(&store, mb);
    store
        .expunge(mb, ExpungeScope::Exactly(&uids[20..]))
        .unwrap()
        .unwrap();
    let old = store.vanished_since(mb, start).unwrap();
    assert!(!old.complete, "expunges after {start} were forgotten");
    assert_eq!(old.uids.len(), MAX_REMEMBERED as usize);
    let recent = store.vanished_since(mb, after_first).unwrap();
    assert!(recent.complete);
    assert_eq!(recent.uids, &uids[20..]);
}

on_every_engine!(
    unchanged_since_leaves_later_changed_messages_alone,
    vanished_since_names_what_went_after_a_modseq_and_survives_a_reopen,
    a_move_logs_its_sources_and_a_deleted_mailbox_leaves_no_log,
    the_log_forgets_the_oldest_past_its_bound_and_says_so,
);
