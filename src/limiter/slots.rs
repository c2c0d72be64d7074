//! FETCH and SEARCH slots — MaxConcurrentFetchesPerUser and PerServer,
//! MaxConcurrentSearchesPerUser and PerServer (SORT and THREAD will take SEARCH slots
//! too) — and the first-come-first-served queue of commands waiting for one.
//!
//! Waiters queue per kind and user, each with a ticket that says when it came: a freed
//! slot goes to the earliest waiter it fits, so the queue is fair across users, and the
//! common case — a user's slot freed, the server not full — looks at that user's queue
//! only. A waiter whose client went away (its receiver dropped) is passed over and
//! forgotten.
//!
//! Servers sharing a PostgreSQL store count each other's slots per user
//! ([`Elsewhere`]); the per-server limit counts this process's alone.

use super::permit::Permit;
use super::shared::Elsewhere;
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

impl SlotKind {
    pub const ALL: [SlotKind; 2] = [SlotKind::Fetch, SlotKind::Search];

    fn index(self) -> usize {
        match self {
            SlotKind::Fetch => 0,
            SlotKind::Search => 1,
        }
    }

    /// The settings that limit this kind: per user, and for the whole server.
    fn limits(self) -> (Setting, Setting) {
        match self {
            SlotKind::Fetch => (
                Setting::MaxConcurrentFetchesPerUser,
                Setting::MaxConcurrentFetchesPerServer,
            ),
            SlotKind::Search => (
                Setting::MaxConcurrentSearchesPerUser,
                Setting::MaxConcurrentSearchesPerServer,
            ),
        }
    }
}

/// Waiters queued at most; past that, a command is refused at once as if it had waited.
pub const MAX_WAITERS: usize = 10_000;

/// A command waiting for a slot: where its permit goes. Closed when the client went
/// away or gave up.
type Reply = oneshot::Sender<Permit>;

#[derive(Debug)]
struct Waiter {
    /// Order of arrival.
    ticket: u64,
    reply: Reply,
}

/// Which queues a freed slot may serve.
#[derive(Debug, Clone, Copy)]
pub enum Freed<'a> {
    /// One user's slot of one kind: only that queue can move.
    One(SlotKind, &'a Username),
    /// Any queue (a server-wide slot was freed, or the limits changed).
    Any,
}

#[derive(Debug, Default)]
pub struct Slots {
    /// Running commands per user, by kind.
    running: HashMap<Username, [u64; 2]>,
    /// Running commands of all users, by kind.
    totals: [u64; 2],
    queues: HashMap<(SlotKind, Username), VecDeque<Waiter>>,
    /// Waiters in all queues (some may have left and not been swept yet).
    waiting: usize,
    next_ticket: u64,
}

fn limit(settings: &ProtocolSettings, setting: Setting) -> u64 {
    settings.get(setting).unwrap_or(u64::MAX)
}

impl Slots {
    /// Whether a `kind` command of `user` may start now under `settings` (IMAP's), with
    /// what the user runs on the other servers.
    pub fn fits(
        &self,
        kind: SlotKind,
        user: &Username,
        settings: &ProtocolSettings,
        elsewhere: &Elsewhere,
    ) -> bool {
        let mine =
            self.running.get(user).map_or(0, |r| r[kind.index()]) + elsewhere.slots_of(kind, user);
        let (per_user, per_server) = kind.limits();
        mine < limit(settings, per_user) && self.totals[kind.index()] < limit(settings, per_server)
    }

    pub fn take(&mut self, kind: SlotKind, user: &Username) {
        match self.running.get_mut(user) {
            Some(running) => running[kind.index()] += 1,
            None => {
                let mut running = [0; 2];
                running[kind.index()] = 1;
                self.running.insert(user.clone(), running);
            }
        }
        self.totals[kind.index()] += 1;
    }

