//! SORT and UID SORT (RFC 5256 §3): the messages a search found, in the order of a
//! sort program, ties by sequence number; THREAD (ORDEREDSUBJECT and REFERENCES,
//! [`thread`]) groups them. The keys come from the mailbox's [`SortColumn`], which
//! its actor keeps in memory once a sort has asked: internal date and size from the
//! message records, the sent date, the base subject, the first addresses, the display
//! names of RFC 5957 and the message ids from the sort keys made at append
//! ([`mailhive_store::sortkey`]) — never from a summary or a body. Messages the column
//! does not hold (arrived since it was made, or no column to be had) are read from the
//! store the same way. Text keys compare with i;ascii-casemap (folded to upper case
//! when the keys were made).
//!
//! Sorting runs inside the search's run ([`super::search`]), so it holds the same
//! SEARCH slot, is shared by identical requests and stops when the client goes.

mod thread;

use super::shared_search::{Matches, SearchFailed};
use crate::mailbox::{SortColumn, TextKey};
use mailhive_protocol::imap::command::{SortCriterion, SortKey};
use mailhive_store::{MailboxId, Store, StoreError};
use std::cmp::Ordering;
use tokio_util::sync::CancellationToken;

/// One key's value for one message.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Value<'a> {
    Number(i64),
    Text(&'a str),
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

/// A message with its key values, sequence number and UID.
type Keyed<'a> = (Vec<Value<'a>>, u32, u32);

/// Where each message of a search's result has its keys: a column and a position in it.
struct Located<'a> {
    columns: [&'a SortColumn; 2],
    /// (column, position, sequence number, UID) for each message, in the search's order.
    at: Vec<(usize, usize, u32, u32)>,
}

/// `found` ((sequence number, UID), ascending) arranged as `how` says, with the keys
/// of `column` (the mailbox's, when its actor could give it) and the store's for the
/// messages it lacks.
pub(super) fn arrange(
    store: &Store,
    mailbox: MailboxId,
    column: Option<&SortColumn>,
    how: &Arrangement,
    found: &[(u32, u32)],
    cancel: &CancellationToken,
) -> Result<Matches, SearchFailed> {
    let none = SortColumn::default();
    let column = column.unwrap_or(&none);
    let missing: Vec<u32> = found
        .iter()
        .map(|&(_, uid)| uid)
        .filter(|&uid| column.position(uid).is_none())
        .collect();
    let rest = SortColumn::load(store, mailbox, Some(&missing)).map_err(failed)?;
    let located = Located {
        columns: [column, &rest],
        at: found
            .iter()
            .filter_map(|&(seq, uid)| {
                let (c, i) = match column.position(uid) {
                    Some(i) => (0, i),
                    // Expunged meanwhile when the store has it no more.
                    None => (1, rest.position(uid)?),
                };
                Some((c, i, seq, uid))
            })
            .collect(),
    };
    if cancel.is_cancelled() {
        return Err(SearchFailed::Cancelled);
    }
    match how {
        Arrangement::Sort(program) => {
            let mut keyed = keyed(store, program, &located)?;
            keyed.sort_unstable_by(|a, b| compare(program, a, b));
            Ok(keyed
                .into_iter()
                .map(|(_, seq, uid)| (seq, uid))
                .collect::<Vec<_>>()
                .into())
        }
        Arrangement::OrderedSubject => {
            let messages = thread_messages(store, &located)?;
            Ok(Matches {
                messages: Vec::new(),
                threads: thread::ordered_subject(messages),
            })
        }
        Arrangement::References => {
            let messages = thread_messages(store, &located)?;
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

/// The values of one key for the messages of both columns.
enum Values<'a> {
    Numbers([&'a [i64]; 2]),
    Sizes([&'a [u32]; 2]),
    Texts([&'a [Box<str>]; 2]),
}

impl<'a> Values<'a> {
    fn of(store: &Store, key: SortKey, columns: [&'a SortColumn; 2]) -> Result<Self, SearchFailed> {
        let text = |key| -> Result<Values<'a>, SearchFailed> {
            let [a, b] = columns.map(|c| c.text(store, key));
            Ok(Values::Texts([a.map_err(failed)?, b.map_err(failed)?]))
        };
        Ok(match key {
            SortKey::Arrival => Values::Numbers(columns.map(|c| c.arrival.as_slice())),
            SortKey::Size => Values::Sizes(columns.map(|c| c.sizes.as_slice())),
            SortKey::Date => {
                let [a, b] = columns.map(|c| c.sent(store));
                Values::Numbers([a.map_err(failed)?, b.map_err(failed)?])
            }
            SortKey::Subject => text(TextKey::Subject)?,
            SortKey::From => text(TextKey::From)?,
            SortKey::To => text(TextKey::To)?,
            SortKey::Cc => text(TextKey::Cc)?,
            SortKey::DisplayFrom => text(TextKey::DisplayFrom)?,
            SortKey::DisplayTo => text(TextKey::DisplayTo)?,
        })
    }

    fn at(&self, column: usize, i: usize) -> Value<'a> {
        match self {
            Values::Numbers(n) => Value::Number(n[column][i]),
            Values::Sizes(n) => Value::Number(i64::from(n[column][i])),
            Values::Texts(t) => Value::Text(&t[column][i]),
        }
    }
}

/// The messages with their values for `program`.
fn keyed<'a>(
    store: &Store,
    program: &[SortCriterion],
    located: &Located<'a>,
) -> Result<Vec<Keyed<'a>>, SearchFailed> {
    let values = program
        .iter()
        .map(|c| Values::of(store, c.key, located.columns))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(located
        .at
        .iter()
        .map(|&(c, i, seq, uid)| (values.iter().map(|v| v.at(c, i)).collect(), seq, uid))
        .collect())
}

fn failed(e: StoreError) -> SearchFailed {
    SearchFailed::Store(e.to_string())
}

/// What THREAD needs of each message.
fn thread_messages<'a>(
    store: &Store,
    located: &Located<'a>,
) -> Result<Vec<thread::Message<'a>>, SearchFailed> {
    let mut parts = Vec::new();
    for column in located.columns {
        let sent = column.sent(store).map_err(failed)?;
        let subjects = column.text(store, TextKey::Subject).map_err(failed)?;
        let links = column.threads(store).map_err(failed)?;
        parts.push((sent, subjects, links));
    }
    Ok(located
        .at
        .iter()
        .map(|&(c, i, seq, uid)| {
            let (sent, subjects, links) = parts[c];
            thread::Message {
                seq,
                uid,
                date: sent[i],
                subject: &subjects[i],
                reply: links[i].reply,
                id: links[i].id.as_deref(),
                references: &links[i].references,
            }
        })
        .collect())
}

/// `* THREAD ...` for the threads of `found`, as sequence numbers or UIDs.
pub(super) fn thread_line(found: &Matches, uid: bool) -> Vec<u8> {
    thread::render(&found.threads, uid)
}
