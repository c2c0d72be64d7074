//! Group commit. Writers apply their batch, take a ticket, and wait until a flush that
//! started after their batch has finished. One waiter at a time runs the flush for
//! everybody who is waiting, so N concurrent writers pay for about one flush, not N.

use crate::engine::Engine;
use crate::StoreError;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Tracks which applied batches are durable.
#[derive(Debug, Default)]
pub struct FlushGate {
    state: Mutex<GateState>,
    flushed: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    /// Tickets handed out: one per applied batch.
    applied: u64,
    /// Every ticket up to this one is on disk.
    durable: u64,
    /// A flush is running on some thread.
    flushing: bool,
}

/// Proof that a batch was applied; redeem it with [`FlushGate::wait_durable`].
#[derive(Debug, Clone, Copy)]
#[must_use = "a write is not durable until its ticket is waited on"]
pub struct Ticket(u64);

impl FlushGate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        // A panic while holding this lock leaves plain counters behind: still usable.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Records an applied batch. Call it while the batch's writer lock is still held,
    /// so that tickets follow the order in which batches reached the engine.
    pub fn applied(&self) -> Ticket {
        let mut state = self.lock();
        state.applied += 1;
        Ticket(state.applied)
    }

    /// A ticket for a transaction that changed nothing: it only has to wait for the
    /// batches applied before it, whose state it may have read (usually durable already,
    /// then there is nothing to wait for).
    pub fn nothing_applied(&self) -> Ticket {
        Ticket(self.lock().applied)
    }

    /// Returns once the batch behind `ticket` is on disk, flushing if nobody else is.
    pub fn wait_durable(&self, ticket: Ticket, engine: &dyn Engine) -> Result<(), StoreError> {
        let mut state = self.lock();
        loop {
            if state.durable >= ticket.0 {
                return Ok(());
            }
            if state.flushing {
                state = self
                    .flushed
                    .wait(state)
                    .unwrap_or_else(|poison| poison.into_inner());
                continue;
            }
            state.flushing = true;
            let target = state.applied;
            drop(state);
            let result = engine.flush();
            state = self.lock();
            state.flushing = false;
            if result.is_ok() {
                state.durable = state.durable.max(target);
            }
            self.flushed.notify_all();
            result?;
        }
    }
}
