//! Message semantics through the public API, including reopening the store, on every
//! engine (sled, PostgreSQL); the object files of large bodies are sled's own.

#[macro_use]
mod support;

use mailhive_store::{
    ExpungeScope, FlagChange, Flags, InternalDate, MailboxId, MailboxName, NewMessage, Refusal,
    Store, SystemFlags, Username,
};
use support::Backend;

fn user() -> Username {
    Username::parse("alice").unwrap()
}

fn inbox(store: &Store) -> MailboxId {
    store
        .mailbox(&user(), &MailboxName::inbox())
        .unwrap()
        .unwrap()
        .id
}

fn message(raw: &[u8]) -> NewMessage<'_> {
    NewMessage {
        raw,
        flags: Flags::default(),
        internal_date: InternalDate {
            unix_seconds: 1_700_000_000,
            offset_minutes: 0,
        },
    }
}

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir).unwrap()
}

fn uids_strictly_increase_and_are_never_reused_across_expunge_and_restart(backend: &Backend) {
    let (validity, last) = {
        let store = backend.open();
        store.add_user(&user(), "pw").unwrap().unwrap();
        let mb = inbox(&store);
        let uids = store
            .append(
                mb,
                &[
                    message(b"Subject: 1\r\n\r\na"),
                    message(b"Subject: 2\r\n\r\nb"),
                ],
                &user(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(uids, [1, 2]);
        let all = FlagChange::Add(Flags::new(SystemFlags::DELETED, []));
        store.store_flags(mb, &[2], &all, &user()).unwrap().unwrap();
        assert_eq!(
            store
                .expunge(mb, ExpungeScope::AllDeleted)
                .unwrap()
                .unwrap(),
            [2]
        );
        let info = store.mailbox_by_id(mb).unwrap().unwrap();
        (info.uid_validity, info.uid_next)
    };
    let store = backend.open();
    let mb = inbox(&store);
    let info = store.mailbox_by_id(mb).unwrap().unwrap();
    assert_eq!(info.uid_validity, validity);
    assert_eq!(info.uid_next, last);
    assert_eq!(
        store
            .append(mb, &[message(b"Subject: 3\r\n\r\nc")], &user())
            .unwrap()
            .unwrap(),
        [3]
    );
    assert_eq!(store.uids(mb).unwrap(), [1, 3]);
    assert_eq!(info.messages, 1);
}

fn flags_keywords_and_internal_dates_round_trip(backend: &Backend) {
    let date = InternalDate {
        unix_seconds: 1_234_567_890,
        offset_minutes: -330,
    };
    {
        let store = backend.open();
        store.add_user(&user(), "pw").unwrap().unwrap();
        let flags = Flags::new(
            SystemFlags::SEEN.union(SystemFlags::FLAGGED),
            ["$Label1".into(), "Work".into()],
        );
        let m = NewMessage {
            raw: b"Subject: x\r\n\r\nbody",
            flags,
            internal_date: date,
        };
        store.append(inbox(&store), &[m], &user()).unwrap().unwrap();
    }
    let store = backend.open();
    let mb = inbox(&store);
    let got = store.message(mb, 1).unwrap().unwrap();
    assert_eq!(got.internal_date, date);
    assert!(got.flags.system.contains(SystemFlags::FLAGGED));
    assert_eq!(got.flags.keywords(), ["$Label1", "Work"]);
    let info = store.mailbox_by_id(mb).unwrap().unwrap();
    assert_eq!(info.unseen, 0);
    assert_eq!(info.keywords, ["$Label1", "Work"]);

    let remove = FlagChange::Remove(Flags::new(SystemFlags::SEEN, ["Work".into()]));
    let changed = store
        .store_flags(mb, &[1, 99], &remove, &user())
        .unwrap()
        .unwrap();
    assert_eq!(changed.len(), 1);
    assert!(changed[0].modseq > got.modseq);
    assert_eq!(changed[0].flags.keywords(), ["$Label1"]);
    assert_eq!(store.mailbox_by_id(mb).unwrap().unwrap().unseen, 1);
    // A change that changes nothing reports nothing.
    assert!(store
        .store_flags(mb, &[1], &remove, &user())
        .unwrap()
        .unwrap()
        .is_empty());
}

/// `len` bytes that do not compress (so the body is stored as an object).
fn incompressible(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(x % 64) as usize]
        })
        .collect()
}

fn objects_on_disk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("objects"))
        .unwrap()
        .map(|bucket| std::fs::read_dir(bucket.unwrap().path()).unwrap().count())
        .sum()
}

