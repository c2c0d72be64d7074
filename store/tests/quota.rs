//! Quota usage kept with every change that adds or removes messages, the limits checked
//! in the change's own transaction, and the one-time count for stores written before.

use mailhive_store::engine::{Engine, SledEngine, WriteBatch};
use mailhive_store::schema::key;
use mailhive_store::{
    ExpungeScope, Flags, InternalDate, MailboxId, MailboxName, NewMessage, QuotaLimits,
    QuotaOverride, Refusal, Store, Usage, Username,
};
use std::sync::Arc;

/// 40 bytes in wire form.
const MESSAGE: &[u8] = b"Subject: q\r\n\r\nthe body of the message.\r\n";

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

fn new_message(raw: &[u8]) -> NewMessage<'_> {
    NewMessage {
        raw,
        flags: Flags::default(),
        internal_date: InternalDate {
            unix_seconds: 1_700_000_000,
            offset_minutes: 0,
        },
    }
}

fn mailbox(store: &Store, owner: &str, name: &str) -> MailboxId {
    let name = MailboxName::parse(name).unwrap();
    store.ensure_mailbox(&user(owner), &name).unwrap().unwrap()
}

fn append(store: &Store, mailbox: MailboxId, count: usize, by: &str) -> Result<Vec<u32>, Refusal> {
    let messages: Vec<_> = (0..count).map(|_| new_message(MESSAGE)).collect();
    store.append(mailbox, &messages, &user(by)).unwrap()
}

fn usage(store: &Store, owner: &str) -> Usage {
    store.quota(&user(owner)).unwrap().unwrap().usage
}

fn used(messages: u64) -> Usage {
    Usage {
        bytes: messages * MESSAGE.len() as u64,
        messages,
    }
}

fn store_with(users: &[&str]) -> Store {
    let store = Store::temporary().unwrap();
    for name in users {
        store.add_user(&user(name), "pw").unwrap().unwrap();
    }
    store
}

#[test]
fn append_copy_expunge_and_delete_keep_the_usage() {
    let store = store_with(&["alice"]);
    assert_eq!(MESSAGE.len(), 40);
    let inbox = mailbox(&store, "alice", "INBOX");
    let archive = mailbox(&store, "alice", "Archive");
    append(&store, inbox, 3, "alice").unwrap();
    assert_eq!(usage(&store, "alice"), used(3));
    store
        .copy_messages(inbox, &[1, 2], archive, true, &user("alice"))
        .unwrap()
        .unwrap();
    assert_eq!(usage(&store, "alice"), used(5));
    store
        .expunge(inbox, ExpungeScope::Exactly(&[1]))
        .unwrap()
        .unwrap();
    assert_eq!(usage(&store, "alice"), used(4));
    store
        .delete_mailbox(&user("alice"), &MailboxName::parse("Archive").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(usage(&store, "alice"), used(2));
}

#[test]
fn a_move_within_one_account_changes_no_usage_and_is_allowed_at_the_limit() {
    let store = store_with(&["alice"]);
    let inbox = mailbox(&store, "alice", "INBOX");
    let archive = mailbox(&store, "alice", "Archive");
    append(&store, inbox, 2, "alice").unwrap();
    store
        .change_quota(
            &user("alice"),
            QuotaOverride {
                storage: None,
                messages: Some(2),
            },
            false,
        )
        .unwrap()
        .unwrap();
    let moved = store
        .move_messages(inbox, &[1, 2], archive, true, &user("alice"))
        .unwrap()
        .unwrap();
    assert_eq!(moved, vec![(1, 1), (2, 2)]);
    assert_eq!(usage(&store, "alice"), used(2));
    assert_eq!(
        store
            .copy_messages(archive, &[1], inbox, true, &user("alice"))
            .unwrap(),
        Err(Refusal::OverQuota),
        "a copy adds a message"
    );
}

#[test]
fn a_move_between_accounts_moves_the_usage_and_is_checked_on_the_target() {
    let store = store_with(&["alice", "karen"]);
    let alice = mailbox(&store, "alice", "INBOX");
    let karen = mailbox(&store, "karen", "INBOX");
    append(&store, alice, 2, "alice").unwrap();
    store
        .move_messages(alice, &[1], karen, true, &user("alice"))
        .unwrap()
        .unwrap();
    assert_eq!(usage(&store, "alice"), used(1));
    assert_eq!(usage(&store, "karen"), used(1));
    store
        .change_quota(
            &user("karen"),
            QuotaOverride {
                storage: Some(40),
                messages: None,
            },
            false,
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .move_messages(alice, &[2], karen, true, &user("alice"))
            .unwrap(),
        Err(Refusal::OverQuota)
    );
    assert_eq!(
        store.uids(alice).unwrap(),
        vec![2],
        "nothing of the move happened"
    );
    assert_eq!(usage(&store, "alice"), used(1));
    // A sharer's APPEND into karen's mailbox counts against karen's quota.
    assert_eq!(append(&store, karen, 1, "alice"), Err(Refusal::OverQuota));
}

#[test]
fn reaching_a_limit_exactly_is_allowed_and_passing_it_stores_nothing() {
    let store = store_with(&["alice"]);
    store.set_default_quota(QuotaLimits {
        storage: 3 * 40,
        messages: 0,
    });
    let inbox = mailbox(&store, "alice", "INBOX");
    append(&store, inbox, 2, "alice").unwrap();
    assert!(!store.quota(&user("alice")).unwrap().unwrap().is_full());
    assert_eq!(append(&store, inbox, 2, "alice"), Err(Refusal::OverQuota));
    assert_eq!(store.uids(inbox).unwrap(), vec![1, 2], "all or nothing");
    assert_eq!(append(&store, inbox, 1, "alice").unwrap(), vec![3]);
    assert_eq!(append(&store, inbox, 1, "alice"), Err(Refusal::OverQuota));
    assert_eq!(usage(&store, "alice"), used(3));
    assert!(store.quota(&user("alice")).unwrap().unwrap().is_full());
    // Expunging makes room again; a limit lowered below the usage still lets it fall.
    store
        .expunge(inbox, ExpungeScope::Exactly(&[1]))
        .unwrap()
        .unwrap();
    assert_eq!(append(&store, inbox, 1, "alice").unwrap(), vec![4]);
    store.set_default_quota(QuotaLimits {
        storage: 0,
        messages: 1,
    });
    store
        .expunge(inbox, ExpungeScope::Exactly(&[2]))
        .unwrap()
        .unwrap();
    assert_eq!(usage(&store, "alice"), used(2));
}

#[test]
fn overrides_replace_the_defaults_until_reset() {
    let store = store_with(&["alice"]);
    store.set_default_quota(QuotaLimits {
        storage: 1000,
        messages: 10,
    });
    let quota = store
        .change_quota(
            &user("alice"),
            QuotaOverride {
                storage: Some(0),
                messages: None,
            },
            false,
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        quota.limits,
        QuotaLimits {
            storage: 0,
            messages: 10
        }
    );
    let quota = store
        .change_quota(&user("alice"), QuotaOverride::default(), true)
        .unwrap()
        .unwrap();
    assert_eq!(quota.overrides, QuotaOverride::default());
    assert_eq!(quota.limits.storage, 1000);
    assert_eq!(
        store
            .change_quota(&user("nobody"), QuotaOverride::default(), true)
            .unwrap(),
        Err(Refusal::NoSuchUser)
    );
}

#[test]
fn concurrent_appends_cannot_both_pass_a_limit_only_one_fits() {
    let store = Arc::new(store_with(&["alice"]));
    store.set_default_quota(QuotaLimits {
        storage: 0,
        messages: 5,
    });
    let inbox = mailbox(&store, "alice", "INBOX");
    let results: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || append(&store, inbox, 1, "alice"))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
    assert_eq!(store.uids(inbox).unwrap().len(), 5);
    assert_eq!(usage(&store, "alice"), used(5));
}

