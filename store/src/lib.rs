//! The mailhive mailstore: accounts, mailboxes and messages, persisted in an embedded
//! ordered key-value engine (sled), with no networking and no async runtime.
//!
//! # Layout
//! - [`engine`]: the storage-engine seam — an ordered key space with atomic batches and
//!   a flush, and an object area for large bodies; sled (with object files beside it)
//!   is the only engine today.
//! - [`durability`]: group commit, so that concurrent writers share one flush.
//! - [`schema`]: keys and the versioned on-disk value types.
//! - [`types`]: validated names, flags, dates and rights that callers pass in.
//! - [`mime`]: the parse done once at append (envelope, body structure, header text);
//!   [`address`]: address fields split as Dovecot splits them; [`sortkey`]: what SORT
//!   and THREAD compare, made at append.
//! - [`account`], [`mailbox`], [`message`]: the mailstore semantics, as methods on [`Store`].
//! - [`seen`]: \Seen per user on shared mailboxes; `recent`: which session holds \Recent;
//!   `vanished`: the expunged UIDs QRESYNC reports.
//! - [`settings`]: administrator settings persisted by `settings set`.
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
pub mod durability;
pub mod engine;
mod error;
mod mailbox;
mod message;
pub mod mime;
mod objects;
mod recent;
mod reparse;
pub mod schema;
pub mod seen;
mod settings;
pub mod sortkey;
mod store;
mod tx;
pub mod types;
mod vanished;

pub use error::{Outcome, Refusal, StoreError};
pub use mailbox::MailboxInfo;
pub use message::{ExpungeScope, FlagChange, FlagsStored, MessageInfo, NewMessage};
pub use mime::{crlf_len, wire_size, Envelope, HeaderField, MessageSummary, MimePart, PartKind};
pub use store::Store;
pub use types::{
    BlobId, Flags, InternalDate, MailboxId, MailboxName, Rights, SpecialUse, SystemFlags, Username,
};
pub use vanished::{Vanished, MAX_REMEMBERED};