fn bodies_read_back_byte_exact_whole_and_in_ranges_across_chunks(backend: &Backend) {
    let store = backend.open();
    store.add_user(&user(), "pw").unwrap().unwrap();
    let mb = inbox(&store);
    let compressible: Vec<u8> = (0..700_000u32)
        .map(|i| b"abcdefghij\r\n"[(i % 12) as usize])
        .collect();
    for body in [compressible, incompressible(700_000)] {
        let raw = [&b"Subject: big\r\n\r\n"[..], &body].concat();
        let uid = store
            .append(mb, &[message(&raw)], &user())
            .unwrap()
            .unwrap()[0];
        let blob = store.message(mb, uid).unwrap().unwrap().blob;
        assert_eq!(store.read_body(blob).unwrap(), raw);
        for (start, end) in [
            (0, 10),
            (262_140, 262_150),
            (500_000, 700_016),
            (700_000, 800_000),
        ] {
            let want = &raw[start.min(raw.len())..end.min(raw.len())];
            assert_eq!(
                store
                    .read_body_range(blob, start as u32..end as u32)
                    .unwrap(),
                want
            );
        }
        assert_eq!(store.summary(blob).unwrap().header("subject"), Some("big"));
    }
}

#[test]
fn large_bodies_are_objects_removed_with_their_last_reference_and_orphans_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.add_user(&user(), "pw").unwrap().unwrap();
    let mb = inbox(&store);
    let small = b"Subject: small\r\n\r\nhello\r\n".to_vec();
    let large = [&b"Subject: large\r\n\r\n"[..], &incompressible(100_000)].concat();
    store
        .append(mb, &[message(&small), message(&large)], &user())
        .unwrap()
        .unwrap();
    assert_eq!(
        objects_on_disk(dir.path()),
        1,
        "only the large body is a file"
    );
    let archive = store
        .mailbox(&user(), &MailboxName::parse("Archive").unwrap())
        .unwrap()
        .unwrap()
        .id;
    store
        .copy_messages(mb, &[2], archive, true, &user())
        .unwrap()
        .unwrap();
    store
        .expunge(mb, ExpungeScope::Exactly(&[2]))
        .unwrap()
        .unwrap();
    assert_eq!(
        objects_on_disk(dir.path()),
        1,
        "the copy still refers to it"
    );
    assert_eq!(
        store
            .read_body(store.message(archive, 1).unwrap().unwrap().blob)
            .unwrap(),
        large
    );
    store
        .expunge(archive, ExpungeScope::Exactly(&[1]))
        .unwrap()
        .unwrap();
    assert_eq!(
        objects_on_disk(dir.path()),
        0,
        "the last reference removed the file"
    );
    drop(store);

    // A crash between writing an object and committing its record leaves an orphan.
    std::fs::write(dir.path().join("objects/07/0000000000000007"), b"orphan").unwrap();
    let store = open(dir.path());
    assert_eq!(
        objects_on_disk(dir.path()),
        0,
        "the orphan is swept at open"
    );
    assert_eq!(store.uids(inbox(&store)).unwrap(), [1]);
}

fn copies_share_one_body_and_metadata_follows_the_switch(backend: &Backend) {
    let store = backend.open();
    store.add_user(&user(), "pw").unwrap().unwrap();
    let mb = inbox(&store);
    let archive = store
        .mailbox(&user(), &MailboxName::parse("Archive").unwrap())
        .unwrap()
        .unwrap()
        .id;
    let m = NewMessage {
        flags: Flags::new(SystemFlags::ANSWERED, []),
        ..message(b"Subject: c\r\n\r\nx")
    };
    store.append(mb, &[m], &user()).unwrap().unwrap();
    assert_eq!(
        store
            .copy_messages(mb, &[1], archive, true, &user())
            .unwrap()
            .unwrap(),
        [(1, 1)]
    );
    assert_eq!(
        store
            .copy_messages(mb, &[1], archive, false, &user())
            .unwrap()
            .unwrap(),
        [(1, 2)]
    );
    let kept = store.message(archive, 1).unwrap().unwrap();
    let reset = store.message(archive, 2).unwrap().unwrap();
    let original = store.message(mb, 1).unwrap().unwrap();
    assert_eq!(kept.blob, original.blob);
    assert_eq!(
        (kept.flags.clone(), kept.internal_date),
        (original.flags.clone(), original.internal_date)
    );
    assert_eq!(reset.flags, Flags::default());
    assert_ne!(reset.internal_date, original.internal_date);

    // Expunging the original keeps the copies' shared body.
    store
        .expunge(mb, ExpungeScope::Exactly(&[1]))
        .unwrap()
        .unwrap();
    assert!(store.read_body(kept.blob).is_ok());
    assert_eq!(
        store
            .move_messages(archive, &[1, 2], mb, true, &user())
            .unwrap()
            .unwrap(),
        [(1, 2), (2, 3)]
    );
    assert!(store.uids(archive).unwrap().is_empty());
    assert_eq!(store.mailbox_by_id(archive).unwrap().unwrap().messages, 0);
    store
        .expunge(mb, ExpungeScope::Exactly(&[2, 3]))
        .unwrap()
        .unwrap();
    assert!(
        store.read_body(kept.blob).is_err(),
        "the last reference removes the body"
    );
}

