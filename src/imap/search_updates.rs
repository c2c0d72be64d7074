//! Searches kept up to date (RFC 5267 §4.3) learn of changes here. Before the session
//! sends what it has to say — a command's answer, or changes during IDLE — the
//! messages that arrived or changed flags since the last time are tested against each
//! updating search, on the blocking pool like SEARCH itself, and the ADDTO and
//! REMOVEFROM lines follow the EXISTS and FETCH lines that announced those messages
//! (RFC 5267 §4.3.3). Expunged messages leave the searches before their EXPUNGE, in
//! the view ([`super::search_state`]).
//!
//! An updating SORT (CONTEXT=SORT) that gains messages sorts its results again with
//! the keys of the mailbox actor's column ([`super::sort`]), so its ADDTO lines can
//! say where each one stands.
//!
//! The work of one update is bounded: a search whose keys read the store (headers,
//! text, dates, sizes) retests at most [`MAX_RETESTED`] messages at once, and a SORT
//! takes in at most as many; when more changed, it is dropped with `NOUPDATE` rather
//! than run like a new SEARCH without a slot. Keys on flags and numbers cost no store
//! read and are always retested.

use super::search::{search_part, Bounds, Listed};
use super::search_state::{Retested, Updating};
use super::session::{ImapSession, Work};
use super::shared_search::SearchFailed;
use super::sort::{self, Arrangement};
use super::view::View;
use crate::mailbox::SortColumn;
use actix::prelude::*;
use mailhive_protocol::imap::command::{SearchKey, SortCriterion};
use mailhive_store::{MailboxId, Store};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Changed messages a search that reads the store retests in one update.
pub const MAX_RETESTED: usize = 1_000;

/// The retesting due in a view: its touched messages and its updating searches.
struct Retest {
    mailbox: MailboxId,
    /// The touched messages still in the view.
    messages: Vec<Listed>,
    bounds: Bounds,
    searches: Vec<Retesting>,
}

/// One updating search to retest.
struct Retesting {
    tag: String,
    key: Arc<SearchKey>,
    sorted: Option<SortedBefore>,
}

/// What an updating SORT matched before the changes: enough to sort it again.
struct SortedBefore {
    program: Arc<[SortCriterion]>,
    /// The touched messages that matched.
    touched_matching: BTreeSet<u32>,
    /// (sequence number, UID) of the untouched ones that match, ascending.
    untouched: Vec<(u32, u32)>,
}

impl Retesting {
    fn of(search: &Updating, touched: &BTreeSet<u32>, view: &View) -> Retesting {
        let sorted = search.program().map(|program| {
            let (touched_matching, untouched) = search
                .matching()
                .partition::<Vec<u32>, _>(|uid| touched.contains(uid));
            SortedBefore {
                program: program.clone(),
                touched_matching: touched_matching.into_iter().collect(),
                untouched: untouched
                    .into_iter()
                    .filter_map(|uid| Some((view.seq_of(uid)?, uid)))
                    .collect(),
            }
        });
        Retesting {
            tag: search.tag.clone(),
            key: search.key.clone(),
            sorted,
        }
    }
}

impl Retest {
    fn take(view: &mut View) -> Option<Retest> {
        let touched = view.searches_mut().0.take_touched()?;
        let touched_set: BTreeSet<u32> = touched.iter().copied().collect();
        let searches = view
            .searches()
            .updating()
            .iter()
            .map(|search| Retesting::of(search, &touched_set, view))
            .collect();
        let messages = touched
            .iter()
            .filter_map(|&uid| Listed::of(view, view.seq_of(uid)?))
            .collect();
        Some(Retest {
            mailbox: view.id(),
            messages,
            bounds: Bounds::of(view),
            searches,
        })
    }

