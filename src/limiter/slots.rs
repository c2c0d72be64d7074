//! FETCH and SEARCH slots — MaxConcurrentFetchesPerUser, MaxConcurrentFetchesPerServer,
//! MaxConcurrentSearchesPerUser — and the first-come-first-served queue of commands
//! waiting for one. A waiter is served as soon as a slot it fits in is free, before any
//! later waiter; a waiter whose client went away (its receiver dropped) is passed over
//! and forgotten.

use super::permit::Permit;
use crate::config::{ProtocolSettings, Setting};
use mailhive_store::Username;
use std::collections::{HashMap, VecDeque};
use tokio::sync::oneshot;

/// The work a slot is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotKind {
    Fetch,
    Search,
}

/// Waiters queued at most; past that, a command is refused at once as if it had waited.
pub const MAX_WAITERS: usize = 10_000;

/// A command waiting for a slot.
#[derive(Debug)]
pub struct Waiter {
    pub kind: SlotKind,
    pub user: Username,
    /// Where the permit goes; closed when the client went away or gave up.
    pub reply: oneshot::Sender<Permit>,
}

#[derive(Debug, Default)]
pub struct Slots {
    /// Running commands per kind and user.
    running: HashMap<(SlotKind, Username), u64>,
    /// Running FETCHes of all users.
    fetches: u64,
    searches: u64,
    queue: VecDeque<Waiter>,
}

impl Slots {
    /// Whether a `kind` command of `user` may start now under `settings` (IMAP's).
    pub fn fits(&self, kind: SlotKind, user: &Username, settings: &ProtocolSettings) -> bool {
        let limit = |setting| settings.get(setting).unwrap_or(u64::MAX);
        let mine = self
            .running
            .get(&(kind, user.clone()))
            .copied()
            .unwrap_or(0);
        match kind {
            SlotKind::Fetch => {
                mine < limit(Setting::MaxConcurrentFetchesPerUser)
                    && self.fetches < limit(Setting::MaxConcurrentFetchesPerServer)
            }
            SlotKind::Search => mine < limit(Setting::MaxConcurrentSearchesPerUser),
        }
    }

    pub fn take(&mut self, kind: SlotKind, user: &Username) {
        *self.running.entry((kind, user.clone())).or_insert(0) += 1;
        *self.total(kind) += 1;
    }

    pub fn give_back(&mut self, kind: SlotKind, user: &Username) {
        let key = (kind, user.clone());
        if let Some(count) = self.running.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                self.running.remove(&key);
            }
            let total = self.total(kind);
            *total = total.saturating_sub(1);
        }
    }

    fn total(&mut self, kind: SlotKind) -> &mut u64 {
        match kind {
            SlotKind::Fetch => &mut self.fetches,
            SlotKind::Search => &mut self.searches,
        }
    }

    /// Queues `waiter` behind the others; gives it back when the queue is full.
    pub fn enqueue(&mut self, waiter: Waiter) -> Result<(), Waiter> {
        self.queue.retain(|w| !w.reply.is_closed());
        if self.queue.len() >= MAX_WAITERS {
            return Err(waiter);
        }
        self.queue.push_back(waiter);
        Ok(())
    }

    /// Serves, in queue order, every waiter that fits now; `permit` makes the permit of
    /// a slot just taken. Waiters whose client has gone are dropped.
    pub fn serve_queue(
        &mut self,
        settings: &ProtocolSettings,
        mut permit: impl FnMut(SlotKind, &Username) -> Permit,
    ) {
        let mut again = true;
        while again {
            again = false;
            let mut kept = VecDeque::with_capacity(self.queue.len());
            while let Some(waiter) = self.queue.pop_front() {
                if waiter.reply.is_closed() {
                    continue;
                }
                if !self.fits(waiter.kind, &waiter.user, settings) {
                    kept.push_back(waiter);
                    continue;
                }
                self.take(waiter.kind, &waiter.user);
                let granted = permit(waiter.kind, &waiter.user);
                if let Err(unwanted) = waiter.reply.send(granted) {
                    // The client left between the check and the send: the slot is free
                    // again, and a waiter passed over above may fit now.
                    if unwanted.into_grant().is_some() {
                        self.give_back(waiter.kind, &waiter.user);
                        again = true;
                    }
                }
            }
            self.queue = kept;
        }
    }

    /// Running commands of `kind`, all users.
    pub fn running(&self, kind: SlotKind) -> u64 {
        match kind {
            SlotKind::Fetch => self.fetches,
            SlotKind::Search => self.searches,
        }
    }

    /// Waiters of `kind` whose client is still there.
    pub fn queued(&self, kind: SlotKind) -> usize {
        self.queue
            .iter()
            .filter(|w| w.kind == kind && !w.reply.is_closed())
            .count()
    }
}
