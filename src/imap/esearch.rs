//! What an extended SEARCH answers (RFC 4731): one `* ESEARCH` line with MIN, MAX,
//! ALL, PARTIAL (RFC 5267 §4.4, RFC 9394) and COUNT as asked; the result kept for `$`
//! with SAVE (RFC 5182), and with UPDATE the search kept up to date (RFC 5267 §4.3,
//! see [`super::search_state`]). CANCELUPDATE stops updates. SORT with return options
//! (ESORT and CONTEXT=SORT, RFC 5267 §3–4) answers the same way, its results in sort
//! order: MIN and MAX are the first and last sorted, PARTIAL counts in that order, and
//! its updates name positions in that order.
//!
//! The search itself is the one of [`super::search`], in the same SEARCH slots and
//! shared runs; only the answer differs.

use super::search::Matched;
use super::search_state::no_update;
use super::session::{ImapSession, Work};
use mailhive_protocol::imap::command::{SearchKey, SortCriterion};
use mailhive_protocol::imap::esearch::{Esearch, SearchReturn};
use mailhive_protocol::imap::sequence::SequenceSet;

/// A search to keep up to date (RETURN (UPDATE)).
pub(super) struct UpdateRequest {
    /// Its criteria, by UID ([`ImapSession::updating_key`]).
    pub key: SearchKey,
    /// A SORT's program.
    pub program: Option<Vec<SortCriterion>>,
}

impl ImapSession {
    /// Answers a search that found `found` ((sequence number, UID), ascending, or in
    /// the order of a SORT) as `returns` asks, then `done`; `updating` is what to keep
    /// up to date with UPDATE.
    pub(super) fn esearch(
        &mut self,
        tag: String,
        uid: bool,
        returns: SearchReturn,
        updating: Option<UpdateRequest>,
        matched: Matched<'_>,
        done: &str,
    ) -> Work {
        let found = matched.messages;
        let numbers: Vec<u32> = found
            .iter()
            .map(|&(s, u)| if uid { u } else { s })
            .collect();
        let mut lines = Vec::new();
        if returns.answers() {
            let mut line = Esearch::new(&tag, uid);
            if let Some(&min) = numbers.first().filter(|_| returns.min) {
                line = line.number("MIN", u64::from(min));
            }
            if let Some(&max) = numbers.last().filter(|_| returns.max) {
                line = line.number("MAX", u64::from(max));
            }
            if returns.all {
                line = line.all(&numbers);
            }
            if let Some(range) = returns.partial {
                line = line.partial(range, range.window(&numbers));
            }
            if returns.count {
                line = line.number("COUNT", numbers.len() as u64);
            }
            if let Some(modseq) = matched.modseqs.and_then(|m| returned_modseq(&returns, m)) {
                line = line.number("MODSEQ", modseq);
            }
            lines = line.finish();
        }
        if let Some(view) = self.state.view_mut() {
            let (searches, _) = view.searches_mut();
            if returns.save {
                let uids: Vec<u32> = found.iter().map(|&(_, u)| u).collect();
                let saved = match (returns.saves_only_ends(), uids.first(), uids.last()) {
                    (true, Some(&first), Some(&last)) => {
                        let ends = [(returns.min, first), (returns.max, last)];
                        let mut kept: Vec<u32> = ends.iter().filter(|e| e.0).map(|e| e.1).collect();
                        kept.dedup();
                        kept
                    }
                    _ => uids,
                };
                searches.save(saved);
            }
            if let Some(UpdateRequest { key, program }) = updating {
                let matching = found.iter().map(|&(_, u)| u).collect();
                let started = searches.start_updating(tag.clone(), uid, key, program, matching);
                if let Err(reason) = started {
                    lines.extend(no_update(&tag, reason));
                }
            }
        }
        self.ok_with(lines, &tag, done)
    }

    /// A saving search failed: `$` is empty from now on (RFC 5182 §2.1).
    pub(super) fn search_failed(&mut self, saves: bool) {
        if let Some(view) = self.state.view_mut().filter(|_| saves) {
            view.searches_mut().0.save(Vec::new());
        }
    }

    /// The criteria an updating search `tag` is kept up to date with: sequence numbers
    /// turned into the UIDs they name now. A tag already kept up to date is refused
    /// (RFC 5267 §4.3: BAD).
    pub(super) fn updating_key(&mut self, tag: &str, key: &SearchKey) -> Result<SearchKey, Work> {
        let Some(view) = self.state.view() else {
            return Err(self.bad(tag, "No mailbox selected"));
        };
        if view.searches().is_updating(tag) {
            return Err(self.bad(tag, "This tag already names a search kept up to date"));
        }
        Ok(by_uid(key, &|set| {
            let uids: Vec<u32> = view.resolve(set, false).iter().map(|&(_, u)| u).collect();
            SequenceSet::of(&uids)
        }))
    }

    /// CANCELUPDATE (RFC 5267 §4.3.5): all the named searches stop, or none.
    pub(super) fn cancel_update(&mut self, tag: String, tags: Vec<String>) -> Work {
        let Some(view) = self.state.view_mut() else {
            return self.bad(&tag, "No mailbox selected");
        };
        match view.searches_mut().0.cancel(&tags) {
            Ok(()) => self.ok(&tag, "CANCELUPDATE completed"),
            Err(unknown) => {
                let text = format!("No search tagged {unknown:?} is kept up to date");
                self.bad(&tag, &text)
            }
        }
    }
}

/// `key` with every sequence-number set replaced by the UID set `uids_of` gives it.
pub(super) fn by_uid(key: &SearchKey, uids_of: &dyn Fn(&SequenceSet) -> SequenceSet) -> SearchKey {
    match key {
        SearchKey::Sequence(set) => SearchKey::Uid(uids_of(set)),
        SearchKey::Not(inner) => SearchKey::Not(Box::new(by_uid(inner, uids_of))),
        SearchKey::Or(a, b) => {
            SearchKey::Or(Box::new(by_uid(a, uids_of)), Box::new(by_uid(b, uids_of)))
        }
        SearchKey::And(keys) => SearchKey::And(keys.iter().map(|k| by_uid(k, uids_of)).collect()),
        other => other.clone(),
    }
}

/// The MODSEQ of an ESEARCH answer: the highest modseq of the messages it returns — the
/// MIN one, the MAX one, those of ALL or PARTIAL — or of every match when it returns
/// only a count (RFC 7162 §3.1.5); nothing when nothing matched.
fn returned_modseq(returns: &SearchReturn, modseqs: &[u64]) -> Option<u64> {
    let last = modseqs.len().checked_sub(1)?;
    let mut returned: Vec<u64> = Vec::new();
    if returns.min {
        returned.push(modseqs[0]);
    }
    if returns.max {
        returned.push(modseqs[last]);
    }
    if returns.all {
        returned.extend_from_slice(modseqs);
    }
    if let Some(range) = returns.partial {
        returned.extend(range.window(modseqs).iter().copied());
    }
    if returned.is_empty() {
        returned.extend_from_slice(modseqs);
    }
    returned.into_iter().max()
}