    /// The retested UIDs, and what each search found among them; `column` holds the
    /// sort keys of the mailbox, when an updating SORT may need them.
    fn run(
        self,
        store: &Store,
        column: Option<&SortColumn>,
        cancel: &CancellationToken,
    ) -> (Vec<u32>, Vec<(String, Retested)>) {
        let retested = self
            .searches
            .iter()
            .map(|search| {
                let outcome = self
                    .retest(search, store, column, cancel)
                    .unwrap_or_else(|failed| match failed {
                        SearchFailed::Store(error) => {
                            tracing::error!(%error, "an updating search failed");
                            Retested::Dropped("The search could not be brought up to date")
                        }
                        SearchFailed::Busy | SearchFailed::Cancelled => {
                            Retested::Dropped("The search was stopped")
                        }
                    });
                (search.tag.clone(), outcome)
            })
            .collect();
        (self.messages.iter().map(|m| m.uid).collect(), retested)
    }

    fn retest(
        &self,
        search: &Retesting,
        store: &Store,
        column: Option<&SortColumn>,
        cancel: &CancellationToken,
    ) -> Result<Retested, SearchFailed> {
        const TOO_MANY: &str = "Too many messages changed at once to keep this search up to date";
        if reads_store(&search.key) && self.messages.len() > MAX_RETESTED {
            return Ok(Retested::Dropped(TOO_MANY));
        }
        let found = search_part(
            store,
            self.mailbox,
            &search.key,
            &self.bounds,
            &self.messages,
            cancel,
        )?;
        let matching: BTreeSet<u32> = found.iter().map(|&(_, uid)| uid).collect();
        let Some(before) = &search.sorted else {
            return Ok(Retested::Matching(matching, None));
        };
        let arrived = found
            .iter()
            .filter(|(_, uid)| !before.touched_matching.contains(uid))
            .count();
        if arrived == 0 {
            return Ok(Retested::Matching(matching, None));
        }
        if arrived > MAX_RETESTED {
            return Ok(Retested::Dropped(TOO_MANY));
        }
        let mut now = before.untouched.clone();
        now.extend_from_slice(&found);
        now.sort_unstable();
        let how = Arrangement::Sort(before.program.to_vec());
        let sorted = sort::arrange(store, self.mailbox, column, &how, &now, cancel)?;
        let order = sorted.messages.iter().map(|&(_, uid)| uid).collect();
        Ok(Retested::Matching(matching, Some(order)))
    }
}

/// Whether testing `key` reads anything of the message beyond its flags and numbers.
fn reads_store(key: &SearchKey) -> bool {
    match key {
        SearchKey::All
        | SearchKey::Flag(_)
        | SearchKey::NotFlag(_)
        | SearchKey::New
        | SearchKey::Old
        | SearchKey::Uid(_)
        | SearchKey::Sequence(_) => false,
        SearchKey::Not(inner) => reads_store(inner),
        SearchKey::Or(a, b) => reads_store(a) || reads_store(b),
        SearchKey::And(keys) => keys.iter().any(reads_store),
        _ => true,
    }
}

impl ImapSession {
    /// Sends `lines`, then the updates of the searches kept up to date that the
    /// changes among them call for, then `tail` (a tagged answer, or nothing).
    pub(super) fn send_with_updates(&mut self, mut lines: Vec<u8>, tail: Vec<u8>) -> Work {
        let Some(retest) = self.state.view_mut().and_then(Retest::take) else {
            lines.extend(tail);
            if lines.is_empty() {
                return Box::pin(actix::fut::ready(()));
            }
            return self.send(lines);
        };
        let store = self.store().clone();
        let cancel = self.gone.clone();
        let registry = self.context.registry.clone();
        let run = async move {
            let sorts = retest.searches.iter().any(|s| s.sorted.is_some());
            let column = match sorts {
                true => registry.sort_column(retest.mailbox).await.ok(),
                false => None,
            };
            actix_rt::task::spawn_blocking(move || retest.run(&store, column.as_deref(), &cancel))
                .await
        };
        Box::pin(run.into_actor(self).then(move |done, act, _| {
            match (done, act.state.view_mut()) {
                (Ok((touched, retested)), Some(view)) => {
                    let (searches, uids) = view.searches_mut();
                    lines.extend(searches.apply(&touched, retested, uids));
                }
                (Err(error), _) => tracing::error!(%error, "an update of searches failed"),
                (Ok(_), None) => {}
            }
            lines.extend(tail);
            act.send(lines)
        }))
    }
}
