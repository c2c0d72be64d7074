//! SEARCH (RFC 3501 §6.4.4) over the selected mailbox, on the blocking pool, holding a
//! SEARCH slot of the Limiter; identical searches share one execution
//! ([`super::shared_search`]), which stops when no client waits for it any more. Each
//! message is loaded only as far as the keys need: flags and numbers come from the
//! view, dates and sizes from the message record, header keys from the stored summary
//! (decoded header values), BODY and TEXT from the decoded text parts. The SENT keys
//! use the internal date of a message whose Date header is missing or does not parse.
//! String matching is a case-insensitive substring test, as the RFC asks. OLDER and
//! YOUNGER (RFC 5032) compare the internal date with the time the search began.

use super::esearch::UpdateRequest;
use super::session::{ImapSession, Work};
use super::shared_search::{Found, Interest, SearchFailed, SearchId};
use super::slots::busy_text;
use super::sort::{self, Arrangement};
use super::view::View;
use crate::limiter::{NoSlot, SlotKind};
use actix::prelude::*;
use mailhive_protocol::imap::command::{Date, Flag, SearchKey, SortCriterion, ThreadAlgorithm};
use mailhive_protocol::imap::esearch::SearchReturn;
use mailhive_store::{
    Flags, MailboxId, MessageInfo, MessageSummary, Store, StoreError, SystemFlags, Username,
};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A message of the view, as the session knows it.
#[derive(Debug, Clone)]
pub(super) struct Listed {
    seq: u32,
    pub(super) uid: u32,
    flags: Flags,
    modseq: u64,
    /// \Recent in this session.
    recent: bool,
}

impl Listed {
    /// Message `seq` of `view`.
    pub(super) fn of(view: &View, seq: u32) -> Option<Listed> {
        let uid = view.uid(seq)?;
        Some(Listed {
            seq,
            uid,
            flags: view.flags(seq)?.clone(),
            modseq: view.modseq(seq)?,
            recent: view.is_recent(uid),
        })
    }
}

/// One message being tested, with what has been loaded of it so far.
struct Candidate<'a> {
    store: &'a Store,
    mailbox: MailboxId,
    seq: u32,
    uid: u32,
    flags: &'a Flags,
    modseq: u64,
    recent: bool,
    record: Option<Option<MessageInfo>>,
    summary: Option<MessageSummary>,
    /// The decoded text of every text part, lower-cased: made once per message,
    /// whatever the number of keys that look at it.
    folded_text: Option<Vec<String>>,
    /// The header fields, name and decoded value lower-cased, likewise once.
    folded_headers: Option<Vec<(String, String)>>,
}

/// The highest sequence number and UID, for `*` in sets, and the time OLDER and
/// YOUNGER count back from.
pub(super) struct Bounds {
    last_seq: u32,
    last_uid: u32,
    now: i64,
}

impl Bounds {
    pub(super) fn of(view: &View) -> Bounds {
        Bounds {
            last_seq: view.exists(),
            last_uid: view.uid(view.exists()).unwrap_or(0),
            now: chrono::Utc::now().timestamp(),
        }
    }
}

