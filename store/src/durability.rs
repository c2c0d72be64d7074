//! Group commit. Writers apply their batch, take a ticket, and wait until a flush that
//! started after their batch has finished. A flush covers every batch applied before it
//! started, so N concurrent writers pay for about one flush, not N. A writer whose batch
//! came after the start of the flush now running does not wait for that one to end
//! before starting its own: flushes overlap (the kernel and the device run concurrent
//! syncs of one file together), so a write waits for about one flush, not one and a
//! half.

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
    /// The last ticket the latest running flush covers (at most `durable` when none
    /// that covers more is running).
    flushing_to: u64,
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

    /// Returns once the batch behind `ticket` is on disk, flushing unless a running flush
    /// already covers it.
    pub fn wait_durable(&self, ticket: Ticket, engine: &dyn Engine) -> Result<(), StoreError> {
        let mut state = self.lock();
        loop {
            if state.durable >= ticket.0 {
                return Ok(());
            }
            if state.flushing_to >= ticket.0 {
                state = self
                    .flushed
                    .wait(state)
                    .unwrap_or_else(|poison| poison.into_inner());
                continue;
            }
            // Tickets only grow, so this flush covers more than any running one.
            let target = state.applied;
            state.flushing_to = target;
            drop(state);
            let result = engine.flush();
            state = self.lock();
            match result {
                Ok(()) => state.durable = state.durable.max(target),
                // Whoever waits on this flush starts another, unless a later one runs.
                Err(_) if state.flushing_to == target => state.flushing_to = state.durable,
                Err(_) => {}
            }
            self.flushed.notify_all();
            result?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Scan, WriteBatch};
    use std::ops::Range;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    /// An engine whose flush takes a while and counts how many run at once; the gate
    /// never looks at anything else.
    #[derive(Debug, Default)]
    struct SlowFlush {
        running: AtomicUsize,
        most_at_once: AtomicUsize,
        flushes: AtomicUsize,
    }

    impl Engine for SlowFlush {
        fn flush(&self) -> Result<(), StoreError> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_at_once.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(30));
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.flushes.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
        fn get(&self, _: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            unimplemented!()
        }
        fn scan_prefix(&self, _: &[u8]) -> Scan<'_> {
            unimplemented!()
        }
        fn scan_range(&self, _: &[u8], _: &[u8]) -> Scan<'_> {
            unimplemented!()
        }
        fn apply(&self, _: WriteBatch) -> Result<(), StoreError> {
            unimplemented!()
        }
        fn size_on_disk(&self) -> Result<u64, StoreError> {
            unimplemented!()
        }
        fn put_object(&self, _: &[&[u8]]) -> Result<u64, StoreError> {
            unimplemented!()
        }
        fn read_object(&self, _: u64, _: Range<u64>) -> Result<Vec<u8>, StoreError> {
            unimplemented!()
        }
        fn delete_object(&self, _: u64) -> Result<(), StoreError> {
            unimplemented!()
        }
        fn object_ids(&self) -> Result<Vec<u64>, StoreError> {
            unimplemented!()
        }
    }

    #[test]
    fn a_batch_applied_during_a_flush_starts_its_own_at_once_and_one_flush_serves_many() {
        let gate = Arc::new(FlushGate::default());
        let engine = Arc::new(SlowFlush::default());
        // The first writer's flush runs; a second batch comes while it does.
        let first = gate.applied();
        let flushing = {
            let (gate, engine) = (gate.clone(), engine.clone());
            std::thread::spawn(move || gate.wait_durable(first, engine.as_ref()))
        };
        while engine.running.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        let second = gate.applied();
        gate.wait_durable(second, engine.as_ref()).unwrap();
        flushing.join().unwrap().unwrap();
        assert_eq!(
            engine.most_at_once.load(Ordering::SeqCst),
            2,
            "the flushes overlapped"
        );
        assert_eq!(engine.flushes.load(Ordering::SeqCst), 2);

        // Eight writers applied before anyone flushes share one flush.
        let tickets: Vec<Ticket> = (0..8).map(|_| gate.applied()).collect();
        let start = Arc::new(Barrier::new(tickets.len()));
        let writers: Vec<_> = tickets
            .into_iter()
            .map(|ticket| {
                let (gate, engine, start) = (gate.clone(), engine.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    gate.wait_durable(ticket, engine.as_ref())
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap().unwrap();
        }
        assert_eq!(engine.flushes.load(Ordering::SeqCst), 3);
        // A ticket already durable waits for nothing.
        gate.wait_durable(gate.nothing_applied(), engine.as_ref())
            .unwrap();
        assert_eq!(engine.flushes.load(Ordering::SeqCst), 3);
    }
}