fn expunge_scopes(backend: &Backend) {
    let store = backend.open();
    store.add_user(&user(), "pw").unwrap().unwrap();
    let mb = inbox(&store);
    let batch: Vec<_> = (0..4).map(|_| message(b"Subject: e\r\n\r\nx")).collect();
    store.append(mb, &batch, &user()).unwrap().unwrap();
    let deleted = FlagChange::Add(Flags::new(SystemFlags::DELETED, []));
    store
        .store_flags(mb, &[1, 2], &deleted, &user())
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .expunge(mb, ExpungeScope::DeletedAmong(&[2, 3]))
            .unwrap()
            .unwrap(),
        [2]
    );
    assert_eq!(
        store
            .expunge(mb, ExpungeScope::Exactly(&[3]))
            .unwrap()
            .unwrap(),
        [3]
    );
    assert_eq!(
        store
            .expunge(mb, ExpungeScope::AllDeleted)
            .unwrap()
            .unwrap(),
        [1]
    );
    assert_eq!(store.uids(mb).unwrap(), [4]);
    let info = store.mailbox_by_id(mb).unwrap().unwrap();
    assert_eq!((info.messages, info.unseen), (1, 1));
}

fn a_deleted_mailboxs_messages_are_gone(backend: &Backend) {
    let store = backend.open();
    store.add_user(&user(), "pw").unwrap().unwrap();
    let name = MailboxName::parse("Old").unwrap();
    let id = store
        .create_mailbox(&user(), &name, None, &user())
        .unwrap()
        .unwrap();
    store
        .append(id, &[message(b"Subject: d\r\n\r\nx")], &user())
        .unwrap()
        .unwrap();
    let blob = store.message(id, 1).unwrap().unwrap().blob;
    store.delete_mailbox(&user(), &name).unwrap().unwrap();
    assert!(store.message(id, 1).unwrap().is_none());
    assert!(store.read_body(blob).is_err());
    assert_eq!(
        store.append(id, &[message(b"x")], &user()).unwrap(),
        Err(Refusal::NoSuchMailbox)
    );
}

fn messages_scan_a_uid_range_in_order(backend: &Backend) {
    let store = backend.open();
    store.add_user(&user(), "pw").unwrap().unwrap();
    let mb = inbox(&store);
    let batch: Vec<_> = (0..10).map(|_| message(b"Subject: r\r\n\r\nx")).collect();
    store.append(mb, &batch, &user()).unwrap().unwrap();
    let uids: Vec<u32> = store.messages(mb, 3..=6).map(|m| m.unwrap().uid).collect();
    assert_eq!(uids, [3, 4, 5, 6]);
    let tail: Vec<u32> = store
        .messages(mb, 9..=u32::MAX)
        .map(|m| m.unwrap().uid)
        .collect();
    assert_eq!(tail, [9, 10]);
}