impl Candidate<'_> {
    fn record(&mut self) -> Result<Option<&MessageInfo>, StoreError> {
        if self.record.is_none() {
            self.record = Some(self.store.message(self.mailbox, self.uid)?);
        }
        Ok(self.record.as_ref().and_then(Option::as_ref))
    }

    fn summary(&mut self) -> Result<Option<&MessageSummary>, StoreError> {
        if self.summary.is_none() {
            let Some(blob) = self.record()?.map(|r| r.blob) else {
                return Ok(None);
            };
            self.summary = Some(self.store.summary(blob)?);
        }
        Ok(self.summary.as_ref())
    }

    fn folded_text(&mut self) -> Result<&[String], StoreError> {
        if self.folded_text.is_none() {
            let text = match self.record()?.map(|r| r.blob) {
                Some(blob) => self.store.body_text(blob)?,
                None => Vec::new(),
            };
            self.folded_text = Some(text.iter().map(|t| t.to_lowercase()).collect());
        }
        Ok(self.folded_text.as_deref().unwrap_or_default())
    }

    fn folded_headers(&mut self) -> Result<&[(String, String)], StoreError> {
        if self.folded_headers.is_none() {
            let headers = self.summary()?.map(|s| {
                s.headers
                    .iter()
                    .map(|h| (h.name.to_lowercase(), h.value.to_lowercase()))
                    .collect()
            });
            self.folded_headers = Some(headers.unwrap_or_default());
        }
        Ok(self.folded_headers.as_deref().unwrap_or_default())
    }

    fn has(&self, flag: &Flag) -> bool {
        let system = |f| self.flags.system.contains(f);
        match flag {
            Flag::Seen => system(SystemFlags::SEEN),
            Flag::Answered => system(SystemFlags::ANSWERED),
            Flag::Flagged => system(SystemFlags::FLAGGED),
            Flag::Deleted => system(SystemFlags::DELETED),
            Flag::Draft => system(SystemFlags::DRAFT),
            Flag::Recent => self.recent,
            Flag::Keyword(k) => self
                .flags
                .keywords()
                .iter()
                .any(|have| have.eq_ignore_ascii_case(k)),
        }
    }

    fn matches(&mut self, key: &SearchKey, bounds: &Bounds) -> Result<bool, StoreError> {
        Ok(match key {
            SearchKey::All => true,
            SearchKey::Flag(flag) => self.has(flag),
            SearchKey::NotFlag(flag) => !self.has(flag),
            SearchKey::New => self.recent && !self.flags.is_seen(),
            SearchKey::Old => !self.recent,
            SearchKey::Sequence(set) => set.contains(self.seq, bounds.last_seq),
            SearchKey::Uid(set) => set.contains(self.uid, bounds.last_uid),
            SearchKey::Modseq(at_least) => self.modseq >= *at_least,
            SearchKey::Not(inner) => !self.matches(inner, bounds)?,
            SearchKey::Or(a, b) => self.matches(a, bounds)? || self.matches(b, bounds)?,
            SearchKey::And(keys) => {
                for key in keys {
                    if !self.matches(key, bounds)? {
                        return Ok(false);
                    }
                }
                true
            }
            SearchKey::Larger(n) => self.record()?.is_some_and(|r| r.wire_size > *n),
            SearchKey::Smaller(n) => self.record()?.is_some_and(|r| r.wire_size < *n),
            SearchKey::Older(seconds) | SearchKey::Younger(seconds) => {
                let Some(age) = self
                    .record()?
                    .map(|r| bounds.now - r.internal_date.unix_seconds)
                else {
                    return Ok(false);
                };
                (age >= i64::from(*seconds)) == matches!(key, SearchKey::Older(_))
            }
            SearchKey::Before(date) | SearchKey::On(date) | SearchKey::Since(date) => {
                let Some(day) = self.record()?.and_then(internal_day) else {
                    return Ok(false);
                };
                compare(key, day, *date)
            }
            SearchKey::SentBefore(date) | SearchKey::SentOn(date) | SearchKey::SentSince(date) => {
                let sent = self
                    .summary()?
                    .and_then(|s| s.envelope.date.as_deref().and_then(sent_day));
                // Without a Date header that parses, the internal date stands in (as in
                // Dovecot).
                let day = match sent {
                    Some(day) => Some(day),
                    None => self.record()?.and_then(internal_day),
                };
                let Some(day) = day else {
                    return Ok(false);
                };
                compare(key, day, *date)
            }
            // Needles were lower-cased once for the whole search (`fold_needles`).
            SearchKey::Header(name, needle) => self
                .folded_headers()?
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && v.contains(needle.as_str())),
            SearchKey::Body(needle) => self
                .folded_text()?
                .iter()
                .any(|t| t.contains(needle.as_str())),
            SearchKey::Text(needle) => {
                let in_headers = self
                    .folded_headers()?
                    .iter()
                    .any(|(n, v)| n.contains(needle.as_str()) || v.contains(needle.as_str()));
                in_headers
                    || self
                        .folded_text()?
                        .iter()
                        .any(|t| t.contains(needle.as_str()))
            }
        })
    }
}

/// Lower-cases every text a key looks for, once per search.
pub(super) fn fold_needles(key: &mut SearchKey) {
    match key {
        SearchKey::Header(_, needle) | SearchKey::Body(needle) | SearchKey::Text(needle) => {
            *needle = needle.to_lowercase();
        }
        SearchKey::Not(inner) => fold_needles(inner),
        SearchKey::Or(a, b) => {
            fold_needles(a);
            fold_needles(b);
        }
        SearchKey::And(keys) => keys.iter_mut().for_each(fold_needles),
        _ => {}
    }
}

