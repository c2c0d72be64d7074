//! Searches kept up to date (RFC 5267 §4.3) learn of changes here. Before the session
//! sends what it has to say — a command's answer, or changes during IDLE — the
//! messages that arrived or changed flags since the last time are tested against each
//! updating search, on the blocking pool like SEARCH itself, and the ADDTO and
//! REMOVEFROM lines follow the EXISTS and FETCH lines that announced those messages
//! (RFC 5267 §4.3.3). Expunged messages leave the searches before their EXPUNGE, in
//! the view ([`super::search_state`]).
//!
//! The work of one update is bounded: a search whose keys read the store (headers,
//! text, dates, sizes) retests at most [`MAX_RETESTED`] messages at once; when more
//! changed, it is dropped with `NOUPDATE` rather than run like a new SEARCH without a
//! slot. Keys on flags and numbers cost no store read and are always retested.

use super::search::{search_part, Bounds, Listed};
use super::search_state::Retested;
use super::session::{ImapSession, Work};
use super::shared_search::SearchFailed;
use super::view::View;
use actix::prelude::*;
use mailhive_protocol::imap::command::SearchKey;
use mailhive_store::{MailboxId, Store};
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
    /// Each updating search's tag and key.
    searches: Vec<(String, Arc<SearchKey>)>,
}

impl Retest {
    fn take(view: &mut View) -> Option<Retest> {
        let (touched, searches) = {
            let (state, _) = view.searches_mut();
            let (touched, updating) = state.take_touched()?;
            let searches: Vec<(String, Arc<SearchKey>)> = updating
                .iter()
                .map(|u| (u.tag.clone(), u.key.clone()))
                .collect();
            (touched, searches)
        };
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

    /// The retested UIDs, and what each search found among them.
    fn run(self, store: &Store, cancel: &CancellationToken) -> (Vec<u32>, Vec<(String, Retested)>) {
        let retested = self
            .searches
            .into_iter()
            .map(|(tag, key)| {
                if reads_store(&key) && self.messages.len() > MAX_RETESTED {
                    let reason = "Too many messages changed at once to keep this search up to date";
                    return (tag, Retested::Dropped(reason));
                }
                let found = search_part(
                    store,
                    self.mailbox,
                    &key,
                    &self.bounds,
                    &self.messages,
                    cancel,
                );
                let outcome = match found {
                    Ok(found) => Retested::Matching(found.iter().map(|&(_, uid)| uid).collect()),
                    Err(SearchFailed::Store(error)) => {
                        tracing::error!(%error, "an updating search failed");
                        Retested::Dropped("The search could not be brought up to date")
                    }
                    Err(SearchFailed::Busy | SearchFailed::Cancelled) => {
                        Retested::Dropped("The search was stopped")
                    }
                };
                (tag, outcome)
            })
            .collect();
        (self.messages.iter().map(|m| m.uid).collect(), retested)
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
        let run = actix_rt::task::spawn_blocking(move || retest.run(&store, &cancel));
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