    /// Gives a slot back; says which queues may move now.
    pub fn give_back<'u>(
        &mut self,
        kind: SlotKind,
        user: &'u Username,
        settings: &ProtocolSettings,
    ) -> Freed<'u> {
        let Some(running) = self.running.get_mut(user) else {
            return Freed::One(kind, user);
        };
        running[kind.index()] = running[kind.index()].saturating_sub(1);
        if running == &[0, 0] {
            self.running.remove(user);
        }
        let server_was_full = self.totals[kind.index()] >= limit(settings, kind.limits().1);
        self.totals[kind.index()] = self.totals[kind.index()].saturating_sub(1);
        if server_was_full {
            Freed::Any
        } else {
            Freed::One(kind, user)
        }
    }

    /// Queues a command of `user`; gives `reply` back when the queue is full.
    pub fn enqueue(&mut self, kind: SlotKind, user: Username, reply: Reply) -> Result<(), Reply> {
        if self.waiting >= MAX_WAITERS {
            self.sweep();
            if self.waiting >= MAX_WAITERS {
                return Err(reply);
            }
        }
        self.next_ticket += 1;
        let waiter = Waiter {
            ticket: self.next_ticket,
            reply,
        };
        self.queues
            .entry((kind, user))
            .or_default()
            .push_back(waiter);
        self.waiting += 1;
        Ok(())
    }

    /// Forgets every waiter whose client has gone.
    fn sweep(&mut self) {
        for queue in self.queues.values_mut() {
            queue.retain(|w| !w.reply.is_closed());
        }
        self.queues.retain(|_, queue| !queue.is_empty());
        self.waiting = self.queues.values().map(VecDeque::len).sum();
    }

    /// The ticket of the first waiter of `key` still there, dropping those who left.
    fn head(&mut self, key: &(SlotKind, Username)) -> Option<u64> {
        let queue = self.queues.get_mut(key)?;
        while queue.front().is_some_and(|w| w.reply.is_closed()) {
            queue.pop_front();
            self.waiting -= 1;
        }
        match queue.front() {
            Some(waiter) => Some(waiter.ticket),
            None => {
                self.queues.remove(key);
                None
            }
        }
    }

    /// Serves, earliest first, every waiter of the `freed` queues that fits now;
    /// `permit` makes the permit of a slot just taken.
    pub fn serve(
        &mut self,
        freed: Freed<'_>,
        settings: &ProtocolSettings,
        elsewhere: &Elsewhere,
        mut permit: impl FnMut(SlotKind, &Username) -> Permit,
    ) {
        let mut candidates: Vec<(SlotKind, Username)> = match freed {
            Freed::One(kind, user) => vec![(kind, user.clone())],
            Freed::Any => self.queues.keys().cloned().collect(),
        };
        loop {
            let mut earliest: Option<(u64, usize)> = None;
            let mut i = 0;
            while i < candidates.len() {
                let key = &candidates[i];
                let Some(ticket) = self.head(key) else {
                    candidates.swap_remove(i);
                    continue;
                };
                if self.fits(key.0, &key.1, settings, elsewhere)
                    && earliest.is_none_or(|(t, _)| ticket < t)
                {
                    earliest = Some((ticket, i));
                }
                i += 1;
            }
            let Some((_, i)) = earliest else { return };
            let (kind, user) = candidates[i].clone();
            let Some(waiter) = self
                .queues
                .get_mut(&(kind, user.clone()))
                .and_then(VecDeque::pop_front)
            else {
                return;
            };
            self.waiting -= 1;
            self.take(kind, &user);
            if let Err(unwanted) = waiter.reply.send(permit(kind, &user)) {
                // The client left between the check and the send: the slot is free
                // again for the next waiter.
                if unwanted.into_grant().is_some() {
                    self.give_back(kind, &user, settings);
                }
            }
        }
    }

    /// The users running commands: how many of each kind (counts above zero).
    pub fn running_per_user(&self) -> impl Iterator<Item = (SlotKind, &Username, u64)> {
        self.running.iter().flat_map(|(user, running)| {
            SlotKind::ALL
                .into_iter()
                .map(move |kind| (kind, user, running[kind.index()]))
                .filter(|&(_, _, n)| n > 0)
        })
    }

    /// Running commands of `kind`, all users.
    pub fn running(&self, kind: SlotKind) -> u64 {
        self.totals[kind.index()]
    }

    /// Waiters of `kind` whose client is still there.
    pub fn queued(&self, kind: SlotKind) -> usize {
        self.queues
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .flat_map(|(_, queue)| queue)
            .filter(|w| !w.reply.is_closed())
            .count()
    }
}