/// BEFORE/ON/SINCE and their SENT forms compare dates only.
fn compare(key: &SearchKey, day: Date, wanted: Date) -> bool {
    match key {
        SearchKey::Before(_) | SearchKey::SentBefore(_) => day < wanted,
        SearchKey::On(_) | SearchKey::SentOn(_) => day == wanted,
        _ => day >= wanted,
    }
}

fn to_date(date: chrono::NaiveDate) -> Option<Date> {
    use chrono::Datelike;
    Some(Date {
        year: u16::try_from(date.year()).ok()?,
        month: date.month() as u8,
        day: date.day() as u8,
    })
}

/// The internal date's calendar day, in the zone it was given in.
fn internal_day(record: &MessageInfo) -> Option<Date> {
    let zone = chrono::FixedOffset::east_opt(i32::from(record.internal_date.offset_minutes) * 60)?;
    let utc = chrono::DateTime::from_timestamp(record.internal_date.unix_seconds, 0)?;
    to_date(utc.with_timezone(&zone).date_naive())
}

/// The Date header's calendar day, in the header's own zone.
fn sent_day(header: &str) -> Option<Date> {
    let parsed = chrono::DateTime::parse_from_rfc2822(header.trim()).ok()?;
    to_date(parsed.date_naive())
}

/// How a search for one session ended.
enum Ended {
    Found(Found),
    /// The client went away.
    Gone,
    Failed(SearchFailed),
}

/// Waits for a shared search's outcome, unless the client goes first.
async fn outcome(interest: Interest, gone: &CancellationToken) -> Ended {
    tokio::select! {
        outcome = interest.outcome() => match outcome {
            Ok(found) => Ended::Found(found),
            Err(failed) => Ended::Failed(failed),
        },
        () = gone.cancelled() => Ended::Gone,
    }
}

/// A mailbox this large is searched on every core at once, in contiguous parts.
const PARALLEL_FROM: usize = 2048;
/// Messages tested between two looks at whether the search was cancelled.
const CANCEL_CHECK: usize = 256;

/// Tests every message of `messages` (sequence number, UID, flags) against `key`,
/// stopping early when `cancel` is cancelled.
fn run(
    store: &Store,
    mailbox: MailboxId,
    key: &SearchKey,
    messages: &[Listed],
    bounds: Bounds,
    cancel: &CancellationToken,
) -> Result<Found, SearchFailed> {
    crate::testing::delay_blocking(|| cancel.is_cancelled());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = cores.min(messages.len() / PARALLEL_FROM).max(1);
    let part_len = messages.len().div_ceil(parts).max(1);
    let search = |part: &[Listed]| search_part(store, mailbox, key, &bounds, part, cancel);
    if parts == 1 {
        return search(messages).map(|found| Arc::new(found.into()));
    }
    let found = std::thread::scope(|scope| {
        let running: Vec<_> = messages
            .chunks(part_len)
            .map(|part| scope.spawn(move || search(part)))
            .collect();
        let mut found = Vec::new();
        for part in running {
            let matched = part
                .join()
                .map_err(|_| SearchFailed::Store("a search thread failed".into()))??;
            found.extend(matched);
        }
        Ok::<_, SearchFailed>(found)
    })?;
    Ok(Arc::new(found.into()))
}

/// The messages of `part` that match `key`.
pub(super) fn search_part(
    store: &Store,
    mailbox: MailboxId,
    key: &SearchKey,
    bounds: &Bounds,
    part: &[Listed],
    cancel: &CancellationToken,
) -> Result<Vec<(u32, u32)>, SearchFailed> {
    let mut found = Vec::new();
    for (n, listed) in part.iter().enumerate() {
        // Asking the token takes a lock: often enough to stop within milliseconds.
        if n.is_multiple_of(CANCEL_CHECK) && cancel.is_cancelled() {
            return Err(SearchFailed::Cancelled);
        }
        let mut candidate = Candidate {
            store,
            mailbox,
            seq: listed.seq,
            uid: listed.uid,
            flags: &listed.flags,
            modseq: listed.modseq,
            recent: listed.recent,
            record: None,
            summary: None,
            folded_text: None,
            folded_headers: None,
        };
        let matched = candidate
            .matches(key, bounds)
            .map_err(|e| SearchFailed::Store(e.to_string()))?;
        if matched {
            found.push((listed.seq, listed.uid));
        }
    }
    Ok(found)
}

