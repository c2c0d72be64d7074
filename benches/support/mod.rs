//! What the store-backed benchmarks share: a store on disk under cargo's target
//! directory (so that every write pays a real flush) with one user, and appending many
//! messages in batches.

use mailhive_store::{Flags, InternalDate, MailboxId, MailboxName, NewMessage, Store, Username};

/// The benchmarks' one user.
pub fn user() -> Username {
    Username::parse("bench").expect("valid name")
}

/// A scratch directory under cargo's target directory.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir")
}

/// A store in `dir` with [`user`] and the id of their INBOX.
pub fn store_with_user(dir: &std::path::Path) -> (Store, MailboxId) {
    let store = Store::open(dir).expect("open");
    store
        .add_user(&user(), "pw")
        .expect("store")
        .expect("new user");
    let inbox = store
        .mailbox(&user(), &MailboxName::inbox())
        .expect("store")
        .expect("INBOX")
        .id;
    (store, inbox)
}

/// Appends `raws` to `mailbox`, a thousand per transaction.
pub fn append_all(store: &Store, mailbox: MailboxId, raws: &[Vec<u8>]) {
    for chunk in raws.chunks(1_000) {
        let batch: Vec<NewMessage<'_>> = chunk
            .iter()
            .map(|raw| NewMessage {
                raw,
                flags: Flags::default(),
                internal_date: InternalDate::now(),
            })
            .collect();
        store
            .append(mailbox, &batch, &user())
            .expect("store")
            .expect("append");
    }
}
