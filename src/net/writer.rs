//! The write side of a connection: a task that owns the socket's write half and takes
//! frames from a bounded channel. A session awaits each send, so a client that reads
//! slowly slows its session down instead of making the server buffer (actix's
//! `FramedWrite` would queue without bound). A peer that leaves output waiting and
//! takes less than [`MAX_FRAME`] bytes of it within the stall limit is disconnected
//! (see [`Progress`]); the session sets the limit to the idle time-out of its
//! state (PreAuthenticatedConnectionTimeout before login, AuthenticatedConnectionTimeout
//! after), so a client that sends commands but never reads cannot hold a connection
//! longer than one that says nothing. Whenever the queue runs empty, at the end of a
//! batch, the task flushes the stream, so a compressed one sends what it holds back.
//!
//! When every [`Outgoing`] is dropped the task writes what is queued and shuts the
//! connection down — or, when `keep_open` was set first (STARTTLS), flushes and hands
//! the write half back. [`Outgoing::close`] ends a connection whose client has left its
//! output unread without waiting for it. A session may be gone while its writer still
//! sends its last words (a BYE at shutdown): [`all_finished`] waits for every writer.

use bytes::Bytes;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::{self, error::TryRecvError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Frames queued per connection. Sessions send frames of at most [`MAX_FRAME`] bytes,
/// so a connection holds at most about 8 × 64 KiB of unsent output.
const QUEUE: usize = 8;
/// The largest frame a session sends at once.
pub const MAX_FRAME: usize = 64 * 1024;

/// Writer tasks running, and the news that the last one ended.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static ALL_FINISHED: Notify = Notify::const_new();

/// Counts a writer task from its start to its end, whichever way it ends.
struct Running;

impl Running {
    fn start() -> Self {
        RUNNING.fetch_add(1, Ordering::AcqRel);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if RUNNING.fetch_sub(1, Ordering::AcqRel) == 1 {
            ALL_FINISHED.notify_waiters();
        }
    }
}

/// Returns once no writer task runs: what the sessions queued has been written (or
/// given up on). The server waits for it before it exits.
pub async fn all_finished() {
    loop {
        let finished = ALL_FINISHED.notified();
        tokio::pin!(finished);
        finished.as_mut().enable();
        if RUNNING.load(Ordering::Acquire) == 0 {
            return;
        }
        finished.await;
    }
}

/// The connection is gone: the frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is closed")]
pub struct Closed;

/// The sending end of a connection's output, and what the session tells its writer.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Frames for the writer task, bounded by [`QUEUE`].
    frames: mpsc::Sender<Bytes>,
    /// Shared with the writer task.
    control: Arc<Control>,
}

/// What a session changes in its writer while the connection runs.
#[derive(Debug)]
struct Control {
    /// The stall limit in milliseconds: the idle time-out of the session's state.
    stall_ms: AtomicU64,
    /// A frame is being written: output is still unsent though the queue may be empty.
    writing: AtomicBool,
    /// Cancelled to close the connection at once, dropping unsent output.
    cut: CancellationToken,
}

impl Control {
    fn new(stall: Duration) -> Arc<Control> {
        Arc::new(Control {
            stall_ms: AtomicU64::new(millis(stall)),
            writing: AtomicBool::new(false),
            cut: CancellationToken::new(),
        })
    }

