//! SORT and UID SORT (RFC 5256 §3): the messages a search found, in the order of a
//! sort program, ties by sequence number; THREAD (ORDEREDSUBJECT and REFERENCES,
//! [`thread`]) groups them. The keys come from what the store keeps of
//! each message — internal date and size from its record, the sent date, the base
//! subject, the first addresses, the display names of RFC 5957 and the message ids
//! from its sort keys, made at append ([`mailhive_store::sortkey`]) — never from its
//! summary or body. Text keys compare with i;ascii-casemap (folded to upper case when
//! the keys were made).
//!
//! Sorting runs inside the search's run ([`super::search`]), so it holds the same
//! SEARCH slot, is shared by identical requests and stops when the client goes.

mod thread;

use super::shared_search::{Matches, SearchFailed};
use mailhive_protocol::imap::command::{SortCriterion, SortKey};
use mailhive_store::sortkey::SortKeys;
use mailhive_store::{MailboxId, MessageInfo, Store, StoreError};
use std::cmp::Ordering;
use tokio_util::sync::CancellationToken;

/// Messages whose keys are read between two looks at whether the sort was cancelled.
const CANCEL_CHECK: usize = 256;

/// One key's value for one message.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Number(i64),
    Text(String),
}

/// How a SORT or THREAD arranges what its search found.
#[derive(Debug, Clone)]
pub(super) enum Arrangement {
    Sort(Vec<SortCriterion>),
    /// THREAD ORDEREDSUBJECT (RFC 5256 §3).
    OrderedSubject,
    /// THREAD REFERENCES (RFC 5256 §3).
    References,
}

/// A message with its key values.
type Keyed = (Vec<Value>, u32, u32);

/// `found` ((sequence number, UID), ascending) arranged as `how` says.
pub(super) fn arrange(
    store: &Store,
    mailbox: MailboxId,
    how: &Arrangement,
    found: &[(u32, u32)],
    cancel: &CancellationToken,
) -> Result<Matches, SearchFailed> {
    match how {
        Arrangement::Sort(program) => {
            let mut keyed = keyed(store, mailbox, program, found, cancel)?;
            keyed.sort_by(|a, b| compare(program, a, b));
            Ok(keyed
                .into_iter()
                .map(|(_, seq, uid)| (seq, uid))
                .collect::<Vec<_>>()
                .into())
        }
        Arrangement::OrderedSubject => {
            let messages = thread_messages(store, mailbox, found, cancel)?;
            Ok(Matches {
                messages: Vec::new(),
                threads: thread::ordered_subject(messages),
            })
        }
        Arrangement::References => {
            let messages = thread_messages(store, mailbox, found, cancel)?;
            Ok(Matches {
                messages: Vec::new(),
                threads: thread::references(&messages),
            })
        }
    }
}

/// By the keys of `program` in turn, then by sequence number.
fn compare(program: &[SortCriterion], a: &Keyed, b: &Keyed) -> Ordering {
    let by_keys = program.iter().zip(a.0.iter().zip(&b.0)).fold(
        Ordering::Equal,
        |done, (criterion, (x, y))| {
            done.then_with(|| {
                let order = x.cmp(y);
                if criterion.reverse {
                    order.reverse()
                } else {
                    order
                }
            })
        },
    );
    by_keys.then(a.1.cmp(&b.1))
}

/// The messages of `found` with their values for `program`.
fn keyed(
    store: &Store,
    mailbox: MailboxId,
    program: &[SortCriterion],
    found: &[(u32, u32)],
    cancel: &CancellationToken,
) -> Result<Vec<Keyed>, SearchFailed> {
    let needs_keys = program.iter().any(|c| needs_sort_keys(c.key));
    let mut keyed = Vec::with_capacity(found.len());
    for (seq, uid, record) in records(store, mailbox, found, cancel)? {
        let mut keys = if needs_keys {
            store.sort_keys(record.blob).map_err(failed)?
        } else {
            SortKeys::default()
        };
        let values = program
            .iter()
            .map(|c| value(c.key, &record, &mut keys))
            .collect();
        keyed.push((values, seq, uid));
    }
    Ok(keyed)
}