/// Whether `key` looks at modseqs (its answer then carries the highest).
fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::Modseq(_) => true,
        SearchKey::Not(inner) => uses_modseq(inner),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        SearchKey::And(keys) => keys.iter().any(uses_modseq),
        _ => false,
    }
}

/// Whether `key` looks at \Recent, which differs between sessions.
fn uses_recent(key: &SearchKey) -> bool {
    match key {
        SearchKey::Flag(Flag::Recent)
        | SearchKey::NotFlag(Flag::Recent)
        | SearchKey::New
        | SearchKey::Old => true,
        SearchKey::Not(inner) => uses_recent(inner),
        SearchKey::Or(a, b) => uses_recent(a) || uses_recent(b),
        SearchKey::And(keys) => keys.iter().any(uses_recent),
        _ => false,
    }
}

/// What a search answers.
#[derive(Debug)]
pub(super) enum Answer {
    /// `* SEARCH` (RFC 3501).
    Search,
    /// `* ESEARCH`, as the return options ask (RFC 4731, see [`super::esearch`]).
    Extended(SearchReturn),
    /// `* SORT`, in the order of this program (RFC 5256, see [`super::sort`]), or
    /// with return options `* ESEARCH` in that order (ESORT, RFC 5267 §3).
    Sort(Vec<SortCriterion>, Option<SearchReturn>),
    /// `* THREAD` (RFC 5256 §4, see [`super::sort`]).
    Thread(ThreadAlgorithm),
}

/// `* SEARCH 2 5 7` (or `* SORT ...`): the sequence numbers or UIDs of `found`.
/// What a search found, as (sequence number, UID), with each one's modseq when the
/// answer must carry them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Matched<'a> {
    pub messages: &'a [(u32, u32)],
    pub modseqs: Option<&'a [u64]>,
}

fn numbers_line(word: &str, uid: bool, found: &[(u32, u32)], modseq: Option<u64>) -> Vec<u8> {
    use std::fmt::Write;
    let mut line = String::with_capacity(8 + 8 * found.len());
    let _ = write!(line, "* {word}");
    for &(seq, message_uid) in found {
        let n = if uid { message_uid } else { seq };
        let _ = write!(line, " {n}");
    }
    if let Some(modseq) = modseq {
        let _ = write!(line, " (MODSEQ {modseq})");
    }
    line.push_str("\r\n");
    line.into_bytes()
}

impl ImapSession {
    /// The modseq of each of `messages` (sequence number, UID) in the selected view.
    fn modseqs_of(&self, messages: &[(u32, u32)]) -> Vec<u64> {
        let view = self.state.view();
        messages
            .iter()
            .map(|&(seq, _)| view.and_then(|v| v.modseq(seq)).unwrap_or(0))
            .collect()
    }

