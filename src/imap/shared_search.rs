//! Identical SEARCHes share one execution. When a client re-sends a SEARCH that is
//! still running — because it gave up waiting, or from a second connection — the new
//! one waits for the running one's answer instead of doing the work again. Identical
//! means same user, same mailbox, same criteria, and the same view of the mailbox
//! (its messages and their flag versions), so the answer is the same.
//!
//! The work is cancelled when nobody is interested in it any more: the last
//! [`Interest`] dropped (its client gone) cancels it.

use mailhive_store::{MailboxId, Username};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What makes two searches the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchId {
    pub user: Username,
    pub mailbox: MailboxId,
    /// The criteria, in a canonical text form.
    pub criteria: String,
    /// A fingerprint of the searching session's view of the mailbox.
    pub view: u64,
}

/// What a search found: the matching messages as (sequence number, UID), ascending or
/// in the order of a SORT, or for a THREAD its threads.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Matches {
    pub messages: Vec<(u32, u32)>,
    pub threads: Forest,
}

impl From<Vec<(u32, u32)>> for Matches {
    fn from(messages: Vec<(u32, u32)>) -> Self {
        Matches {
            messages,
            threads: Forest::default(),
        }
    }
}

/// A thread node: its message ((sequence number, UID); none for a parent that is not
/// in the mailbox) and its children.
pub type ThreadNode = (Option<(u32, u32)>, Vec<usize>);

/// Threads, their nodes in one list (so that dropping them recurses into nothing,
/// however deep they are).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Forest {
    pub nodes: Vec<ThreadNode>,
    pub roots: Vec<usize>,
}

impl Forest {
    /// A new node without children.
    pub fn add(&mut self, message: Option<(u32, u32)>) -> usize {
        self.nodes.push((message, Vec::new()));
        self.nodes.len() - 1
    }
}

pub type Found = Arc<Matches>;

/// Why a search gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchFailed {
    #[error("the search was cancelled")]
    Cancelled,
    #[error("no search slot came free in time")]
    Busy,
    #[error("{0}")]
    Store(String),
}

type Outcome = Option<Result<Found, SearchFailed>>;

#[derive(Debug)]
struct Execution {
    /// Tells this execution from a later one of the same search.
    number: u64,
    outcome: watch::Sender<Outcome>,
    /// Sessions waiting for the outcome.
    interested: usize,
    cancel: CancellationToken,
}

/// The searches running now.
#[derive(Debug, Default)]
pub struct SharedSearches {
    running: Mutex<HashMap<SearchId, Execution>>,
    /// The number of the last execution begun.
    begun: std::sync::atomic::AtomicU64,
}

/// A session's interest in a running search. Dropping the last one cancels it.
#[derive(Debug)]
pub struct Interest {
    searches: Arc<SharedSearches>,
    id: SearchId,
    number: u64,
    outcome: watch::Receiver<Outcome>,
}

/// The side that runs a search and reports its outcome.
#[derive(Debug)]
pub struct Runner {
    searches: Arc<SharedSearches>,
    id: SearchId,
    number: u64,
    outcome: watch::Sender<Outcome>,
    /// Cancelled when nobody waits for the outcome any more.
    pub cancel: CancellationToken,
}

impl SharedSearches {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SearchId, Execution>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on execution `number` of `id`, if it still runs; `f` says whether the
    /// execution ends.
    fn with_execution(&self, id: &SearchId, number: u64, f: impl FnOnce(&mut Execution) -> bool) {
        let mut running = self.lock();
        if let Some(execution) = running.get_mut(id).filter(|e| e.number == number) {
            if f(execution) {
                running.remove(id);
            }
        }
    }

    /// An interest in the running search `id`, if there is one.
    pub fn join(self: &Arc<Self>, id: &SearchId) -> Option<Interest> {
        let mut running = self.lock();
        let execution = running.get_mut(id)?;
        execution.interested += 1;
        Some(Interest {
            searches: self.clone(),
            id: id.clone(),
            number: execution.number,
            outcome: execution.outcome.subscribe(),
        })
    }

    /// Joins the running search `id`, or starts it: the [`Runner`] is then the
    /// caller's to run.
    pub fn join_or_begin(self: &Arc<Self>, id: SearchId) -> (Interest, Option<Runner>) {
        if let Some(interest) = self.join(&id) {
            return (interest, None);
        }
        let number = self.begun.fetch_add(1, Ordering::Relaxed) + 1;
        let (outcome, receiver) = watch::channel(None);
        let cancel = CancellationToken::new();
        self.lock().insert(
            id.clone(),
            Execution {
                number,
                outcome: outcome.clone(),
                interested: 1,
                cancel: cancel.clone(),
            },
        );
        let interest = Interest {
            searches: self.clone(),
            id: id.clone(),
            number,
            outcome: receiver,
        };
        let runner = Runner {
            searches: self.clone(),
            id,
            number,
            outcome,
            cancel,
        };
        (interest, Some(runner))
    }

    /// Whether no search runs now.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

impl Interest {
    /// The outcome, when the search has one.
    pub async fn outcome(mut self) -> Result<Found, SearchFailed> {
        match self.outcome.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or(Err(SearchFailed::Cancelled)),
            Err(_) => Err(SearchFailed::Cancelled),
        }
    }
}

impl Drop for Interest {
    fn drop(&mut self) {
        self.searches
            .with_execution(&self.id, self.number, |execution| {
                execution.interested -= 1;
                let nobody_left = execution.interested == 0;
                if nobody_left {
                    execution.cancel.cancel();
                }
                nobody_left
            });
    }
}

impl Runner {
    /// Reports the outcome to every interested session; later identical searches
    /// start anew.
    pub fn finish(self, outcome: Result<Found, SearchFailed>) {
        self.searches
            .with_execution(&self.id, self.number, |_| true);
        self.outcome.send_replace(Some(outcome));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> SearchId {
        SearchId {
            user: Username::parse("ann").unwrap(),
            mailbox: MailboxId(7),
            criteria: "BODY x".into(),
            view: 42,
        }
    }

    #[test]
    fn a_second_identical_search_joins_the_first() {
        let searches = Arc::new(SharedSearches::default());
        let (first, runner) = searches.join_or_begin(id());
        let runner = runner.expect("the first one runs");
        let (second, none) = searches.join_or_begin(id());
        assert!(none.is_none(), "the second one only waits");
        runner.finish(Ok(Arc::new(vec![(1, 10)].into())));
        let outcome = actix_rt::System::new()
            .block_on(async { (first.outcome().await, second.outcome().await) });
        assert_eq!(outcome.0, Ok(Arc::new(vec![(1, 10)].into())));
        assert_eq!(outcome.0, outcome.1);
        assert!(searches.is_empty());
    }

    #[test]
    fn the_work_is_cancelled_when_the_last_interest_goes() {
        let searches = Arc::new(SharedSearches::default());
        let (first, runner) = searches.join_or_begin(id());
        let runner = runner.unwrap();
        let second = searches.join(&id()).unwrap();
        drop(first);
        assert!(!runner.cancel.is_cancelled(), "someone still waits");
        drop(second);
        assert!(runner.cancel.is_cancelled());
        assert!(searches.is_empty());
        runner.finish(Err(SearchFailed::Cancelled));
    }
}
