//! What a resynchronisation costs when little changed: a mailbox of 100,000 messages of
//! which 10 changed flags and 10 were expunged since the client's modseq.
//!
//! Run: `cargo bench --bench condstore`. It measures
//! - `vanished since m`: the store's expunge log answering VANISHED (EARLIER): a scan of
//!   the 10 entries after m;
//! - `resync lines`: what a QRESYNC SELECT (or FETCH 1:* (FLAGS) (CHANGEDSINCE m)) adds
//!   from the session's view — its modseqs in memory, no store read;
//! - `every record`: reading all 100,000 message records, what a client without
//!   CONDSTORE makes the server do to learn the same (FETCH 1:* (FLAGS) after a new
//!   SELECT), and what the SELECT's own snapshot costs with or without QRESYNC.

use criterion::{criterion_group, criterion_main, Criterion};
use mailhive::imap::condstore::resync_lines;
use mailhive::imap::namespace::Located;
use mailhive::imap::view::View;
use mailhive::mailbox::Snapshot;
use mailhive_protocol::imap::command::Qresync;
use mailhive_store::{ExpungeScope, FlagChange, Flags, MailboxId, Rights, Store, SystemFlags};
use support::{append_all, scratch, store_with_user, user};

mod support;

const MESSAGES: u32 = 100_000;
const CHANGED: u32 = 10;

/// The store, its INBOX and the modseq before the last changes.
fn mailbox_with_few_changes(dir: &std::path::Path) -> (Store, MailboxId, u64) {
    let (store, inbox) = store_with_user(dir);
    let raw = b"From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n".to_vec();
    append_all(&store, inbox, &vec![raw; MESSAGES as usize]);
    let since = store
        .mailbox_by_id(inbox)
        .expect("store")
        .expect("INBOX")
        .highest_modseq;
    let flagged = FlagChange::Add(Flags::new(SystemFlags::FLAGGED, []));
    let changed: Vec<u32> = (1..=CHANGED).map(|i| i * 9_000).collect();
    store
        .store_flags(inbox, &changed, &flagged, &user())
        .expect("store")
        .expect("flags");
    let gone: Vec<u32> = (1..=CHANGED).map(|i| i * 9_000 + 1).collect();
    store
        .expunge(inbox, ExpungeScope::Exactly(&gone))
        .expect("store")
        .expect("expunge");
    (store, inbox, since)
}

fn view_of(store: &Store, inbox: MailboxId) -> View {
    let info = store.mailbox_by_id(inbox).expect("store").expect("INBOX");
    let mut snapshot = Snapshot {
        uids: Vec::new(),
        flags: Vec::new(),
        modseqs: Vec::new(),
        highest_modseq: info.highest_modseq,
        recent: 0..0,
    };
    for message in store.messages(inbox, 1..=u32::MAX) {
        let message = message.expect("record");
        snapshot.uids.push(message.uid);
        snapshot.flags.push(message.flags);
        snapshot.modseqs.push(message.modseq);
    }
    let located = Located {
        info,
        rights: Rights::all(),
        display: "INBOX".into(),
        shared: false,
    };
    View::new(located, false, snapshot, 1, None)
}

fn resync(c: &mut Criterion) {
    let dir = scratch();
    let (store, inbox, since) = mailbox_with_few_changes(dir.path());
    let view = view_of(&store, inbox);
    let known = Qresync {
        uid_validity: view.info.uid_validity,
        modseq: since,
        known_uids: None,
        seq_match: None,
    };
    let mut group = c.benchmark_group("resync of 100,000 messages, 10 changed and 10 expunged");
    group.bench_function("vanished since m (store)", |b| {
        b.iter(|| {
            let gone = store.vanished_since(inbox, since).expect("store");
            assert_eq!(gone.uids.len(), CHANGED as usize);
        })
    });
    group.bench_function("resync lines (view)", |b| {
        b.iter(|| {
            let gone = store.vanished_since(inbox, since).expect("store");
            let lines = resync_lines(&view, &known, gone);
            assert_eq!(lines.split(|&b| b == b'\n').count(), CHANGED as usize + 2);
        })
    });
    group.sample_size(10);
    group.bench_function("every record (store)", |b| {
        b.iter(|| assert_eq!(store.messages(inbox, 1..=u32::MAX).count(), 99_990))
    });
    group.finish();
}

criterion_group!(benches, resync);
criterion_main!(benches);