/// On a mailbox shared with her, alice's \Seen is her own: it leaves karen's alone,
/// follows her copies, and is forgotten when the message goes.
fn seen_is_per_user_on_shared_mailboxes(backend: &Backend) {
    let store = backend.open();
    let (karen, alice) = (Username::parse("karen").unwrap(), user());
    store.add_user(&karen, "pw").unwrap().unwrap();
    store.add_user(&alice, "pw").unwrap().unwrap();
    let shared = store
        .mailbox(&karen, &MailboxName::inbox())
        .unwrap()
        .unwrap()
        .id;
    let uids = store
        .append(
            shared,
            &[
                message(b"Subject: a\r\n\r\nx\r\n"),
                message(b"Subject: b\r\n\r\ny\r\n"),
            ],
            &karen,
        )
        .unwrap()
        .unwrap();
    store
        .set_acl(
            shared,
            "alice",
            mailhive_store::Rights::parse("lrsi").unwrap(),
        )
        .unwrap()
        .unwrap();
    let seen_and_flagged = Flags::new(SystemFlags::SEEN.union(SystemFlags::FLAGGED), []);
    let changed = store
        .store_flags(shared, &uids, &FlagChange::Add(seen_and_flagged), &alice)
        .unwrap()
        .unwrap();
    assert_eq!(changed.len(), 2, "\\Flagged is shared");
    assert_eq!(store.seen_by(shared, &alice).unwrap().len(), 2);
    let owners_view = store.message(shared, uids[0]).unwrap().unwrap();
    assert!(!owners_view.flags.is_seen(), "karen has not read it");
    assert!(owners_view.flags.system.contains(SystemFlags::FLAGGED));

    // Copied into her own INBOX, the message is seen, as she saw it.
    let own = inbox(&store);
    let pairs = store
        .copy_messages(shared, &uids[..1], own, true, &alice)
        .unwrap()
        .unwrap();
    assert!(store
        .message(own, pairs[0].1)
        .unwrap()
        .unwrap()
        .flags
        .is_seen());
    // Karen copies within her own mailbox: her \Seen, not alice's.
    let pairs = store
        .copy_messages(shared, &uids[..1], shared, true, &karen)
        .unwrap()
        .unwrap();
    assert!(!store
        .message(shared, pairs[0].1)
        .unwrap()
        .unwrap()
        .flags
        .is_seen());
    // Alice copies a seen message of hers into karen's: karen's record stays unseen,
    // alice's set gains the copy.
    let mine = store
        .append(
            own,
            &[NewMessage {
                flags: Flags::new(SystemFlags::SEEN, []),
                ..message(b"Subject: c\r\n\r\nz\r\n")
            }],
            &alice,
        )
        .unwrap()
        .unwrap();
    let pairs = store
        .copy_messages(own, &mine, shared, true, &alice)
        .unwrap()
        .unwrap();
    let copy = pairs[0].1;
    assert!(!store
        .message(shared, copy)
        .unwrap()
        .unwrap()
        .flags
        .is_seen());
    assert!(store.seen_by(shared, &alice).unwrap().contains(copy));

    store
        .expunge(shared, ExpungeScope::Exactly(&[uids[0], copy]))
        .unwrap()
        .unwrap();
    let seen = store.seen_by(shared, &alice).unwrap();
    assert_eq!(seen.len(), 1, "expunged messages leave the set");
    assert!(seen.contains(uids[1]));
    // Rights taken away take the set with them.
    store
        .set_acl(shared, "alice", mailhive_store::Rights::default())
        .unwrap()
        .unwrap();
    assert!(store.seen_by(shared, &alice).unwrap().is_empty());
}

fn records_and_summaries_read_at_once_equal_those_read_one_by_one(backend: &Backend) {
    let store = backend.open();
    store.add_user(&user(), "pw").unwrap().unwrap();
    let mb = inbox(&store);
    let raws: Vec<Vec<u8>> = (0..1_100)
        .map(|n| format!("Subject: m{n}\r\n\r\nbody {n}").into_bytes())
        .collect();
    let new: Vec<NewMessage<'_>> = raws.iter().map(|r| message(r)).collect();
    store.append(mb, &new, &user()).unwrap().unwrap();
    store
        .expunge(mb, ExpungeScope::Exactly(&[2, 1_050]))
        .unwrap()
        .unwrap();
    // More keys than one query of the PostgreSQL engine asks for, some gone, one twice.
    let uids: Vec<u32> = (1..=1_101).chain([3]).collect();
    let records = store.messages_of(mb, &uids).unwrap();
    assert_eq!(records.len(), uids.len());
    for (&uid, record) in uids.iter().zip(&records) {
        let alone = store.message(mb, uid).unwrap();
        assert_eq!(
            record.as_ref().map(|r| r.uid),
            alone.as_ref().map(|r| r.uid)
        );
        assert_eq!(
            record.as_ref().map(|r| r.blob),
            alone.map(|r| r.blob),
            "{uid}"
        );
    }
    assert!(records[1].is_none() && records[1_049].is_none() && records[1_100].is_none());
    let blobs: Vec<_> = records.iter().flatten().map(|r| r.blob).collect();
    let summaries = store.summaries_of(&blobs).unwrap();
    assert_eq!(summaries.len(), blobs.len());
    for (&blob, summary) in blobs.iter().zip(&summaries) {
        assert_eq!(
            summary.envelope.subject,
            store.summary(blob).unwrap().envelope.subject
        );
    }
}

on_every_engine!(
    records_and_summaries_read_at_once_equal_those_read_one_by_one,
    uids_strictly_increase_and_are_never_reused_across_expunge_and_restart,
    flags_keywords_and_internal_dates_round_trip,
    bodies_read_back_byte_exact_whole_and_in_ranges_across_chunks,
    copies_share_one_body_and_metadata_follows_the_switch,
    expunge_scopes,
    a_deleted_mailboxs_messages_are_gone,
    messages_scan_a_uid_range_in_order,
    seen_is_per_user_on_shared_mailboxes,
);
