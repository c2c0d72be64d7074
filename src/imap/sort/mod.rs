//! SORT and UID SORT (RFC 5256 §3): the messages a search found, in the order of a
//! sort program, ties by sequence number; THREAD (ORDEREDSUBJECT and REFERENCES,
//! [`thread`]) groups them. The keys come from what the store keeps of
//! each message — internal date and size from its record, Date, addresses and the
//! decoded Subject, From and To (for the display names of RFC 5957) from the summary
//! made at append — never from its body. Text keys
//! compare with i;ascii-casemap (ASCII letters folded to upper case).
//!
//! Sorting runs inside the search's run ([`super::search`]), so it holds the same
//! SEARCH slot, is shared by identical requests and stops when the client goes.

mod subject;
mod thread;

use super::address;
use super::shared_search::{Matches, SearchFailed};
use mailhive_protocol::imap::command::{SortCriterion, SortKey};
use mailhive_store::{MailboxId, MessageInfo, MessageSummary, Store, StoreError};
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
    let mut keyed = Vec::with_capacity(found.len());
    for (seq, uid, record) in records(store, mailbox, found, cancel)? {
        let summary = if program.iter().any(|c| needs_summary(c.key)) {
            Some(store.summary(record.blob).map_err(failed)?)
        } else {
            None
        };
        let values = program
            .iter()
            .map(|c| value(c.key, &record, summary.as_ref()))
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

/// What THREAD needs of each message of `found`, from its record and summary.
fn thread_messages(
    store: &Store,
    mailbox: MailboxId,
    found: &[(u32, u32)],
    cancel: &CancellationToken,
) -> Result<Vec<thread::Message>, SearchFailed> {
    let mut messages = Vec::with_capacity(found.len());
    for (seq, uid, record) in records(store, mailbox, found, cancel)? {
        let summary = store.summary(record.blob).map_err(failed)?;
        let date = sent_date(&record, Some(&summary));
        let (subject, reply) =
            subject::extract(decoded_header(Some(&summary), "Subject").unwrap_or_default());
        let ids = |field: Option<&str>| field.map(thread::message_ids).unwrap_or_default();
        let mut references = ids(decoded_header(Some(&summary), "References"));
        if references.is_empty() {
            references = ids(summary.envelope.in_reply_to.as_deref());
            references.truncate(1);
        }
        messages.push(thread::Message {
            seq,
            uid,
            date,
            subject: subject.to_ascii_uppercase(),
            reply,
            id: ids(summary.envelope.message_id.as_deref())
                .into_iter()
                .next(),
            references,
        });
    }
    Ok(messages)
}

/// `* THREAD ...` for the threads of `found`, as sequence numbers or UIDs.
pub(super) fn thread_line(found: &Matches, uid: bool) -> Vec<u8> {
    thread::render(&found.threads, uid)
}

fn needs_summary(key: SortKey) -> bool {
    !matches!(key, SortKey::Arrival | SortKey::Size)
}

fn value(key: SortKey, record: &MessageInfo, summary: Option<&MessageSummary>) -> Value {
    let envelope = summary.map(|s| &s.envelope);
    let first_mailbox = |field: Option<&String>| {
        let mailbox = field
            .and_then(|f| address::parse(f).into_iter().next())
            .and_then(|a| a.mailbox)
            .unwrap_or_default();
        Value::Text(mailbox.to_ascii_uppercase())
    };
    match key {
        SortKey::Arrival => Value::Number(record.internal_date.unix_seconds),
        SortKey::Size => Value::Number(i64::from(record.wire_size)),
        SortKey::Date => Value::Number(sent_date(record, summary)),
        SortKey::From => first_mailbox(envelope.and_then(|e| e.from.as_ref())),
        SortKey::To => first_mailbox(envelope.and_then(|e| e.to.as_ref())),
        SortKey::Cc => first_mailbox(envelope.and_then(|e| e.cc.as_ref())),
        SortKey::DisplayFrom => display(summary, "From"),
        SortKey::DisplayTo => display(summary, "To"),
        SortKey::Subject => {
            let decoded = decoded_header(summary, "Subject").unwrap_or_default();
            Value::Text(subject::base_subject(decoded).to_ascii_uppercase())
        }
    }
}

/// The Date header as seconds, or without one that parses the internal date (RFC 5256
/// §2.2).
fn sent_date(record: &MessageInfo, summary: Option<&MessageSummary>) -> i64 {
    summary
        .and_then(|s| s.envelope.date.as_deref())
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
        .map_or(record.internal_date.unix_seconds, |d| d.timestamp())
}

/// The first `name` header field's value, decoded (RFC 2047) at append.
fn decoded_header<'a>(summary: Option<&'a MessageSummary>, name: &str) -> Option<&'a str> {
    summary?
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// RFC 5957 §2: the display name of the field's first address (a group's name for a
/// group), else its `mailbox@domain`, from the decoded field.
fn display(summary: Option<&MessageSummary>, field: &str) -> Value {
    let first = decoded_header(summary, field).and_then(|f| address::parse(f).into_iter().next());
    let shown = first.map_or(String::new(), |a| match (a.name, a.mailbox, a.domain) {
        (Some(name), _, _) if !name.trim().is_empty() => name,
        (_, Some(mailbox), Some(domain)) => format!("{mailbox}@{domain}"),
        (_, mailbox, _) => mailbox.unwrap_or_default(),
    });
    Value::Text(shown.to_ascii_uppercase())
}
