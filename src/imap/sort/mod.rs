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
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use tokio_util::sync::CancellationToken;

/// How a SORT or THREAD arranges what its search found.
#[derive(Debug, Clone)]
pub(super) enum Arrangement {
    Sort(Vec<SortCriterion>),
    /// THREAD ORDEREDSUBJECT (RFC 5256 §3).
    OrderedSubject,
    /// THREAD REFERENCES (RFC 5256 §3).
    References,
}

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
        Arrangement::Sort(program) => Ok(sorted(store, program, &located)?.into()),
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

/// The messages in the order of `program`, then of their sequence numbers.
fn sorted(
    store: &Store,
    program: &[SortCriterion],
    located: &Located<'_>,
) -> Result<Vec<(u32, u32)>, SearchFailed> {
    // One number per key and message, ordering as the key does; REVERSE turns it round
    // (`!` reverses the order of every i64, with no overflow).
    let keys = program
        .iter()
        .map(|c| {
            let mut numbers = numbers(store, c.key, located)?;
            if c.reverse {
                numbers.iter_mut().for_each(|n| *n = !*n);
            }
            Ok(numbers)
        })
        .collect::<Result<Vec<_>, SearchFailed>>()?;
    // Rows are in the search's order, which is the order of sequence numbers.
    let (first, then) = keys
        .split_first()
        .map_or((None, &[][..]), |(f, t)| (Some(f), t));
    let mut rows: Vec<(i64, u32)> = (0..located.at.len())
        .map(|row| (first.map_or(0, |f| f[row]), row as u32))
        .collect();
    rows.sort_unstable_by(|a, b| {
        let (x, y) = (a.1 as usize, b.1 as usize);
        a.0.cmp(&b.0)
            .then_with(|| {
                let differ = then.iter().map(|k| k[x].cmp(&k[y])).find(|o| o.is_ne());
                differ.unwrap_or(Ordering::Equal)
            })
            .then(x.cmp(&y))
    });
    Ok(rows
        .into_iter()
        .map(|(_, row)| {
            let (_, _, seq, uid) = located.at[row as usize];
            (seq, uid)
        })
        .collect())
}

/// The values of `key` for the located messages, as numbers that order as they do:
/// text as its rank among the column's texts.
fn numbers(store: &Store, key: SortKey, located: &Located<'_>) -> Result<Vec<i64>, SearchFailed> {
    let [column, rest] = located.columns;
    let text = match key {
        SortKey::Subject => TextKey::Subject,
        SortKey::From => TextKey::From,
        SortKey::To => TextKey::To,
        SortKey::Cc => TextKey::Cc,
        SortKey::DisplayFrom => TextKey::DisplayFrom,
        SortKey::DisplayTo => TextKey::DisplayTo,
        SortKey::Arrival | SortKey::Size | SortKey::Date => {
            let of = |c: &SortColumn| -> Result<Vec<i64>, SearchFailed> {
                Ok(match key {
                    SortKey::Arrival => c.arrival.clone(),
                    SortKey::Size => c.sizes.iter().map(|&s| i64::from(s)).collect(),
                    _ => c.sent(store).map_err(failed)?.to_vec(),
                })
            };
            let values = [of(column)?, of(rest)?];
            return Ok(located
                .at
                .iter()
                .map(|&(c, i, _, _)| values[c][i])
                .collect());
        }
    };
    let ranked = column.text(store, text).map_err(failed)?;
    let others = rest.text(store, text).map_err(failed)?;
    Ok(located
        .at
        .iter()
        .map(|&(c, i, _, _)| match c {
            0 => ranked.order(i),
            _ => ranked.order_of(others.text(i)),
        })
        .collect())
}

fn failed(e: StoreError) -> SearchFailed {
    SearchFailed::Store(e.to_string())
}

/// What THREAD needs of each message: its message ids as positions among the
/// column's, and for a message of the rest those it names that the column lacks after
/// them.
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
    let (main, rest) = (parts[0].2, parts[1].2);
    let mut extra: HashMap<&str, u32> = HashMap::new();
    let mut renumber = |n: u32| -> u32 {
        let id = &*rest.ids[n as usize];
        main.position(id).unwrap_or_else(|| {
            let next = (main.ids.len() + extra.len()) as u32;
            *extra.entry(id).or_insert(next)
        })
    };
    // Subjects likewise, by their places among the column's texts.
    let (subjects, other_subjects) = (parts[0].1, parts[1].1);
    let mut extra_subjects: HashMap<&str, u32> = HashMap::new();
    let mut subject = |c: usize, i: usize| -> Option<u32> {
        if c == 0 {
            return Some(subjects.rank(i)).filter(|_| !subjects.text(i).is_empty());
        }
        let text = other_subjects.text(i);
        let next = (subjects.distinct() + extra_subjects.len()) as u32;
        let number = subjects.position(text);
        Some(number.unwrap_or_else(|| *extra_subjects.entry(text).or_insert(next)))
            .filter(|_| !text.is_empty())
    };
    Ok(located
        .at
        .iter()
        .map(|&(c, i, seq, uid)| {
            let (sent, _, links) = parts[c];
            let keys = &links.messages[i];
            let (id, references) = match c {
                0 => (keys.id, Cow::Borrowed(&keys.references[..])),
                _ => (
                    keys.id.map(&mut renumber),
                    Cow::Owned(keys.references.iter().map(|&r| renumber(r)).collect()),
                ),
            };
            thread::Message {
                seq,
                uid,
                date: sent[i],
                subject: subject(c, i),
                reply: keys.reply,
                id,
                references,
            }
        })
        .collect())
}

/// `* THREAD ...` for the threads of `found`, as sequence numbers or UIDs.
pub(super) fn thread_line(found: &Matches, uid: bool) -> Vec<u8> {
    thread::render(&found.threads, uid)
}
