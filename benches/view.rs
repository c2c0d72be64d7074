//! What a change costs a session that has the mailbox selected.
//!
//! `cargo bench --bench view`: a view of 100,000 messages announces that 50,000 of them
//! (every other one) were expunged: one pass over the view, whatever their number.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use mailhive::imap::enabled::Enabled;
use mailhive::imap::namespace::{virtual_info, Located};
use mailhive::imap::view::View;
use mailhive::mailbox::Snapshot;
use mailhive_store::{Flags, Rights, Username};

const MESSAGES: u32 = 100_000;

fn view(messages: u32) -> View {
    let owner = Username::parse("bench").expect("a user name");
    let located = Located {
        info: virtual_info(&owner),
        rights: Rights::all(),
        display: "INBOX".into(),
        shared: false,
    };
    let snapshot = Snapshot {
        uids: (1..=messages).collect(),
        flags: vec![Flags::default(); messages as usize],
        modseqs: vec![1; messages as usize],
        highest_modseq: 1,
        recent: 0..0,
    };
    View::new(located, false, snapshot, 1, None)
}

fn expunge_half(c: &mut Criterion) {
    let every_other: Vec<u32> = (1..=MESSAGES).step_by(2).collect();
    c.bench_function("view: expunge 50,000 of 100,000", |b| {
        b.iter_batched(
            || view(MESSAGES),
            |mut view| view.remove_all(&every_other, Enabled::default()),
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, expunge_half);
criterion_main!(benches);
