//! What LIST-STATUS costs: `LIST "" * RETURN (STATUS (MESSAGES UNSEEN))` over 1,000
//! mailboxes of 10 messages each, answered by the same code as the server's LIST. The
//! figures come from each mailbox's counters, so the cost grows with the mailboxes, not
//! with their messages.
//!
//! Run: `cargo bench --bench list`.

use criterion::{criterion_group, criterion_main, Criterion};
use mailhive::imap::list::{self, ListRequest};
use mailhive_protocol::imap::command::{ListOptions, StatusItem};
use mailhive_store::{Flags, InternalDate, MailboxName, NewMessage, Store, Username};

const MAILBOXES: usize = 1_000;
const MESSAGES_EACH: u64 = 10;

fn populated(dir: &std::path::Path) -> (Store, Username) {
    let store = Store::open(dir).expect("open");
    let user = Username::parse("bench").expect("valid name");
    store
        .add_user(&user, "pw")
        .expect("store")
        .expect("new user");
    for n in 0..MAILBOXES {
        let name = MailboxName::parse(&format!("Folders/{:02}/box{n}", n % 50)).expect("name");
        let id = store
            .create_mailbox(&user, &name, None, &user)
            .expect("store")
            .expect("created");
        let raws: Vec<Vec<u8>> = (0..MESSAGES_EACH)
            .map(|m| {
                format!("From: a@example.org\r\nSubject: {n}.{m}\r\n\r\nbody\r\n").into_bytes()
            })
            .collect();
        let batch: Vec<NewMessage<'_>> = raws
            .iter()
            .map(|raw| NewMessage {
                raw,
                flags: Flags::default(),
                internal_date: InternalDate::now(),
            })
            .collect();
        store
            .append(id, &batch, &user)
            .expect("store")
            .expect("append");
    }
    (store, user)
}

fn list_status(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let (store, user) = populated(dir.path());
    let request = ListRequest {
        reference: String::new(),
        patterns: vec!["*".into()],
        options: ListOptions {
            status: vec![StatusItem::Messages, StatusItem::Unseen],
            ..ListOptions::default()
        },
        lsub: false,
    };
    let (out, _) = list::answer(&store, &user, &request, false).expect("list");
    let statuses = out.windows(9).filter(|w| w == b"* STATUS ").count();
    assert!(statuses > MAILBOXES, "{statuses} STATUS answers");
    c.bench_function(
        "LIST \"\" * RETURN (STATUS (MESSAGES UNSEEN)), 1,000 mailboxes",
        |b| b.iter(|| list::answer(&store, &user, &request, false).expect("list")),
    );
}

criterion_group!(benches, list_status);
criterion_main!(benches);
