//! A watcher's inbox: the changes a Mailbox actor publishes to one session, in the
//! order it made them, waiting until the session takes them.
//!
//! The session takes them itself, synchronously, whenever it announces — at the end of
//! every command. Whatever the actor published before it answered a change is
//! therefore in the inbox by the time the session has the answer: the session's own
//! APPEND is announced after the ones other sessions made before it, never ahead of
//! them. A [`Wake`] tells a session that is idle (IDLE) that something came; at most
//! one is on its way at a time.
//!
//! The inbox is bounded: an actor that finds it full stops publishing to it and marks
//! it lagged — the session fell too far behind (a client that does not read) and ends
//! its selection rather than hold changes without bound.

use super::Changes;
use actix::prelude::*;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Tells a session that its inbox has changes.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Wake;

#[derive(Debug)]
pub struct Inbox {
    queue: Mutex<VecDeque<Changes>>,
    capacity: usize,
    /// Set when the actor found the inbox full and stopped publishing to it.
    lagged: AtomicBool,
    /// A [`Wake`] was sent and the session has not taken the inbox since.
    wake_due: AtomicBool,
    wake: Recipient<Wake>,
}

impl Inbox {
    /// An inbox of at most `capacity` changes, whose session `wake` reaches.
    pub fn new(capacity: usize, wake: Recipient<Wake>) -> Inbox {
        Inbox {
            queue: Mutex::new(VecDeque::new()),
            capacity,
            lagged: AtomicBool::new(false),
            wake_due: AtomicBool::new(false),
            wake,
        }
    }

    /// Adds `changes` and wakes the session; false when the session is gone or the
    /// inbox is full (then marked lagged): the actor stops publishing to it.
    pub(super) fn push(&self, changes: Changes) -> bool {
        {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if queue.len() >= self.capacity {
                self.lagged.store(true, Ordering::Relaxed);
                return false;
            }
            queue.push_back(changes);
        }
        if self.wake_due.swap(true, Ordering::AcqRel) {
            return true;
        }
        match self.wake.try_send(Wake) {
            Ok(()) => true,
            // The changes wait for the session's next command; the next push wakes it.
            Err(SendError::Full(_)) => {
                self.wake_due.store(false, Ordering::Release);
                true
            }
            Err(SendError::Closed(_)) => false,
        }
    }

    /// Every change published so far, oldest first.
    pub fn take(&self) -> Vec<Changes> {
        self.wake_due.store(false, Ordering::Release);
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.drain(..).collect()
    }

    /// The session is still there to take what comes.
    pub(super) fn connected(&self) -> bool {
        self.wake.connected()
    }

    /// The actor stopped publishing here because the inbox was full.
    pub fn lagged(&self) -> bool {
        self.lagged.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailhive_store::MailboxId;

    /// Counts the wakes it gets; [`Count`] asks how many (after every wake sent before).
    #[derive(Default)]
    struct Sleeper(usize);

    impl Actor for Sleeper {
        type Context = Context<Self>;
    }

    impl Handler<Wake> for Sleeper {
        type Result = ();
        fn handle(&mut self, _: Wake, _: &mut Context<Self>) {
            self.0 += 1;
        }
    }

    #[derive(Message)]
    #[rtype(result = "usize")]
    struct Count;

    impl Handler<Count> for Sleeper {
        type Result = usize;
        fn handle(&mut self, _: Count, _: &mut Context<Self>) -> usize {
            self.0
        }
    }

    fn appended(uid: u32) -> Changes {
        let mut changes = Changes::new(MailboxId(1));
        changes
            .appended
            .push((uid, Default::default(), u64::from(uid)));
        changes
    }

    #[actix_rt::test]
    async fn changes_come_out_in_order_and_one_wake_covers_many() {
        let sleeper = Sleeper::default().start();
        let inbox = Inbox::new(8, sleeper.clone().recipient());
        for uid in 1..=3 {
            assert!(inbox.push(appended(uid)));
        }
        assert_eq!(sleeper.send(Count).await.ok(), Some(1));
        let uids: Vec<u32> = inbox.take().iter().map(|c| c.appended[0].0).collect();
        assert_eq!(uids, [1, 2, 3]);
        assert!(inbox.push(appended(4)));
        assert_eq!(
            sleeper.send(Count).await.ok(),
            Some(2),
            "taken, so the next push wakes"
        );
    }

    #[actix_rt::test]
    async fn a_full_inbox_refuses_and_is_lagged() {
        let sleeper = Sleeper::default().start();
        let inbox = Inbox::new(2, sleeper.recipient());
        assert!(inbox.push(appended(1)));
        assert!(inbox.push(appended(2)));
        assert!(!inbox.lagged());
        assert!(!inbox.push(appended(3)));
        assert!(inbox.lagged());
        assert_eq!(inbox.take().len(), 2);
    }
}