#[test]
fn removing_an_account_removes_its_quota() {
    let store = store_with(&["alice"]);
    let inbox = mailbox(&store, "alice", "INBOX");
    append(&store, inbox, 2, "alice").unwrap();
    store
        .change_quota(
            &user("alice"),
            QuotaOverride {
                storage: Some(1),
                messages: Some(1),
            },
            false,
        )
        .unwrap()
        .unwrap();
    store.remove_user(&user("alice")).unwrap().unwrap();
    store.add_user(&user("alice"), "pw").unwrap().unwrap();
    let quota = store.quota(&user("alice")).unwrap().unwrap();
    assert_eq!(quota.usage, Usage::default());
    assert_eq!(quota.overrides, QuotaOverride::default());
}

#[test]
fn a_store_written_before_quotas_gets_its_usage_counted_once_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        for name in ["alice", "karen"] {
            store.add_user(&user(name), "pw").unwrap().unwrap();
        }
        append(&store, mailbox(&store, "alice", "INBOX"), 3, "alice").unwrap();
        append(&store, mailbox(&store, "alice", "Lists/rust"), 2, "alice").unwrap();
        append(&store, mailbox(&store, "karen", "INBOX"), 1, "karen").unwrap();
        store
            .change_quota(
                &user("karen"),
                QuotaOverride {
                    storage: None,
                    messages: Some(7),
                },
                false,
            )
            .unwrap()
            .unwrap();
    }
    {
        // What an earlier build left: no `Q` records and no counter saying they exist.
        let engine = SledEngine::open(dir.path()).unwrap();
        let mut ops: Vec<_> = engine
            .scan_prefix(&[key::QUOTA])
            .map(|entry| (entry.unwrap().0, None))
            .collect();
        assert_eq!(ops.len(), 2);
        ops.push((key::counter("quota-usage"), None));
        engine.apply(WriteBatch { ops }).unwrap();
        engine.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(usage(&store, "alice"), used(5));
    assert_eq!(usage(&store, "karen"), used(1));
    let quota = store.quota(&user("karen")).unwrap().unwrap();
    assert_eq!(quota.overrides, QuotaOverride::default());
    // Counted once: from now on only the changes move the counters.
    store
        .expunge(
            mailbox(&store, "alice", "INBOX"),
            ExpungeScope::Exactly(&[1]),
        )
        .unwrap()
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(usage(&store, "alice"), used(4));
}
