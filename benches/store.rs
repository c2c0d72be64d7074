//! Store benchmarks: the cost of one durable append, flag change and expunge in mailboxes
//! of 1,000, 10,000 and 100,000 messages (it should not grow with the mailbox), and mbox
//! import throughput. Stores live on disk under cargo's target directory, so every
//! operation pays a real flush.
//!
//! Run: `cargo bench --bench store` (about ten minutes on two cores).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use indicatif::ProgressBar;
use mailhive::import::{import, MboxSource};
use mailhive::mbox::Format;
use mailhive_store::{
    ExpungeScope, FlagChange, Flags, InternalDate, MailboxId, MailboxName, NewMessage, Store,
    SystemFlags, Username,
};
use std::time::Duration;

const SIZES: [u32; 3] = [1_000, 10_000, 100_000];

fn sample_message(n: u64) -> Vec<u8> {
    let corpus = include_bytes!("../fixtures/demo.mbox");
    let text = String::from_utf8_lossy(&corpus[..2_000]);
    format!("From: bench{n}@example.org\r\nSubject: message {n}\r\nMessage-ID: <{n}@bench>\r\n\r\n{text}\r\n").into_bytes()
}

fn user() -> Username {
    Username::parse("bench").expect("valid name")
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir")
}

/// A store whose INBOX holds `count` messages.
fn populated(count: u32) -> (tempfile::TempDir, Store, MailboxId) {
    let dir = scratch();
    let store = Store::open(dir.path()).expect("open");
    store
        .add_user(&user(), "pw")
        .expect("store")
        .expect("new user");
    let inbox = store
        .mailbox(&user(), &MailboxName::inbox())
        .expect("store")
        .expect("INBOX")
        .id;
    let raws: Vec<Vec<u8>> = (0..count as u64).map(sample_message).collect();
    for chunk in raws.chunks(1_000) {
        let batch: Vec<NewMessage<'_>> = chunk
            .iter()
            .map(|raw| NewMessage {
                raw,
                flags: Flags::default(),
                internal_date: InternalDate::now(),
            })
            .collect();
        store.append(inbox, &batch).expect("store").expect("append");
    }
    (dir, store, inbox)
}

fn per_operation(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_operation");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(6));
    for count in SIZES {
        let (_dir, store, inbox) = populated(count);
        let raw = sample_message(u64::MAX);
        group.bench_with_input(BenchmarkId::new("append", count), &count, |b, _| {
            b.iter(|| {
                let m = NewMessage {
                    raw: &raw,
                    flags: Flags::default(),
                    internal_date: InternalDate::now(),
                };
                store.append(inbox, &[m]).expect("store").expect("append")
            })
        });
        let mut uid = 0u32;
        let seen = Flags::new(SystemFlags::SEEN, []);
        group.bench_with_input(BenchmarkId::new("flag", count), &count, |b, _| {
            b.iter(|| {
                uid = uid % count + 1;
                store
                    .store_flags(inbox, &[uid], &FlagChange::Add(seen.clone()))
                    .expect("store")
                    .expect("flag");
                store
                    .store_flags(inbox, &[uid], &FlagChange::Remove(seen.clone()))
                    .expect("store")
                    .expect("flag")
            })
        });
        let mut next = 0u32;
        group.bench_with_input(BenchmarkId::new("expunge", count), &count, |b, _| {
            b.iter_batched(
                || {
                    next = next % count + 1;
                    next
                },
                |victim| {
                    store
                        .expunge(inbox, ExpungeScope::Exactly(&[victim]))
                        .expect("store")
                        .expect("expunge")
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn import_throughput(c: &mut Criterion) {
    let demo: &'static [u8] = include_bytes!("../fixtures/demo.mbox");
    let corpus: &'static [u8] = include_bytes!("../fixtures/corpus.mbox");
    let mut mbox = Vec::new();
    while mbox.len() < 32 << 20 {
        mbox.extend_from_slice(demo);
        mbox.extend_from_slice(corpus);
    }
    let mbox: &'static [u8] = Box::leak(mbox.into_boxed_slice());
    let mut group = c.benchmark_group("import");
    group
        .sample_size(10)
        .throughput(Throughput::Bytes(mbox.len() as u64));
    group.bench_function("mbox_32MiB", |b| {
        b.iter_batched(
            || {
                let dir = scratch();
                let store = Store::open(dir.path()).expect("open");
                store.add_user(&user(), "pw").expect("store").expect("user");
                (dir, store)
            },
            |(_dir, store)| {
                let source =
                    MboxSource::from_bytes("bench", mbox, Format::Mboxrd, 64 << 20).expect("mbox");
                import(
                    &store,
                    &user(),
                    &MailboxName::inbox(),
                    vec![source],
                    &ProgressBar::hidden(),
                )
                .expect("import")
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, per_operation, import_throughput);
criterion_main!(benches);