fn failed(e: StoreError) -> SearchFailed {
    SearchFailed::Store(e.to_string())
}

/// The records of `found` ((sequence number, UID), ascending UIDs), skipping those
/// expunged meanwhile: one scan over the UIDs they span when they are most of it (a
/// SORT of ALL), one read each when they are few among many.
fn records(
    store: &Store,
    mailbox: MailboxId,
    found: &[(u32, u32)],
    cancel: &CancellationToken,
) -> Result<Vec<(u32, u32, MessageInfo)>, SearchFailed> {
    let (Some(&(_, first)), Some(&(_, last))) = (found.first(), found.last()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(found.len());
    let span = u64::from(last - first) + 1;
    if span > 4 * found.len() as u64 {
        for (n, &(seq, uid)) in found.iter().enumerate() {
            if n.is_multiple_of(CANCEL_CHECK) && cancel.is_cancelled() {
                return Err(SearchFailed::Cancelled);
            }
            if let Some(record) = store.message(mailbox, uid).map_err(failed)? {
                out.push((seq, uid, record));
            }
        }
        return Ok(out);
    }
    let mut wanted = found.iter().peekable();
    for (n, record) in store.messages(mailbox, first..=last).enumerate() {
        if n.is_multiple_of(CANCEL_CHECK) && cancel.is_cancelled() {
            return Err(SearchFailed::Cancelled);
        }
        let record = record.map_err(failed)?;
        while wanted.next_if(|&&(_, uid)| uid < record.uid).is_some() {}
        if let Some(&&(seq, uid)) = wanted.peek().filter(|&&&(_, uid)| uid == record.uid) {
            out.push((seq, uid, record));
            wanted.next();
        }
    }
    Ok(out)
}

/// What THREAD needs of each message of `found`, from its record and sort keys.
fn thread_messages(
    store: &Store,
    mailbox: MailboxId,
    found: &[(u32, u32)],
    cancel: &CancellationToken,
) -> Result<Vec<thread::Message>, SearchFailed> {
    let mut messages = Vec::with_capacity(found.len());
    for (seq, uid, record) in records(store, mailbox, found, cancel)? {
        let keys = store.sort_keys(record.blob).map_err(failed)?;
        messages.push(thread::Message {
            seq,
            uid,
            date: keys.sent.unwrap_or(record.internal_date.unix_seconds),
            subject: keys.subject,
            reply: keys.reply,
            id: keys.message_id,
            references: keys.references,
        });
    }
    Ok(messages)
}

/// `* THREAD ...` for the threads of `found`, as sequence numbers or UIDs.
pub(super) fn thread_line(found: &Matches, uid: bool) -> Vec<u8> {
    thread::render(&found.threads, uid)
}

fn needs_sort_keys(key: SortKey) -> bool {
    !matches!(key, SortKey::Arrival | SortKey::Size)
}

/// The value of `key` for a message; its text is taken out of `keys` (a program that
/// names a key twice compares "" the second time, which cannot break a tie the first
/// left).
fn value(key: SortKey, record: &MessageInfo, keys: &mut SortKeys) -> Value {
    let text = |field: &mut String| Value::Text(std::mem::take(field));
    match key {
        SortKey::Arrival => Value::Number(record.internal_date.unix_seconds),
        SortKey::Size => Value::Number(i64::from(record.wire_size)),
        // RFC 5256 §2.2: the internal date when the Date header is missing or broken.
        SortKey::Date => Value::Number(keys.sent.unwrap_or(record.internal_date.unix_seconds)),
        SortKey::From => text(&mut keys.from),
        SortKey::To => text(&mut keys.to),
        SortKey::Cc => text(&mut keys.cc),
        SortKey::DisplayFrom => text(&mut keys.display_from),
        SortKey::DisplayTo => text(&mut keys.display_to),
        SortKey::Subject => text(&mut keys.subject),
    }
}