    /// SEARCH, UID SEARCH, SORT and UID SORT: the messages that match `criteria`,
    /// answered as `answer` says.
    pub(super) fn search(
        &mut self,
        user: Username,
        tag: String,
        uid: bool,
        charset: Option<String>,
        criteria: Vec<SearchKey>,
        answer: Answer,
    ) -> Work {
        let saves = match &answer {
            Answer::Extended(r) | Answer::Sort(_, Some(r)) => r.save,
            Answer::Search | Answer::Sort(_, None) | Answer::Thread(_) => false,
        };
        if let Some(charset) = charset.filter(|c| c != "UTF-8" && c != "US-ASCII") {
            self.search_failed(saves);
            return self.no(
                &tag,
                Some("BADCHARSET (UTF-8 US-ASCII)"),
                &format!("Unsupported charset {charset}"),
            );
        }
        let mut key = SearchKey::And(criteria);
        fold_needles(&mut key);
        let updating = match &answer {
            Answer::Extended(r) if r.update => Some(None),
            Answer::Sort(program, Some(r)) if r.update => Some(Some(program.clone())),
            _ => None,
        };
        let updating = match updating.map(|program| (self.updating_key(&tag, &key), program)) {
            Some((Ok(key), program)) => Some(UpdateRequest { key, program }),
            Some((Err(work), _)) => return work,
            None => None,
        };
        let by_modseq = uses_modseq(&key);
        if by_modseq {
            self.enable_condstore();
        }
        let Some(view) = self.state.view() else {
            return self.bad(&tag, "No mailbox selected");
        };
        let arrangement = match &answer {
            Answer::Sort(program, _) => Some(Arrangement::Sort(program.clone())),
            Answer::Thread(ThreadAlgorithm::OrderedSubject) => Some(Arrangement::OrderedSubject),
            Answer::Thread(ThreadAlgorithm::References) => Some(Arrangement::References),
            Answer::Search | Answer::Extended(_) => None,
        };
        let id = SearchId {
            user: user.clone(),
            mailbox: view.id(),
            criteria: format!("{key:?} {arrangement:?}"),
            view: view.fingerprint(uses_recent(&key)),
        };
        let messages: Vec<Listed> = (1..=view.exists())
            .filter_map(|seq| Listed::of(view, seq))
            .collect();
        let bounds = Bounds::of(view);
        let store: Arc<Store> = self.store().clone();
        let (interest, runner) = self.context.searches.join_or_begin(id);
        if let Some(runner) = runner {
            // The search waits for its slot and runs on its own, for every session
            // interested in it; it stops when none is left.
            let slot = self.wait_for_slot(SlotKind::Search, user, runner.cancel.clone());
            let mailbox = view.id();
            let registry = self.context.registry.clone();
            actix_rt::spawn(async move {
                let permit = match slot.await {
                    Ok(permit) => permit,
                    Err(NoSlot::Busy) => return runner.finish(Err(SearchFailed::Busy)),
                    Err(NoSlot::Gone) => return runner.finish(Err(SearchFailed::Cancelled)),
                };
                // A sort takes its keys from the mailbox actor's column, or else from
                // the store.
                let column = match arrangement {
                    Some(_) => registry.sort_column(mailbox).await.ok(),
                    None => None,
                };
                actix_rt::task::spawn_blocking(move || {
                    // The work holds the slot until it stops.
                    let _slot = permit;
                    let cancel = &runner.cancel;
                    let found = run(&store, mailbox, &key, &messages, bounds, cancel);
                    let found = match &arrangement {
                        Some(how) => found.and_then(|found| {
                            let column = column.as_deref();
                            let arranged = sort::arrange(
                                &store,
                                mailbox,
                                column,
                                how,
                                &found.messages,
                                cancel,
                            );
                            arranged.map(Arc::new)
                        }),
                        None => found,
                    };
                    runner.finish(found);
                });
            });
        }
        let gone = self.gone.clone();
        let find = async move { outcome(interest, &gone).await };
        Box::pin(
            find.into_actor(self)
                .then(move |ended, act, ctx| match ended {
                    Ended::Found(found) => {
                        // With MODSEQ among the criteria the answer carries the highest
                        // modseq of what it returns (RFC 7162 §3.1.5).
                        let modseqs = by_modseq.then(|| act.modseqs_of(&found.messages));
                        let highest = modseqs.as_ref().and_then(|m| m.iter().copied().max());
                        let matched = Matched {
                            messages: &found.messages,
                            modseqs: modseqs.as_deref(),
                        };
                        match answer {
                            Answer::Extended(returns) => {
                                let done = "SEARCH completed";
                                act.esearch(tag, uid, returns, updating, matched, done)
                            }
                            Answer::Sort(_, Some(returns)) => {
                                let done = "SORT completed";
                                act.esearch(tag, uid, returns, updating, matched, done)
                            }
                            Answer::Search => {
                                let line = numbers_line("SEARCH", uid, &found.messages, highest);
                                act.ok_with(line, &tag, "SEARCH completed")
                            }
                            Answer::Sort(_, None) => {
                                let line = numbers_line("SORT", uid, &found.messages, highest);
                                act.ok_with(line, &tag, "SORT completed")
                            }
                            Answer::Thread(_) => {
                                let line = sort::thread_line(&found, uid);
                                act.ok_with(line, &tag, "THREAD completed")
                            }
                        }
                    }
                    Ended::Failed(SearchFailed::Busy) => {
                        act.search_failed(saves);
                        act.no(&tag, Some("LIMIT"), busy_text(SlotKind::Search))
                    }
                    Ended::Failed(SearchFailed::Store(e)) => {
                        act.search_failed(saves);
                        act.failed(&tag, &e)
                    }
                    Ended::Gone | Ended::Failed(SearchFailed::Cancelled) => {
                        ctx.stop();
                        Box::pin(actix::fut::ready(())) as Work
                    }
                }),
        )
    }
}
