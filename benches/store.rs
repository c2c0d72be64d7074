//! Store benchmarks: the cost of one durable append, flag change and expunge in mailboxes
//! of 1,000, 10,000 and 100,000 messages (it should not grow with the mailbox), and mbox
//! import throughput. Stores live on disk under cargo's target directory, so every
//! operation pays a real flush.
//!
//! Run: `cargo bench --bench store` (about fifteen minutes on two cores).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use indicatif::ProgressBar;
use mailhive::import::{import, MboxSource};
use mailhive::mbox::Format;
use mailhive_store::{
    Duplicates, ExpungeScope, FlagChange, Flags, InternalDate, MailboxId, MailboxName, NewMessage,
    Store, SystemFlags,
};
use std::time::Duration;
use support::{append_all, scratch, store_with_user, user};

mod support;

const SIZES: [u32; 3] = [1_000, 10_000, 100_000];

fn sample_message(n: u64) -> Vec<u8> {
    let corpus = include_bytes!("../fixtures/demo.mbox");
    let text = String::from_utf8_lossy(&corpus[..2_000]);
    format!("From: bench{n}@example.org\r\nSubject: message {n}\r\nMessage-ID: <{n}@bench>\r\n\r\n{text}\r\n").into_bytes()
}

/// A store whose INBOX holds `count` messages.
fn populated(count: u32) -> (tempfile::TempDir, Store, MailboxId) {
    let dir = scratch();
    let (store, inbox) = store_with_user(dir.path());
    let raws: Vec<Vec<u8>> = (0..count as u64).map(sample_message).collect();
    append_all(&store, inbox, &raws);
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
                store
                    .append(inbox, &[m], &user())
                    .expect("store")
                    .expect("append")
            })
        });
        let mut uid = 0u32;
        let seen = Flags::new(SystemFlags::SEEN, []);
        group.bench_with_input(BenchmarkId::new("flag", count), &count, |b, _| {
            b.iter(|| {
                uid = uid % count + 1;
                store
                    .store_flags(inbox, &[uid], &FlagChange::Add(seen.clone()), &user())
                    .expect("store")
                    .expect("flag");
                store
                    .store_flags(inbox, &[uid], &FlagChange::Remove(seen.clone()), &user())
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

/// A deterministic mbox of about `target` bytes resembling real mail: text bodies of a
/// few KB, and 40% of messages with a base64 attachment of incompressible bytes.
fn realistic_mbox(target: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let syllables = [
        "ka", "lo", "mi", "ten", "ra", "so", "vel", "dor", "an", "ex", "qui", "pra", "lum", "tor",
    ];
    let word = |next: &mut dyn FnMut() -> u64| -> String {
        (0..1 + next() % 3)
            .map(|_| syllables[(next() % syllables.len() as u64) as usize])
            .collect()
    };
    let mut out = Vec::with_capacity(target + (1 << 20));
    let mut n = 0u64;
    while out.len() < target {
        n += 1;
        let subject: Vec<String> = (0..5).map(|_| word(&mut next)).collect();
        let mut text = String::new();
        for _ in 0..20 + next() % 60 {
            let line: Vec<String> = (0..5 + next() % 9).map(|_| word(&mut next)).collect();
            text.push_str(&line.join(" "));
            text.push('\n');
        }
        out.extend_from_slice(format!("From sender Mon Jan  5 10:00:00 2026\nFrom: a{n}@example.org\nTo: b@example.net\nSubject: {}\nMessage-ID: <{n}@bench>\nMIME-Version: 1.0\n", subject.join(" ")).as_bytes());
        if next() % 10 < 4 {
            out.extend_from_slice(b"Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n");
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n");
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            for _ in 0..300 + next() % 2_000 {
                out.extend((0..76).map(|_| alphabet[(next() % 64) as usize]));
                out.push(b'\n');
            }
            out.extend_from_slice(b"--b--\n\n");
        } else {
            out.extend_from_slice(b"Content-Type: text/plain\n\n");
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// The demo and fixture mail repeated: messages of about 440 bytes, the worst case.
fn tiny_mbox(target: usize) -> Vec<u8> {
    let demo: &[u8] = include_bytes!("../fixtures/demo.mbox");
    let mut mbox = Vec::new();
    while mbox.len() < target {
        mbox.extend_from_slice(demo);
    }
    mbox
}

/// Imports `mbox` into `store`'s user's INBOX.
fn import_into(store: &Store, name: &str, mbox: &'static [u8], duplicates: Duplicates) -> u64 {
    let source = MboxSource::from_bytes(name, mbox, Format::Mboxrd, 64 << 20).expect("mbox");
    let summary = import(
        store,
        &user(),
        &MailboxName::inbox(),
        vec![source],
        duplicates,
        &ProgressBar::hidden(),
    )
    .expect("import");
    assert_eq!(summary.skipped, 0);
    summary.duplicates
}

/// The import's throughput: realistic mail (with the duplicate check, as `import-mbox`
/// runs by default, and without it, as with `--allow-duplicates`), tiny messages (the demo mail repeated, so stored with
/// `--allow-duplicates`), and realistic mail imported again into the mailbox that holds
/// it (every message found by the check and skipped).
fn import_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    let realistic: &'static [u8] = Box::leak(realistic_mbox(64 << 20).into_boxed_slice());
    let tiny: &'static [u8] = Box::leak(tiny_mbox(16 << 20).into_boxed_slice());
    for (name, mbox, duplicates, again) in [
        ("realistic_64MB", realistic, Duplicates::Skip, false),
        (
            "realistic_64MB_allow_duplicates",
            realistic,
            Duplicates::Store,
            false,
        ),
        ("tiny_messages_16MB", tiny, Duplicates::Store, false),
        (
            "realistic_64MB_run_again",
            realistic,
            Duplicates::Skip,
            true,
        ),
    ] {
        group.throughput(Throughput::Bytes(mbox.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let dir = scratch();
                    let store = Store::open(dir.path()).expect("open");
                    store.add_user(&user(), "pw").expect("store").expect("user");
                    if again {
                        import_into(&store, name, mbox, Duplicates::Skip);
                    }
                    (dir, store)
                },
                |(dir, store)| {
                    let skipped = import_into(&store, name, mbox, duplicates);
                    assert_eq!(skipped > 0, again, "{name}: {skipped} duplicates");
                    (dir, store)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, per_operation, import_throughput);
criterion_main!(benches);