    fn stall(&self) -> Duration {
        Duration::from_millis(self.stall_ms.load(Ordering::Relaxed))
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// An [`Outgoing`] of no connection: every send fails. It stands in while a session
/// has handed its connection over (STARTTLS).
pub fn closed() -> Outgoing {
    Outgoing {
        frames: mpsc::channel(1).0,
        control: Control::new(Duration::ZERO),
    }
}

impl Outgoing {
    /// Queues `frame` (at most [`MAX_FRAME`] bytes), waiting while the queue is full.
    pub async fn send(&self, frame: Bytes) -> Result<(), Closed> {
        self.frames.send(frame).await.map_err(|_| Closed)
    }

    /// From the next frame on, a peer that takes too little of its output within
    /// `stall` is disconnected.
    pub fn set_stall_limit(&self, stall: Duration) {
        self.control
            .stall_ms
            .store(millis(stall), Ordering::Relaxed);
    }

    /// Ends the output without waiting: `last` (if any) is queued as the connection's
    /// last words when nothing else is left unsent; when output is still queued, the
    /// client has not read it all the while and the connection is cut at once instead.
    /// The writer closes the connection once every sender is dropped.
    pub fn close(&self, last: Option<Bytes>) {
        let unread = self.control.writing.load(Ordering::Relaxed)
            || self.frames.capacity() < self.frames.max_capacity();
        let said = match last {
            Some(bytes) if !unread => self.frames.try_send(bytes).is_ok(),
            _ => !unread,
        };
        if !said {
            tracing::debug!("output left unread; closing at once");
            self.control.cut.cancel();
        }
    }
}

/// How much output the peer has taken since its stall clock started. The clock starts
/// again when the peer has taken everything queued, or [`MAX_FRAME`] bytes: a peer
/// that takes less within the stall limit while output waits is not reading (a few
/// bytes now and then is what a kernel lets through to a client that reads nothing).
struct Progress {
    /// When the clock started.
    since: Instant,
    /// Bytes taken since then.
    taken: usize,
}

impl Progress {
    fn started() -> Progress {
        Progress {
            since: Instant::now(),
            taken: 0,
        }
    }

    fn took(&mut self, bytes: usize) {
        self.taken += bytes;
        if self.taken >= MAX_FRAME {
            *self = Progress::started();
        }
    }
}

/// Carries out one write or flush unless the connection is cut or the peer takes
/// nothing until `deadline`; false when the connection is done.
async fn put(
    control: &Control,
    deadline: Instant,
    io: impl Future<Output = std::io::Result<()>>,
) -> bool {
    control.writing.store(true, Ordering::Relaxed);
    let done = tokio::select! {
        biased;
        () = control.cut.cancelled() => {
            tracing::debug!("connection cut");
            return false;
        }
        done = tokio::time::timeout_at(deadline, io) => done,
    };
    control.writing.store(false, Ordering::Relaxed);
    match done {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "write failed");
            false
        }
        Err(_) => {
            tracing::debug!("peer stopped reading; closing");
            false
        }
    }
}

/// Starts the writer task on the current arbiter; it returns the write half if it was
/// asked to keep the connection open and nothing failed. A peer that leaves output
/// waiting and takes less than [`MAX_FRAME`] bytes of it within `stall` is disconnected
/// (see [`Outgoing::set_stall_limit`]).
pub fn spawn_writer<W: AsyncWrite + Unpin + 'static>(
    mut write: W,
    stall: Duration,
    keep_open: Arc<AtomicBool>,
) -> (Outgoing, JoinHandle<Option<W>>) {
    let (frames, mut queued) = mpsc::channel::<Bytes>(QUEUE);
    let control = Control::new(stall);
    let sender = Outgoing {
        frames,
        control: control.clone(),
    };
    let running = Running::start();
    let task = actix_rt::spawn(async move {
        let _running = running;
        let mut progress = Progress::started();
        loop {
            let frame = match queued.try_recv() {
                Ok(frame) => Some(frame),
                Err(TryRecvError::Disconnected) => None,
                Err(TryRecvError::Empty) => {
                    // The batch is written: what the stream still holds (a compressor's
                    // last block) goes out before the writer waits for more.
                    let deadline = progress.since + control.stall();
                    if !put(&control, deadline, write.flush()).await {
                        return None;
                    }
                    let frame = tokio::select! {
                        biased;
                        () = control.cut.cancelled() => return None,
                        frame = queued.recv() => frame,
                    };
                    // The peer had taken everything: its time starts anew.
                    progress = Progress::started();
                    frame
                }
            };
            let Some(frame) = frame else { break };
            let deadline = progress.since + control.stall();
            if !put(&control, deadline, write.write_all(&frame)).await {
                return None;
            }
            progress.took(frame.len());
        }
        if keep_open.load(Ordering::Acquire) {
            return write.flush().await.ok().map(|()| write);
        }
        let _ = write.shutdown().await;
        None
    });
    (sender, task)
}
