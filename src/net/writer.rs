//! The write side of a connection: a task that owns the socket's write half and takes
//! frames from a bounded channel. A session awaits each send, so a client that reads
//! slowly slows its session down instead of making the server buffer (actix's
//! `FramedWrite` would queue without bound). A peer that takes no bytes for
//! `stall_timeout` is disconnected.
//!
//! When every [`Outgoing`] is dropped the task writes what is queued and shuts the
//! connection down — or, when `keep_open` was set first (STARTTLS), flushes and hands
//! the write half back.

use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Frames queued per connection. Sessions send frames of at most [`MAX_FRAME`] bytes,
/// so a connection holds at most about 8 × 64 KiB of unsent output.
const QUEUE: usize = 8;
/// The largest frame a session sends at once.
pub const MAX_FRAME: usize = 64 * 1024;

/// The sending end of a connection's output.
pub type Outgoing = mpsc::Sender<Bytes>;

/// An [`Outgoing`] of no connection: every send fails. It stands in while a session
/// has handed its connection over (STARTTLS).
pub fn closed() -> Outgoing {
    mpsc::channel(1).0
}

/// Starts the writer task on the current arbiter; it returns the write half if it was
/// asked to keep the connection open and nothing failed.
pub fn spawn_writer<W: AsyncWrite + Unpin + 'static>(
    mut write: W,
    stall_timeout: Duration,
    keep_open: Arc<AtomicBool>,
) -> (Outgoing, JoinHandle<Option<W>>) {
    let (sender, mut frames) = mpsc::channel::<Bytes>(QUEUE);
    let task = actix_rt::spawn(async move {
        while let Some(frame) = frames.recv().await {
            match tokio::time::timeout(stall_timeout, write.write_all(&frame)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "write failed");
                    return None;
                }
                Err(_) => {
                    tracing::debug!("peer stopped reading; closing");
                    return None;
                }
            }
        }
        if keep_open.load(Ordering::Acquire) {
            return write.flush().await.ok().map(|()| write);
        }
        let _ = write.shutdown().await;
        None
    });
    (sender, task)
}
