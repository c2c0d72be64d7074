//! The mailhive mailstore: accounts, mailboxes and messages, persisted in an embedded
//! ordered key-value engine (sled), with no networking and no async runtime.
//!
//! # Layout
//! - [`engine`]: the storage-engine seam — an ordered key space with atomic batches and
//!   a flush, and an object area for large bodies: sled (with object files beside it)
//!   and [`postgres`], the engine several processes share.
//! - [`durability`]: group commit, so that concurrent writers share one flush.
//! - [`schema`]: keys and the versioned on-disk value types.
//! - [`types`]: validated names, flags, dates and rights that callers pass in.
//! - [`mime`]: the parse done once at append (envelope, body structure, header text);
//!   [`address`]: address fields split as Dovecot splits them; [`sortkey`]: what SORT
//!   and THREAD compare, made at append.
//! - [`account`], [`mailbox`], [`message`]: the mailstore semantics, as methods on [`Store`].
//! - [`seen`]: \Seen per user on shared mailboxes; `recent`: which session holds \Recent;
//!   `vanished`: the expunged UIDs QRESYNC reports; `duplicates`: which messages a
//!   mailbox holds by bytes and internal date, for imports run again.
//! - [`settings`]: administrator settings persisted by `settings set`.
//! - [`quota`]: each account's usage and limits, kept and checked with every change.
//! - `copy`: a whole store into another, on any engines (`mailhive store copy`).
//!
//! # Invariants
//! - A mutating call returns only after its change is on disk.
//! - UIDs in a mailbox strictly increase and are never reused; UIDVALIDITY changes only
//!   when a mailbox is created anew.
//! - Every operation touches O(log n) keys of a mailbox of n messages (plus the messages it
//!   names): no per-mailbox structure grows with the message count.
//! - A message's bytes are stored once, whatever the number of mailboxes holding it.
#![forbid(unsafe_code)]
#![deny(missing_debug_implementations)]

mod account;
pub mod address;
mod blob;
mod codec;
mod copy;
mod duplicates;
pub mod durability;
pub mod engine;
mod error;
mod journal;
mod mailbox;
mod message;
pub mod mime;
mod objects;
pub mod postgres;
pub mod quota;
mod recent;
mod reparse;
pub mod schema;
pub mod seen;
mod settings;
mod sled_files;
pub mod sortkey;
mod store;
mod tx;
pub mod types;
mod vanished;

pub use copy::CopyError;
pub use error::{Outcome, Refusal, StoreError};
pub use mailbox::MailboxInfo;
pub use message::{
    Appended, Duplicates, ExpungeScope, FlagChange, FlagsStored, MessageInfo, NewMessage,
};
pub use mime::{crlf_len, wire_size, Envelope, HeaderField, MessageSummary, MimePart, PartKind};
pub use quota::{Quota, QuotaLimits, QuotaOverride, Usage};
pub use store::Store;
pub use types::{
    BlobId, Flags, InternalDate, MailboxId, MailboxName, Rights, SpecialUse, SystemFlags, Username,
};
pub use vanished::{Vanished, MAX_REMEMBERED};
