//! What LIST-STATUS costs: `LIST "" * RETURN (STATUS (MESSAGES UNSEEN))` over 1,000
//! mailboxes of 10 messages each, answered by the same code as the server's LIST. The
//! figures come from each mailbox's counters, so the cost grows with the mailboxes, not
//! with their messages.
//!
//! Run: `cargo bench --bench list`.

use criterion::{criterion_group, criterion_main, Criterion};
use mailhive::imap::list::{self, ListRequest};
use mailhive_protocol::imap::command::{ListOptions, StatusItem};
use mailhive_protocol::imap::mutf7::MailboxEncoding;
use mailhive_store::{MailboxName, Store};
use support::{append_all, scratch, store_with_user, user};

mod support;

const MAILBOXES: usize = 1_000;
const MESSAGES_EACH: u64 = 10;

fn populated(dir: &std::path::Path) -> Store {
    let (store, _) = store_with_user(dir);
    for n in 0..MAILBOXES {
        let name = MailboxName::parse(&format!("Folders/{:02}/box{n}", n % 50)).expect("name");
        let id = store
            .create_mailbox(&user(), &name, None, &user())
            .expect("store")
            .expect("created");
        let raws: Vec<Vec<u8>> = (0..MESSAGES_EACH)
            .map(|m| {
                format!("From: a@example.org\r\nSubject: {n}.{m}\r\n\r\nbody\r\n").into_bytes()
            })
            .collect();
        append_all(&store, id, &raws);
    }
    store
}

fn list_status(c: &mut Criterion) {
    let dir = scratch();
    let store = populated(dir.path());
    let user = user();
    let request = ListRequest {
        reference: String::new(),
        patterns: vec!["*".into()],
        options: ListOptions {
            status: vec![StatusItem::Messages, StatusItem::Unseen],
            ..ListOptions::default()
        },
        lsub: false,
    };
    let (out, _) =
        list::answer(&store, &user, &request, false, MailboxEncoding::default()).expect("list");
    let statuses = out.windows(9).filter(|w| w == b"* STATUS ").count();
    assert!(statuses > MAILBOXES, "{statuses} STATUS answers");
    c.bench_function(
        "LIST \"\" * RETURN (STATUS (MESSAGES UNSEEN)), 1,000 mailboxes",
        |b| {
            b.iter(|| {
                list::answer(&store, &user, &request, false, MailboxEncoding::default())
                    .expect("list")
            })
        },
    );
}

criterion_group!(benches, list_status);
criterion_main!(benches);
